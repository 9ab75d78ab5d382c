/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * prove_mutate POLICY MUTATION: lower POLICY, break the ruleset the way
 * MUTATION says (as a buggy emitter would), then run the compile-time
 * proof on it and print its diagnostics. Exit 1 when the proof fails, 0
 * when it holds, 2 on a usage error. Mutations:
 *   drop-catch-all    remove the last drop rule of every input chain
 *   flip-first-input  turn the first input rule of a trust cell (after the
 *                     conntrack rules) from accept into drop, or drop into accept
 *   overlap-map       give the first verdict map of an input chain a second
 *                     element for its first value, of the other verdict (a
 *                     merge that lost first-match order: the map no longer
 *                     says which applies)
 */
#include "prove.h"

/* The first verdict map of ch gets its first element again, of the
 * other verdict, at the end; 1 if ch has one, else 0. */
static int overlap_map(Arena *a, RsChain *ch)
{
	for (int r = 0; r < ch->n_rules; r++)
		for (int m = 0; m < ch->rules[r].n_matches; m++) {
			RsMatch *x = &ch->rules[r].matches[m];
			int n = x->n_vals, w = x->n_cat ? x->n_cat : 1;
			RsValue *v;
			RsVerdictKind *vm;

			if (!x->vmap)
				continue;
			v = arena_alloc(a, (size_t)(n + 1) * (size_t)w * sizeof *v);
			vm = arena_alloc(a, (size_t)(n + 1) * sizeof *vm);
			memcpy(v, x->vals, (size_t)n * (size_t)w * sizeof *v);
			memcpy(v + n * w, x->vals, (size_t)w * sizeof *v);
			memcpy(vm, x->vmap, (size_t)n * sizeof *vm);
			vm[n] = x->vmap[0] == VERDICT_ACCEPT ? VERDICT_DROP : VERDICT_ACCEPT;
			x->vals = v;
			x->vmap = vm;
			x->n_vals = n + 1;
			return 1;
		}
	return 0;
}

static int mutate(Ruleset *rs, const char *how)
{
	int done = 0;

	for (int t = 0; t < rs->n_tables; t++)
		for (int c = 0; c < rs->tables[t].n_chains; c++) {
			RsChain *ch = &rs->tables[t].chains[c];

			if (ch->hook != HOOK_INPUT || ch->n_rules == 0)
				continue;
			if (!strcmp(how, "overlap-map")) {
				done += overlap_map(rs->arena, ch);
			} else if (!strcmp(how, "drop-catch-all")) {
				int last = -1;

				for (int r = 0; r < ch->n_rules; r++)
					if (ch->rules[r].verdict == VERDICT_DROP)
						last = r;
				if (last < 0)
					continue;
				memmove(&ch->rules[last], &ch->rules[last + 1],
					(size_t)(ch->n_rules - last - 1) * sizeof(RsRule));
				ch->n_rules--;
				done++;
			} else if (!strcmp(how, "flip-first-input")) {
				RsRule *r = &ch->rules[0];

				/* the first rule of a trust cell, after the
				 * conntrack rules the chain begins with */
				while (r < ch->rules + ch->n_rules - 1 && !r->origin.file)
					r++;

				r->verdict = r->verdict == VERDICT_ACCEPT ? VERDICT_DROP :
					VERDICT_ACCEPT;
				done++;
			}
		}
	return done;
}

int main(int argc, char **argv)
{
	Diag *d;
	Policy *p;
	Ruleset *rs;
	Buf report = { 0 };
	int failed;

	if (argc != 3) {
		fprintf(stderr, "usage: prove_mutate POLICY drop-catch-all|flip-first-input|overlap-map\n");
		return 2;
	}
	d = diag_new();
	p = policy_load(argv[1], d);
	if (!p) {
		diag_free(d);
		return 2;
	}
	rs = lower(p);
	if (!mutate(rs, argv[2])) {
		fprintf(stderr, "prove_mutate: nothing to mutate with %s\n", argv[2]);
		return 2;
	}
	failed = prove_policy(p, rs, d, &report);
	diag_flush(d, stdout);
	printf("%d failed; %s", failed, report.data ? report.data : "\n");
	buf_free(&report);
	diag_free(d);
	policy_free(p);
	return failed ? 1 : 0;
}
