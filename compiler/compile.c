/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * compile.c: the driver. `fpc POLICY -o DIR` and `fpc check POLICY` run the
 * stages in order: load (parse, sema) -> lower -> prove -> emit every
 * artifact into memory -> write them all atomically.
 */
#include "compile.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The policy checked, lowered and proved; NULL (diagnostics printed) if not. */
static Policy *build(const char *path, Ruleset **rs, Buf *report)
{
	Diag *d = diag_new();
	Policy *p = policy_load(path, d);

	if (p) {
		policy_warnings(p, d);
		*rs = lower(p);
		if (prove_policy(p, *rs, d, report) > 0) {
			diag_flush(d, stderr);	/* quotes p's text: before freeing it */
			policy_free(p);
			p = NULL;
		}
		diag_flush(d, stderr);
	}
	diag_free(d);
	return p;
}

/* Emit every artifact into memory, write each to a temporary file, and only
 * when all are written rename them into place: a failure leaves the old
 * files and no temporary ones. */
static int write_artifacts(const Policy *p, const Ruleset *rs, const char *dir)
{
	Buf *out = xcalloc((size_t)n_artifacts, sizeof(Buf));
	char **tmp = xcalloc((size_t)n_artifacts, sizeof(char *));
	char **path = xcalloc((size_t)n_artifacts, sizeof(char *));
	int rc = 0, i;

	for (i = 0; i < n_artifacts && rc == 0; i++)
		if (artifacts[i].emit(p, rs, &out[i]) < 0)
			rc = 1;
	if (rc == 0 && mkdir(dir, 0755) < 0 && errno != EEXIST) {
		fprintf(stderr, "fpc: error: cannot create %s: %s\n", dir,
			strerror(errno));
		rc = 1;
	}
	for (i = 0; i < n_artifacts && rc == 0; i++) {
		path[i] = arena_printf(p->arena, "%s/%s", dir, artifacts[i].name);
		tmp[i] = write_temp_file(path[i], out[i].data, out[i].len);
		if (!tmp[i]) {
			fprintf(stderr, "fpc: error: cannot write %s: %s\n",
				path[i], strerror(errno));
			rc = 1;
		}
	}
	for (i = 0; i < n_artifacts && rc == 0; i++) {
		if (rename(tmp[i], path[i]) < 0) {
			fprintf(stderr, "fpc: error: cannot write %s: %s\n",
				path[i], strerror(errno));
			rc = 1;
			break;
		}
		free(tmp[i]);
		tmp[i] = NULL;
		printf("wrote %s (%zu bytes)\n", path[i], out[i].len);
	}
	for (i = 0; i < n_artifacts; i++) {
		if (tmp[i])
			unlink(tmp[i]);
		free(tmp[i]);
		buf_free(&out[i]);
	}
	free(out);
	free(tmp);
	free(path);
	return rc;
}

/* One line per invariant build() proved on the emitted ruleset (it fails
 * when one does not hold), the built-in one included. */
static void print_invariants(const Policy *p)
{
	Arena *a = arena_new();
	const Invariant *invs;
	int n = prove_all_invariants(a, p, &invs);

	for (int i = 0; i < n; i++)
		printf("invariant %s holds: %s\n", invs[i].name, invs[i].text);
	arena_free(a);
}

int cmd_compile(int argc, char **argv)
{
	const char *policy = NULL, *dir = ".";
	Buf report = { 0 };
	Ruleset *rs = NULL;
	Policy *p;
	int rc;

	const DiagOpt opts[] = { { "-o", &dir, NULL }, { NULL, NULL, NULL } };

	if (diag_args(argc, argv, opts, &policy, 1, 1, "POLICY") < 0)
		return 2;
	p = build(policy, &rs, &report);
	if (!p) {
		buf_free(&report);
		return 1;
	}
	rc = write_artifacts(p, rs, dir);
	if (rc == 0) {
		printf("%d rules in %d tables; %s", ruleset_rule_count(rs), rs->n_tables,
		       report.data ? report.data : "\n");
		print_invariants(p);
	}
	buf_free(&report);
	policy_free(p);
	return rc;
}

int cmd_check(int argc, char **argv)
{
	Buf report = { 0 };
	Ruleset *rs;
	Policy *p;
	const char *policy;

	if (diag_args(argc, argv, NULL, &policy, 1, 1, "POLICY") < 0)
		return 2;
	p = build(policy, &rs, &report);
	if (p)
		printf("%s: ok; %s", policy, report.data ? report.data : "\n");
	buf_free(&report);
	policy_free(p);
	return p ? 0 : 1;
}
