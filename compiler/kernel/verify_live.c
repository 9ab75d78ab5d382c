/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * verify_live.c: `fpc verify-live POLICY [--netns NAME]`.
 *
 * Reads every table the kernel holds through libnftnl into the Ruleset IR
 * (nl_read.c), runs the prover on all of them together (prove_report:
 * invariants, trust cells another table undoes, undecodable expressions),
 * and compares our table with what the policy compiles to: lower()'s
 * table is loaded into a private scratch namespace and read back through
 * the same reader, so both sides are decoded alike and any difference is
 * drift (a rule added, removed or changed by hand). Exit 0 only when the
 * proof holds and there is no drift.
 */
#include "kernel.h"

#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

/* One line per object of table t, in kernel order: sets, chain headers,
 * rules (rule lines start with a tab; handle kept apart). */
typedef struct Line {
	const char *chain;	/* NULL for a set */
	const char *text;
	uint64_t handle;
} Line;

typedef VEC(Line) Lines;

/* Append one Line per object of t (sets, chain headers, rules), in kernel
 * order, as deterministic text in arena a. */
static void table_lines(Arena *a, const RsTable *t, Lines *out)
{
	for (int i = 0; i < t->n_sets; i++) {
		const RsSet *s = &t->sets[i];
		Buf b = { 0 };

		buf_printf(&b, "set %s%s {", s->name, s->interval ? " interval" : "");
		for (int j = 0; j < s->n_elems; j++) {
			buf_puts(&b, j ? ", " : " ");
			nl_value_text(&s->elems[j],
				      s->type == SETTYPE_IFNAME ? KEY_IIFNAME :
				      s->type == SETTYPE_SERVICE ? KEY_DPORT :
				      s->type == SETTYPE_UID ? KEY_SKUID : KEY_SADDR, &b);
		}
		buf_puts(&b, " }");
		vec_push(a, out, ((Line){ NULL, arena_strdup(a, b.data), 0 }));
		buf_free(&b);
	}
	for (int i = 0; i < t->n_chains; i++) {
		const RsChain *c = &t->chains[i];
		Buf b = { 0 };

		if (c->hook != HOOK_NONE)
			buf_printf(&b, "chain %s { type %s hook %s priority %d; policy %s; }",
				   c->name, c->type, rs_hook_name(c->hook), c->priority,
				   c->policy == VERDICT_DROP ? "drop" : "accept");
		else
			buf_printf(&b, "chain %s", c->name);
		vec_push(a, out, ((Line){ NULL, arena_strdup(a, b.data), 0 }));
		buf_free(&b);
		for (int j = 0; j < c->n_rules; j++) {
			Buf r = { 0 };

			nl_rule_text(&c->rules[j], &r);
			vec_push(a, out, ((Line){ c->name, arena_strdup(a, r.data ? r.data : ""),
						  c->rules[j].handle }));
			buf_free(&r);
		}
	}
}

/* Table (f, name) of rs, or NULL. */
static const RsTable *find_table(const Ruleset *rs, RsFamily f, const char *name)
{
	for (int i = 0; i < rs->n_tables; i++)
		if (rs->tables[i].family == f && !strcmp(rs->tables[i].name, name))
			return &rs->tables[i];
	return NULL;
}

/* The lines of table t as the kernel holds it after `fpc apply`: loaded
 * into a scratch namespace by a child and read back. Heap text, one object
 * per line ("CHAIN\tTEXT" for a rule, "\tTEXT" for a set or chain
 * header), NULL with err. */
static char *expected_text(const RsTable *t, Buf *err)
{
	int pfd[2];
	pid_t pid;
	Buf out = { 0 };
	char chunk[4096];
	ssize_t n;
	int status;

	if (pipe(pfd) < 0) {
		buf_printf(err, "pipe: %s", strerror(errno));
		return NULL;
	}
	pid = fork();
	if (pid < 0) {
		buf_printf(err, "fork: %s", strerror(errno));
		return NULL;
	}
	if (pid == 0) {
		Buf e = { 0 }, o = { 0 };
		NlSock *s;
		NlBatch *b = nl_batch_new();
		Arena *a = arena_new();
		Ruleset *rs;
		const RsTable *rt;
		Lines lines = { 0 };
		FILE *f = fdopen(pfd[1], "w");

		close(pfd[0]);
		if (unshare(CLONE_NEWNET) < 0 || !(s = nl_open(&e)) ||
		    nl_batch_add_table(b, t, &e) < 0 || nl_commit(s, b, &e) < 0 ||
		    !(rs = nl_read_ruleset(s, a, &e)) ||
		    !(rt = find_table(rs, t->family, t->name))) {
			fprintf(stderr, "fpc: error: cannot load the policy's table in a "
				"scratch namespace: %s\n", e.data ? e.data : strerror(errno));
			_exit(1);
		}
		table_lines(a, rt, &lines);
		for (int i = 0; i < lines.n; i++)
			buf_printf(&o, "%s\t%s\n", lines.v[i].chain ? lines.v[i].chain : "",
				   lines.v[i].text);
		fwrite(o.data ? o.data : "", 1, o.len, f);
		fclose(f);
		_exit(0);
	}
	close(pfd[1]);
	while ((n = read(pfd[0], chunk, sizeof chunk)) > 0)
		buf_append(&out, chunk, (size_t)n);
	close(pfd[0]);
	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status)) {
		buf_printf(err, "the scratch namespace check failed");
		buf_free(&out);
		return NULL;
	}
	if (!out.data)
		buf_puts(&out, "");
	return out.data;
}

/* Report the differences between the kernel's lines and the expected
 * ones (multiset per chain, then order); returns how many. */
static int drift(Arena *a, const Lines *got, char *exp_text, Buf *out)
{
	Lines exp = { 0 };
	int n = 0;
	bool *used_e, *used_g;

	for (char *line = strtok(exp_text, "\n"); line; line = strtok(NULL, "\n")) {
		char *tab = strchr(line, '\t');

		if (!tab)
			continue;
		*tab = 0;
		vec_push(a, &exp, ((Line){ *line ? line : NULL, tab + 1, 0 }));
	}
	used_e = arena_alloc(a, (size_t)exp.n + 1);
	used_g = arena_alloc(a, (size_t)got->n + 1);
	for (int i = 0; i < got->n; i++)
		for (int j = 0; j < exp.n; j++) {
			const Line *g = &got->v[i], *e = &exp.v[j];

			if (!used_e[j] && !strcmp(g->text, e->text) &&
			    !strcmp(g->chain ? g->chain : "", e->chain ? e->chain : "")) {
				used_e[j] = used_g[i] = true;
				break;
			}
		}
	for (int i = 0; i < got->n; i++)
		if (!used_g[i]) {
			const Line *g = &got->v[i];

			if (g->chain)
				buf_printf(out, "drift: rule handle %llu in chain %s is not "
					   "what the policy produces: %s\n",
					   (unsigned long long)g->handle, g->chain, g->text);
			else
				buf_printf(out, "drift: the kernel holds `%s`, which the "
					   "policy does not produce\n", g->text);
			n++;
		}
	for (int j = 0; j < exp.n; j++)
		if (!used_e[j]) {
			const Line *e = &exp.v[j];

			if (e->chain)
				buf_printf(out, "drift: a rule the policy produces is missing "
					   "from chain %s: %s\n", e->chain, e->text);
			else
				buf_printf(out, "drift: the policy produces `%s`, which the "
					   "kernel does not hold\n", e->text);
			n++;
		}
	if (n == 0 && got->n == exp.n)
		for (int i = 0; i < got->n; i++)
			if (strcmp(got->v[i].text, exp.v[i].text)) {
				buf_printf(out, "drift: the rules of our table are in another "
					   "order than the policy's (first at `%s`)\n",
					   got->v[i].text);
				n++;
				break;
			}
	return n;
}

int cmd_verify_live(int argc, char **argv)
{
	const char *path = NULL, *netns = NULL;
	Diag *d;
	Policy *p;
	Ruleset *want, *have;
	NlSock *s = NULL;
	Buf err = { 0 }, out = { 0 };
	Arena *a = NULL;
	ProveStats st = { 0 };
	ProveOpts o = { .what = "the kernel" };
	int rc = 1, prc = 0, ndrift = 0;

	const DiagOpt opts[] = { { "--netns", &netns, NULL }, { NULL, NULL, NULL } };

	if (diag_args(argc, argv, opts, &path, 1, 1, "POLICY") < 0)
		return 2;
	d = diag_new();
	p = policy_load(path, d);
	diag_free(d);
	if (!p)
		return 1;
	want = lower(p);
	a = arena_new();
	if (nl_enter_netns(netns, &err) < 0 || !(s = nl_open(&err)) ||
	    !(have = nl_read_ruleset(s, a, &err))) {
		fprintf(stderr, "fpc: error: %s\n", err.data);
		goto done;
	}
	prc = prove_report(p, have, &o, &out, &st);
	for (int i = 0; i < want->n_tables; i++) {
		const RsTable *wt = &want->tables[i];
		const RsTable *ht = find_table(have, wt->family, wt->name);
		Lines got = { 0 };
		char *exp;

		if (!ht) {
			buf_printf(&out, "drift: the kernel holds no table %s %s\n",
				   rs_family_name(wt->family), wt->name);
			ndrift++;
			continue;
		}
		exp = expected_text(wt, &err);
		if (!exp) {
			fprintf(stderr, "fpc: error: %s\n", err.data);
			goto done;
		}
		table_lines(a, ht, &got);
		ndrift += drift(a, &got, exp, &out);
		free(exp);
	}
	fputs(out.data ? out.data : "", stdout);
	printf("verify-live: %d tables, %d rules read; invariants %s; %d cells "
	       "not realised; %d undecodable expressions; %d drift findings\n",
	       have->n_tables, st.rules, prc == 1 ? "FAIL" : "hold",
	       st.cells_failed, st.unknown, ndrift);
	rc = prc == 0 && ndrift == 0 ? 0 : 1;
done:
	nl_close(s);
	buf_free(&err);
	buf_free(&out);
	arena_free(a);
	policy_free(p);
	return rc;
}
