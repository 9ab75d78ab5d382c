/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * jwt.c: JWT-SVID verification. A token is taken apart strictly (three
 * base64url parts, JSON objects without duplicate keys, a header of alg,
 * kid and typ only), its signature checked with the key its kid names and
 * whose type and curve its alg must fit, and only then are its claims read.
 */
#include "tokend.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/obj_mac.h>
#include <openssl/rsa.h>

/* The JWS algorithms accepted, and what each requires of its key. */
typedef struct JwsAlg {
	const char *name;
	JwkType type;
	int curve_nid;		/* JWK_EC: the only curve allowed */
	const char *md;
	bool pss;
	size_t ec_half;		/* JWK_EC: bytes of r and of s */
} JwsAlg;

static const JwsAlg jws_algs[] = {
	{ "RS256", JWK_RSA, 0, "SHA256", false, 0 },
	{ "RS384", JWK_RSA, 0, "SHA384", false, 0 },
	{ "RS512", JWK_RSA, 0, "SHA512", false, 0 },
	{ "PS256", JWK_RSA, 0, "SHA256", true, 0 },
	{ "PS384", JWK_RSA, 0, "SHA384", true, 0 },
	{ "PS512", JWK_RSA, 0, "SHA512", true, 0 },
	{ "ES256", JWK_EC, NID_X9_62_prime256v1, "SHA256", false, 32 },
	{ "ES384", JWK_EC, NID_secp384r1, "SHA384", false, 48 },
	{ "ES512", JWK_EC, NID_secp521r1, "SHA512", false, 66 },
};

/* The accepted algorithm called name, or NULL ("none", "HS256", ...). */
static const JwsAlg *jws_alg(const char *name)
{
	for (size_t i = 0; i < sizeof jws_algs / sizeof *jws_algs; i++)
		if (!strcmp(jws_algs[i].name, name))
			return &jws_algs[i];
	return NULL;
}

bool jws_alg_fits(const JwkKey *k, const char *alg)
{
	const JwsAlg *a = jws_alg(alg);

	if (!a || a->type != k->type)
		return false;
	if (k->type == JWK_EC && a->curve_nid != k->curve_nid)
		return false;
	return !k->alg || !strcmp(k->alg, alg);
}

const char *jwt_status_code(JwtStatus s)
{
	switch (s) {
	case JWT_INVALID:
		return "invalid_jwt";
	case JWT_BAD_AUDIENCE:
		return "invalid_audience";
	case JWT_EXPIRED:
		return "expired_jwt";
	default:
		BUG("no error code for JWT status %d", (int)s);
	}
}

/* Characters allowed in a SPIFFE trust domain / path segment. */
static bool spiffe_td_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
	       c == '-' || c == '_';
}

static bool spiffe_path_char(char c)
{
	return spiffe_td_char(c) || (c >= 'A' && c <= 'Z');
}

bool spiffe_id_valid(const char *id, const char *trust_domain)
{
	static const char scheme[] = "spiffe://";
	size_t tdl = strlen(trust_domain);
	const char *p, *seg;

	if (strlen(id) > SPIFFE_ID_MAX || strncmp(id, scheme, sizeof scheme - 1))
		return false;
	p = id + sizeof scheme - 1;
	for (size_t i = 0; i < tdl; i++)
		if (!spiffe_td_char(p[i]))
			return false;
	if (tdl == 0 || strncmp(p, trust_domain, tdl) || p[tdl] != '/')
		return false;
	/* a path of one or more non-empty segments, none "." or ".." */
	for (p += tdl; *p == '/';) {
		size_t n;

		for (seg = ++p; spiffe_path_char(*p); p++)
			;
		n = (size_t)(p - seg);
		if (n == 0 || (n == 1 && seg[0] == '.') ||
		    (n == 2 && seg[0] == '.' && seg[1] == '.'))
			return false;
	}
	return *p == '\0';
}

/* Set the outcome in r and return it. */
static JwtStatus jwt_fail(JwtResult *r, JwtStatus st, const char *why)
{
	r->status = st;
	r->why = why;
	return st;
}

/* A JSON object from len bytes of decoded text, duplicate keys refused. */
static json_t *jwt_json_object(const unsigned char *text, size_t len)
{
	json_t *o = json_loadb((const char *)text, len, JSON_REJECT_DUPLICATES, NULL);

	if (o && !json_is_object(o)) {
		json_decref(o);
		o = NULL;
	}
	return o;
}

/* Copy the string member v of at most max bytes without NULs into out. */
static bool jwt_copy_string(json_t *v, char *out, size_t max)
{
	size_t n;

	if (!json_is_string(v))
		return false;
	n = json_string_length(v);
	if (n == 0 || n > max || strlen(json_string_value(v)) != n)
		return false;
	memcpy(out, json_string_value(v), n + 1);
	return true;
}

/* Check the protected header: only alg, kid, typ; returns the algorithm
 * and stores the kid in r, or NULL with r's why set. */
static const JwsAlg *jwt_header(json_t *h, JwtResult *r)
{
	const char *name;
	json_t *v;
	const JwsAlg *a;

	json_object_foreach(h, name, v) {
		if (strcmp(name, "alg") && strcmp(name, "kid") && strcmp(name, "typ")) {
			jwt_fail(r, JWT_INVALID, "header member not allowed "
				 "(only alg, kid and typ are)");
			return NULL;
		}
	}
	v = json_object_get(h, "typ");
	if (v && (!json_is_string(v) || (strcmp(json_string_value(v), "JWT") &&
					  strcmp(json_string_value(v), "JOSE")))) {
		jwt_fail(r, JWT_INVALID, "typ must be JWT or JOSE");
		return NULL;
	}
	v = json_object_get(h, "alg");
	a = json_is_string(v) ? jws_alg(json_string_value(v)) : NULL;
	if (!a) {
		jwt_fail(r, JWT_INVALID, "alg missing or not allowed");
		return NULL;
	}
	if (!jwt_copy_string(json_object_get(h, "kid"), r->kid, JWT_KID_MAX)) {
		r->kid[0] = '\0';
		jwt_fail(r, JWT_INVALID, "kid missing or not a short string");
		return NULL;
	}
	return a;
}

/* Half the group order of each ES curve (P-256, P-384, P-521), fetched
 * once: an s above it is the "high-S" twin of a valid signature. */
static BIGNUM *jwt_half_order[3];
static pthread_once_t jwt_half_once = PTHREAD_ONCE_INIT;
static const int jwt_es_nids[3] = { NID_X9_62_prime256v1, NID_secp384r1,
				    NID_secp521r1 };

static void jwt_half_fetch(void)
{
	for (int i = 0; i < 3; i++) {
		EC_GROUP *g = EC_GROUP_new_by_curve_name(jwt_es_nids[i]);

		jwt_half_order[i] = g ? BN_dup(EC_GROUP_get0_order(g)) : NULL;
		if (jwt_half_order[i])
			BN_rshift1(jwt_half_order[i], jwt_half_order[i]);
		EC_GROUP_free(g);
	}
}

/* Whether s is at most half the order of curve nid (low-S, the one
 * spelling accepted); false for an unknown curve. */
static bool jwt_low_s(const BIGNUM *s, int nid)
{
	pthread_once(&jwt_half_once, jwt_half_fetch);
	for (int i = 0; i < 3; i++)
		if (jwt_es_nids[i] == nid)
			return jwt_half_order[i] && BN_cmp(s, jwt_half_order[i]) <= 0;
	return false;
}

/* The DER form of a JWS ECDSA signature r||s of 2 * half bytes on curve
 * nid; NULL if r or s is zero, or if low_s_only and s is high (n - s
 * verifies too: refusing it keeps one token to one spelling, but only
 * for issuers that sign low-S; Go's crypto/ecdsa, which SPIRE uses, and
 * OpenSSL do not). The caller frees. */
static unsigned char *jwt_es_der(const unsigned char *sig, size_t half, int nid,
				 bool low_s_only, int *derlen)
{
	BIGNUM *r = BN_bin2bn(sig, (int)half, NULL);
	BIGNUM *s = BN_bin2bn(sig + half, (int)half, NULL);
	ECDSA_SIG *es = ECDSA_SIG_new();
	unsigned char *der = NULL, *p;

	if (!r || !s || !es || BN_is_zero(r) || BN_is_zero(s) ||
	    (low_s_only && !jwt_low_s(s, nid)) || ECDSA_SIG_set0(es, r, s) != 1) {
		BN_free(r);
		BN_free(s);
		ECDSA_SIG_free(es);
		return NULL;
	}
	*derlen = i2d_ECDSA_SIG(es, NULL);
	if (*derlen > 0 && (der = malloc((size_t)*derlen))) {
		p = der;
		if (i2d_ECDSA_SIG(es, &p) != *derlen) {
			free(der);
			der = NULL;
		}
	}
	ECDSA_SIG_free(es);
	return der;
}

/* The digests of the algorithms, fetched once: OpenSSL 3 would otherwise
 * look the name up in its provider store on every verification. */
static EVP_MD *jwt_md_cache[3];
static pthread_once_t jwt_md_once = PTHREAD_ONCE_INIT;

static void jwt_md_fetch(void)
{
	static const char *const names[3] = { "SHA256", "SHA384", "SHA512" };

	for (int i = 0; i < 3; i++)
		jwt_md_cache[i] = EVP_MD_fetch(NULL, names[i], NULL);
}

/* The digest of a, or NULL if OpenSSL has none. */
static const EVP_MD *jwt_md(const JwsAlg *a)
{
	pthread_once(&jwt_md_once, jwt_md_fetch);
	return jwt_md_cache[!strcmp(a->md, "SHA256") ? 0 : !strcmp(a->md, "SHA384") ? 1 : 2];
}

/* Whether sig is a valid signature by k with algorithm a over input. */
static bool jwt_sig_ok(const JwsAlg *a, const JwkKey *k, const char *input,
		       size_t inlen, const unsigned char *sig, size_t siglen,
		       bool low_s_only)
{
	EVP_MD_CTX *mctx = NULL;
	EVP_PKEY_CTX *pctx = NULL;
	unsigned char *der = NULL;
	int derlen = 0;
	bool ok = false;

	if (a->type == JWK_EC) {
		if (siglen != 2 * a->ec_half ||
		    !(der = jwt_es_der(sig, a->ec_half, a->curve_nid, low_s_only, &derlen)))
			goto out;
		sig = der;
		siglen = (size_t)derlen;
	} else if (siglen != (size_t)EVP_PKEY_get_size(k->pkey)) {
		goto out;
	}
	mctx = EVP_MD_CTX_new();
	if (!mctx || !jwt_md(a) ||
	    EVP_DigestVerifyInit(mctx, &pctx, jwt_md(a), NULL, k->pkey) != 1)
		goto out;
	if (a->type == JWK_RSA &&
	    (EVP_PKEY_CTX_set_rsa_padding(pctx, a->pss ? RSA_PKCS1_PSS_PADDING
						      : RSA_PKCS1_PADDING) != 1 ||
	     (a->pss && EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) != 1)))
		goto out;
	ok = EVP_DigestVerify(mctx, sig, siglen, (const unsigned char *)input,
			      inlen) == 1;
out:
	EVP_MD_CTX_free(mctx);
	free(der);
	ERR_clear_error();
	return ok;
}

/* A NumericDate claim that must be an integer if present: 1 present,
 * 0 absent, -1 wrong type. */
static int jwt_time_claim(json_t *claims, const char *name, long long *out)
{
	json_t *v = json_object_get(claims, name);

	if (!v)
		return 0;
	if (!json_is_integer(v))
		return -1;
	*out = json_integer_value(v);
	return 1;
}

/* Whether aud (a string or an array of strings) names audience. */
static bool jwt_aud_ok(json_t *aud, const char *audience)
{
	size_t i;
	json_t *v;

	if (json_is_string(aud))
		return !strcmp(json_string_value(aud), audience) &&
		       json_string_length(aud) == strlen(audience);
	if (!json_is_array(aud))
		return false;
	json_array_foreach(aud, i, v) {
		if (!json_is_string(v))
			return false;
	}
	json_array_foreach(aud, i, v) {
		if (json_string_length(v) == strlen(audience) &&
		    !strcmp(json_string_value(v), audience))
			return true;
	}
	return false;
}

#ifdef FPC_FUZZ
bool jwt_fuzz_no_signature;
/* Fuzzing only: whether to go on to the claims with a bad signature. */
static bool jwt_fuzz_skip_sig(void)
{
	return jwt_fuzz_no_signature;
}
#else
/* Outside fuzzing builds a signature that does not verify ends here. */
static bool jwt_fuzz_skip_sig(void)
{
	return false;
}
#endif

/* Check the claims of a token whose signature verified. */
static JwtStatus jwt_claims(json_t *cl, const JwtCheck *c, JwtResult *r)
{
	long long exp = 0, nbf = 0, iat = 0, life;
	bool has_sub;
	int has;

	/* read first, so that a refusal for any reason can be audited with it */
	has_sub = jwt_copy_string(json_object_get(cl, "sub"), r->sub, SPIFFE_ID_MAX);
	if (!has_sub)
		r->sub[0] = '\0';
	has = jwt_time_claim(cl, "exp", &exp);
	if (has <= 0)
		return jwt_fail(r, JWT_INVALID, "exp missing or not an integer");
	r->exp = exp;
	if (exp < (long long)c->now - c->leeway)
		return jwt_fail(r, JWT_EXPIRED, "the token has expired");
	has = jwt_time_claim(cl, "nbf", &nbf);
	if (has < 0 || (has && nbf > (long long)c->now + c->leeway))
		return jwt_fail(r, JWT_INVALID, "nbf is not an integer or in the future");
	has = jwt_time_claim(cl, "iat", &iat);
	if (has < 0 || (has && iat > (long long)c->now + c->leeway))
		return jwt_fail(r, JWT_INVALID, "iat is not an integer or in the future");
	if (!jwt_aud_ok(json_object_get(cl, "aud"), c->audience))
		return jwt_fail(r, JWT_BAD_AUDIENCE, "aud does not name this service");
	if (!has_sub)
		return jwt_fail(r, JWT_INVALID, "sub missing or not a short string");
	if (!spiffe_id_valid(r->sub, c->trust_domain))
		return jwt_fail(r, JWT_INVALID, "sub is not a SPIFFE ID of this trust domain");
	/* a lifetime from iat (or from now without one) past the maximum:
	 * SPIRE's JWT-SVIDs live minutes, a token valid until 2^63 is forged
	 * or leaked for good */
	if (__builtin_sub_overflow(exp, has ? iat : (long long)c->now, &life) ||
	    life > (long long)c->max_lifetime)
		return jwt_fail(r, JWT_INVALID, "exp is further from iat than the "
				"longest lifetime allowed");
	return jwt_fail(r, JWT_OK, "");
}

/* The three parts of tok decoded; false (r's why set) if the token is not
 * a compact JWS of exactly three non-empty base64url parts. */
static bool jwt_split(const char *tok, size_t len, unsigned char *part[3],
		      size_t plen[3], size_t *signed_len, JwtResult *r)
{
	const char *dot1 = memchr(tok, '.', len), *dot2;

	dot2 = dot1 ? memchr(dot1 + 1, '.', len - (size_t)(dot1 + 1 - tok)) : NULL;
	if (!dot2 || memchr(dot2 + 1, '.', len - (size_t)(dot2 + 1 - tok))) {
		jwt_fail(r, JWT_INVALID, "not a compact JWS (three parts, two dots)");
		return false;
	}
	part[0] = b64url_decode(tok, (size_t)(dot1 - tok), &plen[0]);
	part[1] = b64url_decode(dot1 + 1, (size_t)(dot2 - dot1 - 1), &plen[1]);
	part[2] = b64url_decode(dot2 + 1, len - (size_t)(dot2 + 1 - tok), &plen[2]);
	*signed_len = (size_t)(dot2 - tok);
	if (!part[0] || !part[1] || !part[2]) {
		jwt_fail(r, JWT_INVALID, "a part is empty or not base64url");
		return false;
	}
	return true;
}

JwtStatus jwt_verify(const char *tok, size_t len, const Jwks *keys,
		     const JwtCheck *c, JwtResult *r)
{
	unsigned char *part[3] = { NULL, NULL, NULL };
	size_t plen[3], signed_len;
	json_t *hdr = NULL, *claims = NULL;
	const JwsAlg *a;
	const JwkKey *k;

	memset(r, 0, sizeof *r);
	jwt_fail(r, JWT_INVALID, "");
	if (len == 0)
		return jwt_fail(r, JWT_INVALID, "empty token");
	if (len > JWT_MAX_LEN)
		return jwt_fail(r, JWT_INVALID, "token longer than 8192 bytes");
	if (!jwt_split(tok, len, part, plen, &signed_len, r))
		goto out;
	if (!(hdr = jwt_json_object(part[0], plen[0]))) {
		jwt_fail(r, JWT_INVALID, "header is not a JSON object without duplicate keys");
		goto out;
	}
	if (!(a = jwt_header(hdr, r)))
		goto out;
	if (!(k = jwks_find(keys, r->kid))) {
		jwt_fail(r, JWT_INVALID, "kid names no key of the trust bundle");
		goto out;
	}
	if (!jws_alg_fits(k, a->name)) {
		jwt_fail(r, JWT_INVALID, "alg does not fit the key's type or curve");
		goto out;
	}
	if (!jwt_sig_ok(a, k, tok, signed_len, part[2], plen[2], c->low_s_only) &&
	    !jwt_fuzz_skip_sig()) {
		jwt_fail(r, JWT_INVALID, "the signature does not verify");
		goto out;
	}
	if (!(claims = jwt_json_object(part[1], plen[1]))) {
		jwt_fail(r, JWT_INVALID, "payload is not a JSON object without duplicate keys");
		goto out;
	}
	jwt_claims(claims, c, r);
out:
	json_decref(hdr);
	json_decref(claims);
	for (int i = 0; i < 3; i++)
		free(part[i]);
	return r->status;
}
