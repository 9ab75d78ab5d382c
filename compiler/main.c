/* SPDX-License-Identifier: GPL-2.0-or-later */
/* main.c: fpc's command line: pick the command, run it. */
#include "compile.h"
#include "kernel.h"

#include <string.h>

typedef struct {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *usage;
} Command;

static const Command commands[] = {
	{ "check", cmd_check, "check POLICY            parse, check and prove; write nothing" },
	{ "fmt", cmd_fmt, "fmt POLICY              print the policy normalised" },
	{ "apply", cmd_apply, "apply DIR|POLICY [--netns NAME] [--confirm-timeout S]  load the ruleset atomically" },
	{ "verify-live", cmd_verify_live, "verify-live POLICY [--netns NAME]  prove the kernel's ruleset, report drift" },
	{ "explain", cmd_explain, "explain POLICY SOURCE SERVICE [--ruleset FILE]  the verdict and the rules and policy lines deciding it" },
	{ "query", cmd_query, "query POLICY (--iif NAME | --uid N) [--saddr A] [--daddr A] [--proto P] [--dport N] [--oif NAME] [--ruleset FILE]  decide one packet" },
	{ "diff", cmd_diff, "diff OLD NEW [--format text|json]  changed trust cells (as the rulesets decide them), entities and rules (exit 0 same, 1 changed, 2 error)" },
	{ "verify", cmd_verify, "verify POLICY --ruleset FILE  prove the policy on `nft -j list ruleset` output (exit 0 ok, 1 invariant fails or bad input, 3 cell not realised)" },
	{ "dump", cmd_dump, "dump BUNDLE             print a policy.pb as JSON (via the daemons' loader)" },
};

static void usage(FILE *f)
{
	fprintf(f, "usage: fpc POLICY [-o DIR]      compile every artifact into DIR (default .)\n");
	for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
		fprintf(f, "       fpc %s\n", commands[i].usage);
	fprintf(f, "       fpc --version | --help\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "--version")) {
		printf("fpc %s\n", FPC_VERSION);
		return 0;
	}
	for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].run(argc - 1, argv + 1);
	return cmd_compile(argc, argv);
}
