/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * prove_time.c: time the stages of compiling one policy (bench/prove.sh).
 *
 *   prove_time POLICY [REPEAT]
 *
 * Runs load (parse + sema), lower, emit (every artifact, in memory) and the
 * compile-time proof REPEAT times (default 1) and prints the fastest run of
 * each, in milliseconds of this process's CPU time (the machine is shared:
 * wall time there measures the neighbours), with the ruleset's rule count
 * the proof's class count and the process's peak resident set (KB, over
 * every run: the runs free what they allocate), as one line:
 *
 *   load_ms lower_ms emit_ms prove_ms rules classes peak_rss_kb
 *
 * Exit 1 when the policy does not load or its proof fails.
 */
#include "classes.h"
#include "compile.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* The class count out of prove_policy's report line. */
static long report_classes(const Buf *report)
{
	const char *s = report->data ? strstr(report->data, " on ") : NULL;

	return s ? atol(s + 4) : -1;
}

static double min_d(double a, double b)
{
	return a < b ? a : b;
}

/* One full run; adds each stage's time to best[] (keeping the minimum). */
static int run_once(const char *path, double best[4], int *rules, long *classes)
{
	Diag *d = diag_new();
	Buf report = { 0 };
	double t0 = now_ms(), t1, t2, t3, t4;
	Policy *p = policy_load(path, d);
	Ruleset *rs;
	int failed;

	t1 = now_ms();
	if (!p) {
		diag_flush(d, stderr);
		diag_free(d);
		return 1;
	}
	rs = lower(p);
	t2 = now_ms();
	for (int i = 0; i < n_artifacts; i++) {
		Buf out = { 0 };

		artifacts[i].emit(p, rs, &out);
		buf_free(&out);
	}
	t3 = now_ms();
	failed = prove_policy(p, rs, d, &report);
	t4 = now_ms();
	diag_flush(d, stderr);
	best[0] = min_d(best[0], t1 - t0);
	best[1] = min_d(best[1], t2 - t1);
	best[2] = min_d(best[2], t3 - t2);
	best[3] = min_d(best[3], t4 - t3);
	*rules = ruleset_rule_count(rs);
	*classes = report_classes(&report);
	buf_free(&report);
	policy_free(p);
	diag_free(d);
	return failed ? 1 : 0;
}

int main(int argc, char **argv)
{
	double best[4] = { 1e18, 1e18, 1e18, 1e18 };
	struct rusage ru;
	int repeat = argc > 2 ? atoi(argv[2]) : 1, rules = 0;
	long classes = 0;

	if (argc < 2 || argc > 3 || repeat < 1) {
		fprintf(stderr, "usage: prove_time POLICY [REPEAT]\n");
		return 2;
	}
	for (int i = 0; i < repeat; i++)
		if (run_once(argv[1], best, &rules, &classes))
			return 1;
	getrusage(RUSAGE_SELF, &ru);
	printf("%.1f %.1f %.1f %.1f %d %ld %ld\n", best[0], best[1], best[2], best[3],
	       rules, classes, ru.ru_maxrss);
	return 0;
}
