/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * compile.c: the driver. `fpc POLICY -o DIR` and `fpc check POLICY` run the
 * stages in order: load (parse, sema) -> lower -> prove -> emit every
 * artifact into memory -> write them all atomically.
 */
#include "fpc.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

const Artifact artifacts[] = {
	{ "flashpods.nft", emit_nft_artifact },
	{ "flashpods.body.nft", emit_nft_body_artifact },
	{ "nixos.json", emit_nix_artifact },
	{ "policy.pb", emit_pb_artifact },
	{ "mounts.json", emit_json_mounts_artifact },
	{ "privileges.json", emit_json_privileges_artifact },
};
const int n_artifacts = sizeof artifacts / sizeof *artifacts;

/* The policy checked, lowered and proved; NULL (diagnostics printed) if not. */
static Policy *build(const char *path, Ruleset **rs, Buf *report)
{
	Diag *d = diag_new();
	Policy *p = policy_load(path, d);

	if (p) {
		*rs = lower(p);
		if (prove_policy(p, *rs, d, report) > 0) {
			policy_free(p);
			p = NULL;
		}
		diag_flush(d, stderr);
	}
	diag_free(d);
	return p;
}

static int count_rules(const Ruleset *rs)
{
	int n = 0;

	for (int t = 0; t < rs->n_tables; t++)
		for (int c = 0; c < rs->tables[t].n_chains; c++)
			n += rs->tables[t].chains[c].n_rules;
	return n;
}

/* Emit every artifact, then write them; nothing is written if one fails. */
static int write_artifacts(const Policy *p, const Ruleset *rs, const char *dir)
{
	Buf *out = xcalloc((size_t)n_artifacts, sizeof(Buf));
	int rc = 0;

	for (int i = 0; i < n_artifacts; i++)
		artifacts[i].emit(p, rs, &out[i]);
	if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
		fprintf(stderr, "fpc: error: cannot create %s: %s\n", dir,
			strerror(errno));
		rc = 1;
	}
	for (int i = 0; i < n_artifacts && rc == 0; i++) {
		char *path = arena_printf(p->arena, "%s/%s", dir, artifacts[i].name);

		if (write_file_atomic(path, out[i].data ? out[i].data : "",
				      out[i].len) < 0) {
			fprintf(stderr, "fpc: error: cannot write %s: %s\n", path,
				strerror(errno));
			rc = 1;
			break;
		}
		printf("wrote %s (%zu bytes)\n", path, out[i].len);
	}
	for (int i = 0; i < n_artifacts; i++)
		buf_free(&out[i]);
	free(out);
	return rc;
}

int cmd_compile(int argc, char **argv)
{
	const char *policy = NULL, *dir = ".";
	Buf report = { 0 };
	Ruleset *rs = NULL;
	Policy *p;
	int rc;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-o") && i + 1 < argc)
			dir = argv[++i];
		else if (argv[i][0] != '-' && !policy)
			policy = argv[i];
		else {
			fprintf(stderr, "fpc: unexpected argument '%s' (see fpc --help)\n",
				argv[i]);
			return 2;
		}
	}
	if (!policy) {
		fprintf(stderr, "fpc: no policy file given (see fpc --help)\n");
		return 2;
	}
	p = build(policy, &rs, &report);
	if (!p) {
		buf_free(&report);
		return 1;
	}
	rc = write_artifacts(p, rs, dir);
	if (rc == 0)
		printf("%d rules in %d tables; %s", count_rules(rs), rs->n_tables,
		       report.data ? report.data : "\n");
	buf_free(&report);
	policy_free(p);
	return rc;
}

int cmd_check(int argc, char **argv)
{
	Buf report = { 0 };
	Ruleset *rs;
	Policy *p;

	if (argc != 2 || argv[1][0] == '-') {
		fprintf(stderr, "usage: fpc check POLICY\n");
		return 2;
	}
	p = build(argv[1], &rs, &report);
	if (p)
		printf("%s: ok; %s", argv[1], report.data ? report.data : "\n");
	buf_free(&report);
	policy_free(p);
	return p ? 0 : 1;
}
