/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * verify.c: `fpc verify POLICY --ruleset FILE`: prove a policy's invariants
 * and trust table on the ruleset a host holds, as `nft -j list ruleset`
 * prints it (every table: the policy's own and any other on the same hooks).
 *
 * Exit status: 0 the invariants hold and every cell is realised; 1 an
 * invariant fails or cannot be proved, or FILE or POLICY cannot be read
 * (not JSON, not `nft -j` output, a policy that does not check: one
 * "fpc: error:" line says which); 3 the invariants hold but a cell is not
 * realised; 2 usage error.
 */
#include "prove.h"

#include <errno.h>

/* Read path ("-" is stdin) into a heap buffer; NULL with errno. */
static char *slurp(const char *path, size_t *len)
{
	Buf b = { 0 };
	char chunk[65536];
	size_t n;

	if (strcmp(path, "-"))
		return read_file(path, len);
	while ((n = fread(chunk, 1, sizeof chunk, stdin)) > 0)
		buf_append(&b, chunk, n);
	if (ferror(stdin)) {
		buf_free(&b);
		errno = EIO;
		return NULL;
	}
	*len = b.len;
	return b.data ? b.data : xstrdup("");
}

/* Load and import a `nft -j` file into arena a; NULL (message printed)
 * on any error. */
Ruleset *verify_load_ruleset(Arena *a, const char *path)
{
	size_t len = 0;
	char *text = slurp(path, &len);
	Buf err = { 0 };
	Ruleset *rs;

	if (!text) {
		fprintf(stderr, "fpc: error: cannot read %s: %s\n", path, strerror(errno));
		return NULL;
	}
	rs = import_nft_json(a, text, len, &err);
	if (!rs)
		fprintf(stderr, "fpc: error: %s: %s\n", path, err.data ? err.data : "?");
	free(text);
	buf_free(&err);
	return rs;
}

int cmd_verify(int argc, char **argv)
{
	const char *policy = NULL, *file = NULL;
	ProveOpts o = { 0 };
	ProveStats st;
	Buf out = { 0 };
	Diag *d;
	Policy *p;
	Ruleset *rs;
	int rc;

	const DiagOpt opts[] = { { "--ruleset", &file, NULL }, { NULL, NULL, NULL } };

	if (diag_args(argc, argv, opts, &policy, 1, 1, "POLICY") < 0)
		return 2;
	if (!file)
		return diag_usage("--ruleset FILE is required (`nft -j list ruleset` output, - for stdin)");
	d = diag_new();
	p = policy_load(policy, d);
	diag_free(d);
	if (!p)
		return 1;
	rs = verify_load_ruleset(p->arena, file);
	if (!rs) {
		policy_free(p);
		return 1;
	}
	o.what = file;
	rc = prove_report(p, rs, &o, &out, &st);
	printf("verify %s against %s\n%s", policy, file, out.data ? out.data : "");
	printf("result: %s\n", rc == 0 ? "the invariants hold and the trust table is realised" :
	       rc == 1 ? "an invariant FAILS" :
	       "the invariants hold, but the trust table is NOT realised");
	buf_free(&out);
	policy_free(p);
	return rc;
}
