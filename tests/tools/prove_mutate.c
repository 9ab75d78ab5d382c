/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * prove_mutate POLICY MUTATION: lower POLICY, break the ruleset the way
 * MUTATION says (as a buggy emitter would), then run the compile-time
 * proof on it and print its diagnostics. Exit 1 when the proof fails, 0
 * when it holds, 2 on a usage error. Mutations:
 *   drop-catch-all    remove the last drop rule of every input chain
 *   flip-first-input  turn the first input rule of a trust cell (after the
 *                     conntrack rules) from accept into drop, or drop into accept
 */
#include "prove.h"

static int mutate(Ruleset *rs, const char *how)
{
	int done = 0;

	for (int t = 0; t < rs->n_tables; t++)
		for (int c = 0; c < rs->tables[t].n_chains; c++) {
			RsChain *ch = &rs->tables[t].chains[c];

			if (ch->hook != HOOK_INPUT || ch->n_rules == 0)
				continue;
			if (!strcmp(how, "drop-catch-all")) {
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
		fprintf(stderr, "usage: prove_mutate POLICY drop-catch-all|flip-first-input\n");
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
