/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * jwks.c: the trust bundle: a JWKS, or the SPIFFE bundle format that
 * `spire-server bundle show -format spiffe` prints (the same "keys" array
 * with x509-svid entries beside the jwt-svid ones). Only keys usable for
 * JWT-SVIDs are kept, each turned into an EVP_PKEY and checked.
 */
#include "tokend.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/obj_mac.h>
#include <openssl/param_build.h>

enum {
	JWKS_FILE_MAX = 1 << 20,
	JWKS_KEYS_MAX = 1024,
	RSA_MIN_BITS = 2048,
	RSA_MAX_BITS = 8192,
	RSA_E_MAX_BYTES = 8,
};

/* Curves a JWK may name, with the field size of their coordinates. */
static const struct {
	const char *crv;
	int nid;
	size_t coord_len;
} jwk_curves[] = {
	{ "P-256", NID_X9_62_prime256v1, 32 },
	{ "P-384", NID_secp384r1, 48 },
	{ "P-521", NID_secp521r1, 66 },
};

/* Whether OpenSSL's public-key check accepts pkey (EC: point on curve and
 * in the right subgroup; RSA: odd modulus and exponent, not a prime). */
static bool pkey_public_ok(EVP_PKEY *pkey)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
	bool ok = ctx && EVP_PKEY_public_check(ctx) == 1;

	EVP_PKEY_CTX_free(ctx);
	return ok;
}

/* Build a public key of algorithm name ("EC", "RSA") from params. */
static EVP_PKEY *pkey_from_params(const char *name, OSSL_PARAM_BLD *bld)
{
	OSSL_PARAM *params = OSSL_PARAM_BLD_to_param(bld);
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, name, NULL);
	EVP_PKEY *pkey = NULL;

	if (!params || !ctx || EVP_PKEY_fromdata_init(ctx) != 1 ||
	    EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1)
		pkey = NULL;
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	return pkey;
}

/* The bytes of a base64url member of key, or NULL (message in err). */
static unsigned char *jwk_bytes(json_t *key, const char *member, size_t *len,
				const char *where, char *err, size_t errlen)
{
	json_t *v = json_object_get(key, member);
	unsigned char *out;

	if (!json_is_string(v))
		return tokend_errf(err, errlen, "%s: \"%s\" missing or not a string",
			           where, member);
	out = b64url_decode(json_string_value(v), json_string_length(v), len);
	if (!out)
		return tokend_errf(err, errlen, "%s: \"%s\" is not base64url", where,
			           member);
	return out;
}

/* An EC public key from crv, x, y (exact coordinate lengths). */
static bool jwk_ec(json_t *key, JwkKey *k, const char *where, char *err,
		   size_t errlen)
{
	const char *crv = json_string_value(json_object_get(key, "crv"));
	unsigned char *x = NULL, *y = NULL, pt[1 + 2 * 66];
	size_t xl, yl, c;
	OSSL_PARAM_BLD *bld;

	for (c = 0; c < sizeof jwk_curves / sizeof *jwk_curves; c++)
		if (crv && !strcmp(crv, jwk_curves[c].crv))
			break;
	if (c == sizeof jwk_curves / sizeof *jwk_curves) {
		tokend_errf(err, errlen, "%s: \"crv\" must be P-256, P-384 or P-521", where);
		return false;
	}
	x = jwk_bytes(key, "x", &xl, where, err, errlen);
	y = x ? jwk_bytes(key, "y", &yl, where, err, errlen) : NULL;
	if (!y) {
		free(x);
		return false;
	}
	if (xl != jwk_curves[c].coord_len || yl != jwk_curves[c].coord_len) {
		tokend_errf(err, errlen, "%s: %s coordinates must be %zu bytes", where,
		            crv, jwk_curves[c].coord_len);
		free(x);
		free(y);
		return false;
	}
	pt[0] = 0x04;	/* uncompressed point */
	memcpy(pt + 1, x, xl);
	memcpy(pt + 1 + xl, y, yl);
	free(x);
	free(y);
	bld = OSSL_PARAM_BLD_new();
	if (bld && OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME,
						   crv, 0) == 1 &&
	    OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pt,
					     1 + xl + yl) == 1)
		k->pkey = pkey_from_params("EC", bld);
	OSSL_PARAM_BLD_free(bld);
	if (!k->pkey || !pkey_public_ok(k->pkey)) {
		tokend_errf(err, errlen, "%s: the point is not on curve %s", where, crv);
		return false;
	}
	k->type = JWK_EC;
	k->curve_nid = jwk_curves[c].nid;
	k->bits = EVP_PKEY_get_bits(k->pkey);
	return true;
}

/* An RSA public key from n and e, at least RSA_MIN_BITS. */
static bool jwk_rsa(json_t *key, JwkKey *k, const char *where, char *err,
		    size_t errlen)
{
	unsigned char *n = NULL, *e = NULL;
	size_t nl, el;
	BIGNUM *bn = NULL, *be = NULL;
	OSSL_PARAM_BLD *bld = NULL;
	bool ok = false;

	n = jwk_bytes(key, "n", &nl, where, err, errlen);
	e = n ? jwk_bytes(key, "e", &el, where, err, errlen) : NULL;
	if (!e)
		goto out;
	bn = BN_bin2bn(n, (int)nl, NULL);
	be = BN_bin2bn(e, (int)el, NULL);
	if (!bn || !be)
		goto out;
	if (BN_num_bits(bn) < RSA_MIN_BITS || BN_num_bits(bn) > RSA_MAX_BITS) {
		tokend_errf(err, errlen, "%s: RSA modulus of %d bits (%d to %d allowed)",
		            where, BN_num_bits(bn), RSA_MIN_BITS, RSA_MAX_BITS);
		goto out;
	}
	if (el > RSA_E_MAX_BYTES || !BN_is_odd(be) || BN_is_one(be)) {
		tokend_errf(err, errlen, "%s: unusable RSA exponent", where);
		goto out;
	}
	bld = OSSL_PARAM_BLD_new();
	if (bld && OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn) == 1 &&
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, be) == 1)
		k->pkey = pkey_from_params("RSA", bld);
	if (!k->pkey || !pkey_public_ok(k->pkey)) {
		tokend_errf(err, errlen, "%s: not a valid RSA public key", where);
		goto out;
	}
	k->type = JWK_RSA;
	k->bits = EVP_PKEY_get_bits(k->pkey);
	ok = true;
out:
	if (!ok && !err[0])
		tokend_errf(err, errlen, "%s: out of memory", where);
	OSSL_PARAM_BLD_free(bld);
	BN_free(bn);
	BN_free(be);
	free(n);
	free(e);
	return ok;
}

/* Members a JWT-SVID public key must not carry: private parts, symmetric
 * keys. Their presence means the file is not what it should be. */
static const char *const jwk_private_members[] = {
	"d", "p", "q", "dp", "dq", "qi", "oth", "k",
};

/* Fill k from one JWK; false with a message naming where. */
static bool jwk_parse(json_t *key, JwkKey *k, const char *where, char *err,
		      size_t errlen)
{
	json_t *kid = json_object_get(key, "kid"), *alg = json_object_get(key, "alg");
	const char *kty = json_string_value(json_object_get(key, "kty"));

	for (size_t i = 0; i < sizeof jwk_private_members / sizeof *jwk_private_members; i++)
		if (json_object_get(key, jwk_private_members[i])) {
			tokend_errf(err, errlen, "%s: holds private or symmetric key "
			            "material (\"%s\"); a trust bundle has public keys only",
			            where, jwk_private_members[i]);
			return false;
		}
	if (!json_is_string(kid) || json_string_length(kid) == 0 ||
	    json_string_length(kid) > JWT_KID_MAX ||
	    strlen(json_string_value(kid)) != json_string_length(kid)) {
		tokend_errf(err, errlen, "%s: every key needs a \"kid\" (1 to %d bytes)",
		            where, JWT_KID_MAX);
		return false;
	}
	if (!kty || (strcmp(kty, "EC") && strcmp(kty, "RSA"))) {
		tokend_errf(err, errlen, "%s: \"kty\" must be \"EC\" or \"RSA\"", where);
		return false;
	}
	if (!(strcmp(kty, "EC") ? jwk_rsa : jwk_ec)(key, k, where, err, errlen))
		return false;
	if (alg && (!json_is_string(alg) || !jws_alg_fits(k, json_string_value(alg)))) {
		tokend_errf(err, errlen, "%s: \"alg\" does not fit the key's type and curve",
		            where);
		return false;
	}
	k->kid = strdup(json_string_value(kid));
	k->alg = alg ? strdup(json_string_value(alg)) : NULL;
	if (!k->kid || (alg && !k->alg)) {
		tokend_errf(err, errlen, "%s: out of memory", where);
		return false;
	}
	return true;
}

/* Free the keys of s and s itself. */
static void jwks_free(Jwks *s)
{
	for (int i = 0; i < s->n_keys; i++) {
		free(s->keys[i].kid);
		free(s->keys[i].alg);
		EVP_PKEY_free(s->keys[i].pkey);
	}
	free(s->keys);
	free(s);
}

/* Whether JWK key is meant for JWT-SVIDs: "use" absent or "jwt-svid". A
 * "use" that is not a string is an error (-1). */
static int jwk_for_jwt(json_t *key)
{
	json_t *use = json_object_get(key, "use");

	if (!use)
		return 1;
	if (!json_is_string(use))
		return -1;
	return !strcmp(json_string_value(use), "jwt-svid");
}

Jwks *jwks_parse(const char *text, size_t len, char *err, size_t errlen)
{
	json_error_t je;
	json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je), *keys;
	Jwks *s;
	size_t i;

	err[0] = '\0';
	if (!root)
		return tokend_errf(err, errlen, "line %d: %s", je.line, je.text);
	keys = json_object_get(root, "keys");
	if (!json_is_object(root) || !json_is_array(keys)) {
		json_decref(root);
		return tokend_errf(err, errlen, "not a JWKS: no \"keys\" array");
	}
	if (json_array_size(keys) > JWKS_KEYS_MAX) {
		json_decref(root);
		return tokend_errf(err, errlen, "more than %d keys", JWKS_KEYS_MAX);
	}
	s = calloc(1, sizeof *s);
	if (s)
		s->keys = calloc(json_array_size(keys) + 1, sizeof *s->keys);
	if (!s || !s->keys) {
		free(s);
		json_decref(root);
		return tokend_errf(err, errlen, "out of memory");
	}
	s->refs = 1;
	for (i = 0; i < json_array_size(keys); i++) {
		json_t *key = json_array_get(keys, i);
		char where[32];
		int use = json_is_object(key) ? jwk_for_jwt(key) : -1;

		snprintf(where, sizeof where, "keys[%zu]", i);
		if (use < 0) {
			tokend_errf(err, errlen, "%s: not a JWK object with a string \"use\"",
			            where);
			break;
		}
		if (use == 0) {
			s->skipped++;
			continue;
		}
		if (!jwk_parse(key, &s->keys[s->n_keys], where, err, errlen)) {
			EVP_PKEY_free(s->keys[s->n_keys].pkey);
			free(s->keys[s->n_keys].kid);
			free(s->keys[s->n_keys].alg);
			memset(&s->keys[s->n_keys], 0, sizeof s->keys[0]);
			break;
		}
		if (jwks_find(s, s->keys[s->n_keys].kid)) {
			tokend_errf(err, errlen, "%s: kid \"%s\" appears twice", where,
			            s->keys[s->n_keys].kid);
			s->n_keys++;
			break;
		}
		s->n_keys++;
	}
	json_decref(root);
	if (!err[0] && s->n_keys == 0)
		tokend_errf(err, errlen, "no key usable for JWT-SVIDs (use absent "
			    "or \"jwt-svid\")");
	if (err[0]) {
		jwks_free(s);
		return NULL;
	}
	return s;
}

Jwks *jwks_load(const char *path, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	struct stat st;
	char *text, msg[TOKEND_ERR_MAX];
	ssize_t got = 0, r;
	Jwks *s;

	if (fd < 0)
		return tokend_errf(err, errlen, "%s: %s", path, strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > JWKS_FILE_MAX) {
		close(fd);
		return tokend_errf(err, errlen, "%s: not a regular file of at most %d bytes",
			           path, JWKS_FILE_MAX);
	}
	text = malloc((size_t)st.st_size + 1);
	if (!text) {
		close(fd);
		return tokend_errf(err, errlen, "%s: out of memory", path);
	}
	while (got < st.st_size && (r = read(fd, text + got, (size_t)(st.st_size - got))) != 0) {
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int e = errno;

			free(text);
			close(fd);
			return tokend_errf(err, errlen, "%s: %s", path, strerror(e));
		}
		got += r;
	}
	close(fd);
	s = jwks_parse(text, (size_t)got, msg, sizeof msg);
	free(text);
	if (!s)
		return tokend_errf(err, errlen, "%s: %s", path, msg);
	return s;
}

const JwkKey *jwks_find(const Jwks *s, const char *kid)
{
	for (int i = 0; i < s->n_keys; i++)
		if (!strcmp(s->keys[i].kid, kid))
			return &s->keys[i];
	return NULL;
}

void jwks_ref(Jwks *s)
{
	__atomic_add_fetch(&s->refs, 1, __ATOMIC_RELAXED);
}

void jwks_unref(Jwks *s)
{
	if (s && __atomic_sub_fetch(&s->refs, 1, __ATOMIC_ACQ_REL) == 0)
		jwks_free(s);
}
