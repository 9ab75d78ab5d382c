/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * jwt_sign.c: the test signer of the fp-tokend suite. It plays SPIRE: it
 * publishes public keys as a JWKS and signs JWT-SVIDs with the private
 * keys (EC P-256/384/521, RSA; the keys are made by the test with the
 * openssl CLI). It also makes the tokens an attacker would send.
 *
 *   jwt_sign jwks [--spiffe] KEYSPEC...
 *       KEYSPEC = PEM[,kid=K][,use=U][,alg=A][,nokid][,offcurve]
 *       print {"keys":[...]} (with --spiffe: a SPIFFE bundle with an
 *       x509-svid entry beside them and spiffe_sequence)
 *   jwt_sign sign -k PEM [options]
 *       -i KID  -a ALG (default from the key)  -s SUB  -A AUD (repeatable)
 *       -e SECS exp = now + SECS (default 300; negative: in the past)
 *       --nbf SECS, --iat SECS  nbf / iat = now + SECS (iat default 0)
 *       --no-exp, --no-aud, --no-sub, --typ T
 *       --header JSON   the protected header, verbatim (@FILE reads a file)
 *       --claims JSON   the payload, verbatim (@FILE reads a file)
 *       --sig none|zero|hmac-pub|der   an empty, all-zero, or HS256
 *                       signature keyed with the public key's PEM text, or
 *                       (EC) the signature left in DER instead of r||s
 *       --tamper-sub SUB  sign, then swap in a payload naming SUB
 *       --now T         the clock (default: time(NULL))
 *
 * Exit status 0, or 1 with a message.
 */
#include "../../runtime/tokend/tokend.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

static _Noreturn void die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static _Noreturn void die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "jwt_sign: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

/* A private key, or the public key of a public PEM. */
static EVP_PKEY *load_key(const char *path)
{
	FILE *f = fopen(path, "r");
	EVP_PKEY *k;

	if (!f)
		die("%s: cannot open", path);
	k = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	if (!k) {
		rewind(f);
		k = PEM_read_PUBKEY(f, NULL, NULL, NULL);
	}
	fclose(f);
	if (!k)
		die("%s: not a PEM key", path);
	return k;
}

/* The JWK curve name of an EC key, and its coordinate length. */
static const char *key_crv(EVP_PKEY *k, size_t *coord)
{
	char group[64];

	if (EVP_PKEY_get_utf8_string_param(k, OSSL_PKEY_PARAM_GROUP_NAME, group,
					   sizeof group, NULL) != 1)
		die("EC key without a group");
	*coord = ((size_t)EVP_PKEY_get_bits(k) + 7) / 8;
	if (!strcmp(group, "prime256v1") || !strcmp(group, "P-256"))
		return "P-256";
	if (!strcmp(group, "secp384r1") || !strcmp(group, "P-384"))
		return "P-384";
	if (!strcmp(group, "secp521r1") || !strcmp(group, "P-521"))
		return "P-521";
	die("unsupported curve %s", group);
}

/* base64url of a big number as len bytes (0: minimal length). */
static json_t *bn_b64(EVP_PKEY *k, const char *param, size_t len)
{
	BIGNUM *bn = NULL;
	unsigned char buf[1024];
	char *s;
	json_t *j;

	if (EVP_PKEY_get_bn_param(k, param, &bn) != 1)
		die("key has no %s", param);
	if (!len)
		len = (size_t)BN_num_bytes(bn);
	if (len > sizeof buf || BN_bn2binpad(bn, buf, (int)len) < 0)
		die("%s too large", param);
	BN_free(bn);
	s = b64url_encode(buf, len);
	j = json_string(s);
	free(s);
	return j;
}

/* One JWK for KEYSPEC PEM[,kid=K][,use=U][,alg=A][,nokid][,offcurve]. */
static json_t *jwk_of(const char *spec, int index)
{
	char *copy = xstrdup(spec), *save = NULL;
	char *path = strtok_r(copy, ",", &save), *opt;
	EVP_PKEY *k = load_key(path);
	json_t *o = json_object();
	char kid[32];
	bool nokid = false, offcurve = false;
	const char *use = NULL, *alg = NULL, *kidv = NULL;

	snprintf(kid, sizeof kid, "key-%d", index);
	while ((opt = strtok_r(NULL, ",", &save))) {
		if (!strncmp(opt, "kid=", 4))
			kidv = opt + 4;
		else if (!strncmp(opt, "use=", 4))
			use = opt + 4;
		else if (!strncmp(opt, "alg=", 4))
			alg = opt + 4;
		else if (!strcmp(opt, "nokid"))
			nokid = true;
		else if (!strcmp(opt, "offcurve"))
			offcurve = true;
		else
			die("unknown key option '%s'", opt);
	}
	if (EVP_PKEY_is_a(k, "EC")) {
		size_t coord;
		const char *crv = key_crv(k, &coord);

		json_object_set_new(o, "kty", json_string("EC"));
		json_object_set_new(o, "crv", json_string(crv));
		json_object_set_new(o, "x", bn_b64(k, OSSL_PKEY_PARAM_EC_PUB_X, coord));
		if (offcurve) {	/* y + 1: almost surely not on the curve */
			BIGNUM *y = NULL;
			unsigned char buf[66];
			char *s;

			EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_EC_PUB_Y, &y);
			BN_add_word(y, 1);
			BN_bn2binpad(y, buf, (int)coord);
			s = b64url_encode(buf, coord);
			json_object_set_new(o, "y", json_string(s));
			free(s);
			BN_free(y);
		} else {
			json_object_set_new(o, "y", bn_b64(k, OSSL_PKEY_PARAM_EC_PUB_Y, coord));
		}
	} else if (EVP_PKEY_is_a(k, "RSA")) {
		json_object_set_new(o, "kty", json_string("RSA"));
		json_object_set_new(o, "n", bn_b64(k, OSSL_PKEY_PARAM_RSA_N, 0));
		json_object_set_new(o, "e", bn_b64(k, OSSL_PKEY_PARAM_RSA_E, 0));
	} else {
		die("%s: neither EC nor RSA", path);
	}
	if (!nokid)
		json_object_set_new(o, "kid", json_string(kidv ? kidv : kid));
	if (use)
		json_object_set_new(o, "use", json_string(use));
	if (alg)
		json_object_set_new(o, "alg", json_string(alg));
	EVP_PKEY_free(k);
	free(copy);
	return o;
}

static int cmd_jwks(int argc, char **argv)
{
	json_t *keys = json_array(), *root = json_object();
	bool spiffe = argc > 1 && !strcmp(argv[1], "--spiffe");
	char *text;

	for (int i = spiffe ? 2 : 1; i < argc; i++) {
		if (spiffe && i == 2) {
			/* what SPIRE lists for X.509-SVIDs: never a JWT key */
			json_t *x = jwk_of(argv[i], 0);

			json_object_del(x, "kid");
			json_object_set_new(x, "use", json_string("x509-svid"));
			json_object_set_new(x, "x5c", json_pack("[s]", "MIIBnotacert"));
			json_array_append_new(keys, x);
		}
		json_array_append_new(keys, jwk_of(argv[i], i - (spiffe ? 2 : 1)));
	}
	json_object_set_new(root, "keys", keys);
	if (spiffe) {
		json_object_set_new(root, "spiffe_sequence", json_integer(1));
		json_object_set_new(root, "spiffe_refresh_hint", json_integer(300));
	}
	text = json_dumps(root, JSON_INDENT(2));
	puts(text);
	free(text);
	json_decref(root);
	return 0;
}

/* A verbatim JSON argument or @FILE. */
static char *raw_arg(const char *arg)
{
	size_t len;
	char *s;

	if (arg[0] != '@')
		return xstrdup(arg);
	s = read_file(arg + 1, &len);
	if (!s)
		die("%s: cannot read", arg + 1);
	while (len && s[len - 1] == '\n')
		s[--len] = '\0';
	return s;
}

/* The default JWS algorithm of key k. */
static const char *default_alg(EVP_PKEY *k)
{
	size_t coord;

	if (EVP_PKEY_is_a(k, "RSA"))
		return "RS256";
	key_crv(k, &coord);
	return coord == 32 ? "ES256" : coord == 48 ? "ES384" : "ES512";
}

/* The digest of a JWS algorithm name. */
static const char *alg_md(const char *alg)
{
	size_t n = strlen(alg);

	if (n < 5)
		die("algorithm %s", alg);
	return !strcmp(alg + 2, "256") ? "SHA256" : !strcmp(alg + 2, "384") ? "SHA384"
										      : "SHA512";
}

/* The JWS signature of input by k: ES as r||s (as DER if der), RS/PS as
 * PKCS#1 / PSS. */
static unsigned char *sign(EVP_PKEY *k, const char *alg, const char *input,
			   bool der, size_t *siglen)
{
	EVP_MD_CTX *m = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pc = NULL;
	unsigned char *sig;
	size_t len = 0;

	if (EVP_DigestSignInit_ex(m, &pc, alg_md(alg), NULL, NULL, k, NULL) != 1)
		die("cannot sign with %s", alg);
	if (EVP_PKEY_is_a(k, "RSA") && alg[0] == 'P') {
		EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_PSS_PADDING);
		EVP_PKEY_CTX_set_rsa_pss_saltlen(pc, RSA_PSS_SALTLEN_DIGEST);
	}
	EVP_DigestSign(m, NULL, &len, (const unsigned char *)input, strlen(input));
	sig = xmalloc(len);
	if (EVP_DigestSign(m, sig, &len, (const unsigned char *)input,
			   strlen(input)) != 1)
		die("signing failed");
	EVP_MD_CTX_free(m);
	if (EVP_PKEY_is_a(k, "EC") && !der) {
		const unsigned char *p = sig;
		ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &p, (long)len);
		size_t coord;
		unsigned char *rs;

		key_crv(k, &coord);
		rs = xmalloc(2 * coord);
		BN_bn2binpad(ECDSA_SIG_get0_r(es), rs, (int)coord);
		BN_bn2binpad(ECDSA_SIG_get0_s(es), rs + coord, (int)coord);
		ECDSA_SIG_free(es);
		free(sig);
		sig = rs;
		len = 2 * coord;
	}
	*siglen = len;
	return sig;
}

/* HS256 keyed with the PEM text of k's public key (the classic confusion). */
static unsigned char *hmac_pub(EVP_PKEY *k, const char *input, size_t *siglen)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *pem;
	long pl;
	unsigned char *sig = xmalloc(EVP_MAX_MD_SIZE);
	unsigned int len = 0;

	PEM_write_bio_PUBKEY(b, k);
	pl = BIO_get_mem_data(b, &pem);
	HMAC(EVP_sha256(), pem, (int)pl, (const unsigned char *)input,
	     strlen(input), sig, &len);
	BIO_free(b);
	*siglen = len;
	return sig;
}

typedef struct SignOpts {
	const char *key, *kid, *alg, *sub, *typ, *sig, *tamper_sub;
	const char *aud[8];
	int n_aud;
	long exp_in, nbf_in, iat_in;
	bool has_nbf, no_exp, no_aud, no_sub;
	char *header, *claims;
	long long now;
} SignOpts;

/* The payload JSON of o with subject sub. */
static char *claims_of(const SignOpts *o, const char *sub)
{
	json_t *c = json_object();
	char *text;

	if (!o->no_sub)
		json_object_set_new(c, "sub", json_string(sub));
	if (!o->no_aud) {
		if (o->n_aud == 1) {
			json_object_set_new(c, "aud", json_string(o->aud[0]));
		} else {
			json_t *a = json_array();

			for (int i = 0; i < o->n_aud; i++)
				json_array_append_new(a, json_string(o->aud[i]));
			json_object_set_new(c, "aud", a);
		}
	}
	if (!o->no_exp)
		json_object_set_new(c, "exp", json_integer(o->now + o->exp_in));
	json_object_set_new(c, "iat", json_integer(o->now + o->iat_in));
	if (o->has_nbf)
		json_object_set_new(c, "nbf", json_integer(o->now + o->nbf_in));
	text = json_dumps(c, JSON_COMPACT);
	json_decref(c);
	return text;
}

/* The protected header of o. */
static char *header_of(const SignOpts *o, const char *alg)
{
	json_t *h = json_object();
	char *text;

	json_object_set_new(h, "alg", json_string(alg));
	if (o->kid)
		json_object_set_new(h, "kid", json_string(o->kid));
	if (o->typ)
		json_object_set_new(h, "typ", json_string(o->typ));
	text = json_dumps(h, JSON_COMPACT);
	json_decref(h);
	return text;
}

/* b64url of a NUL-terminated text. */
static char *b64s(const char *s)
{
	return b64url_encode((const unsigned char *)s, strlen(s));
}

static int make_token(SignOpts *o)
{
	EVP_PKEY *k = load_key(o->key);
	const char *alg = o->alg ? o->alg : default_alg(k);
	char *hdr = o->header ? o->header : header_of(o, alg);
	char *pay = o->claims ? o->claims : claims_of(o, o->sub);
	char *h64 = b64s(hdr), *p64 = b64s(pay), *s64, *input;
	unsigned char *sig;
	size_t siglen, n = strlen(h64) + strlen(p64) + 2;

	input = xmalloc(n);
	snprintf(input, n, "%s.%s", h64, p64);
	if (!o->sig || !strcmp(o->sig, "der")) {
		sig = sign(k, alg, input, o->sig != NULL, &siglen);
	} else if (!strcmp(o->sig, "none")) {
		sig = NULL;
		siglen = 0;
	} else if (!strcmp(o->sig, "zero")) {
		size_t coord;

		key_crv(k, &coord);
		siglen = 2 * coord;
		sig = xcalloc(1, siglen);
	} else if (!strcmp(o->sig, "hmac-pub")) {
		sig = hmac_pub(k, input, &siglen);
	} else {
		die("unknown --sig %s", o->sig);
	}
	s64 = siglen ? b64url_encode(sig, siglen) : xstrdup("");
	if (o->tamper_sub) {
		free(p64);
		char *t = claims_of(o, o->tamper_sub);

		p64 = b64s(t);
		free(t);
	}
	printf("%s.%s.%s\n", h64, p64, s64);
	free(input);
	free(sig);
	free(s64);
	free(h64);
	free(p64);
	free(hdr);
	free(pay);
	EVP_PKEY_free(k);
	return 0;
}

/* A whole number argument. */
static long num(const char *s)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (end == s || *end)
		die("not a number: %s", s);
	return v;
}

static int cmd_sign(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "nbf", required_argument, NULL, 1 },
		{ "iat", required_argument, NULL, 2 },
		{ "no-exp", no_argument, NULL, 3 },
		{ "no-aud", no_argument, NULL, 4 },
		{ "no-sub", no_argument, NULL, 5 },
		{ "typ", required_argument, NULL, 6 },
		{ "header", required_argument, NULL, 7 },
		{ "claims", required_argument, NULL, 8 },
		{ "sig", required_argument, NULL, 9 },
		{ "tamper-sub", required_argument, NULL, 10 },
		{ "now", required_argument, NULL, 11 },
		{ NULL, 0, NULL, 0 },
	};
	SignOpts o = { .exp_in = 300, .sub = "spiffe://flashpods.local/agent",
		       .now = (long long)time(NULL) };
	int c;

	while ((c = getopt_long(argc, argv, "k:i:a:s:A:e:", opts, NULL)) != -1) {
		switch (c) {
		case 'k': o.key = optarg; break;
		case 'i': o.kid = optarg; break;
		case 'a': o.alg = optarg; break;
		case 's': o.sub = optarg; break;
		case 'A':
			if (o.n_aud == 8)
				die("too many -A");
			o.aud[o.n_aud++] = optarg;
			break;
		case 'e': o.exp_in = num(optarg); break;
		case 1: o.nbf_in = num(optarg); o.has_nbf = true; break;
		case 2: o.iat_in = num(optarg); break;
		case 3: o.no_exp = true; break;
		case 4: o.no_aud = true; break;
		case 5: o.no_sub = true; break;
		case 6: o.typ = optarg; break;
		case 7: o.header = raw_arg(optarg); break;
		case 8: o.claims = raw_arg(optarg); break;
		case 9: o.sig = optarg; break;
		case 10: o.tamper_sub = optarg; break;
		case 11: o.now = num(optarg); break;
		default: die("see the comment at the top of tests/tools/jwt_sign.c");
		}
	}
	if (!o.key || optind != argc)
		die("usage: jwt_sign sign -k KEY.pem [options]");
	if (o.n_aud == 0)
		o.aud[o.n_aud++] = TOKEND_AUDIENCE;
	return make_token(&o);
}

int main(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "jwks"))
		return cmd_jwks(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "sign"))
		return cmd_sign(argc - 1, argv + 1);
	die("usage: jwt_sign jwks [--spiffe] KEYSPEC... | jwt_sign sign -k KEY [options]");
}
