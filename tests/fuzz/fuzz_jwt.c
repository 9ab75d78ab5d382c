/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fuzz_jwt.c: libFuzzer harness for fp-tokend's JWT-SVID verifier and its
 * trust-bundle parser. An input starting with '{' is parsed as a JWKS;
 * anything else is verified as a token against the fixed keys below
 * (tests/tokend/fixtures/fuzz-jwks.json) at a fixed clock, so the seed
 * tokens in tests/tokend/fixtures/ verify. An input starting with '~' is
 * verified with the signature check switched off (fuzzing builds only:
 * jwt_fuzz_no_signature), so that the claims and the SPIFFE ID parser,
 * which a bad signature never reaches, are fuzzed too. Whatever the input,
 * no crash, no leak, and a token that verifies names a SPIFFE ID of the
 * domain with a lifetime within the maximum.
 */
#include "../../runtime/tokend/tokend.h"

#include <stdlib.h>

/* The public keys of the seed tokens (P-256 "p256", P-384 "p384", RSA "rsa"). */
static const char fuzz_jwks[] =
	"{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"eF42MLau0OoHJJY"
	"t45cKA3Ov8FRKeUn6JP7PtJGrSfM\",\"y\":\"YHLAbMLHPSRca2IsPFS2Xajvo6csl"
	"g3CRI5bLdScllc\",\"kid\":\"p256\"},{\"kty\":\"EC\",\"crv\":\"P-384\""
	",\"x\":\"p0fxnJD4Ka927cL9Xp89x8RUkSXSFS0YDu-0fHB3pzJ6u4tIYHk2OYNNwRs"
	"E1Jlx\",\"y\":\"Jm81IxFFph1m3R-kyOwlv-J4oNK167uVo_S6DqT2BxvbmK7fuhYd"
	"SUb51xKGlc7C\",\"kid\":\"p384\"},{\"kty\":\"RSA\",\"n\":\"w51OxG-QlG"
	"TeqT2SLm1dWY3ulmiTptn_UFQ8Uu6reHQkiA4JdNlprxnp1MF1eKhYWED93Zjbm2viMu"
	"IEmBjTqMeaPkgAGfmlEhn1H1_e9BLphrtlL1v8v4BzzkwXCrfVKvu2lbTFzkOrYPH8zF"
	"CKeVY7_3Z7pZuhfdQ24FlbO5bKFZQGgZkUjlbLeB7camazMVV5n3lPHE9YQ3Xsz2icpA"
	"pFNAxHvqY6FokG1bnIs2Miic3RPhxqXYzI1_UZ2oL-7MYs3nAYYEhgJy4m8M5MvH7ip0"
	"ubo7cAqUwi6vPxv6OE-0YyP33JU_oQ0hCCeS86OfA-P9qrJL5Rn5IFvet-5w\",\"e\""
	":\"AQAB\",\"kid\":\"rsa\"}]}";

enum { FUZZ_NOW = 1800000000 };	/* the --now the seeds were signed with */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static Jwks *keys;
	static const JwtCheck check = {
		.audience = TOKEND_AUDIENCE,
		.trust_domain = "flashpods.local",
		.now = FUZZ_NOW,
		.leeway = 30,
		.max_lifetime = 3600,
	};
	char err[TOKEND_ERR_MAX];
	JwtResult r;

	if (!keys && !(keys = jwks_parse(fuzz_jwks, sizeof fuzz_jwks - 1, err,
					 sizeof err)))
		BUG("fuzz keys: %s", err);
	if (size > 0 && data[0] == '{') {
		jwks_unref(jwks_parse((const char *)data, size, err, sizeof err));
		return 0;
	}
	jwt_fuzz_no_signature = size > 0 && data[0] == '~';
	if (jwt_fuzz_no_signature) {
		data++;
		size--;
	}
	if (jwt_verify((const char *)data, size, keys, &check, &r) == JWT_OK &&
	    (!spiffe_id_valid(r.sub, check.trust_domain) ||
	     r.exp < (long long)check.now - check.leeway))
		BUG("verified a token whose sub is not a SPIFFE ID or that expired: %s",
		    r.sub);
	return 0;
}
