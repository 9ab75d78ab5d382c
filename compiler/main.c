/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * main.c: fpc's command line: pick the command, run it. Every command's
 * usage line is here, and only here: diag_set_usage() hands the running
 * command's to diag_usage(), which prints it after saying what was wrong.
 */
#include "compile.h"
#include "kernel.h"

#include <string.h>
#include <unistd.h>

typedef struct {
	const char *name;	/* NULL: the compile command, `fpc POLICY` */
	int (*run)(int argc, char **argv);
	const char *usage;	/* after "fpc " */
	const char *what;
} Command;

static const Command commands[] = {
	{ NULL, cmd_compile, "POLICY [-o DIR]",
	  "compile, prove and write every artifact into DIR (default .)" },
	{ "check", cmd_check, "check POLICY",
	  "parse, check and prove; write nothing" },
	{ "fmt", cmd_fmt, "fmt [--check | -w] POLICY...",
	  "print the normal form; --check: name the files not in it (exit 1); -w: rewrite them in place" },
	{ "diff", cmd_diff, "diff OLD NEW [--format text|json|markdown]",
	  "what changes: trust cells as the rulesets decide them, entities, artifacts, rules (exit 0 same, 1 changed, 2 error or NEW fails an invariant)" },
	{ "report", cmd_report, "report POLICY [-o FILE] [--format html|svg|dot]",
	  "the trust boundary as one HTML page (matrix, graph, invariants, rules), or its graph as SVG or DOT" },
	{ "explain", cmd_explain, "explain POLICY SOURCE SERVICE [--ruleset FILE]",
	  "the verdict of a cell and the rules and policy lines deciding it" },
	{ "query", cmd_query,
	  "query POLICY (--iif NAME | --uid UID|USER|none) [--oif NAME] [--saddr ADDR] [--daddr ADDR] "
	  "[--proto PROTO] [--sport PORT] [--dport PORT | --tcp PORT | --udp PORT] [--gid GID] "
	  "[--ct STATE] [--ruleset FILE]",
	  "decide one packet" },
	{ "verify", cmd_verify, "verify POLICY --ruleset FILE",
	  "prove the policy on `nft -j list ruleset` output (exit 0 ok, 1 an invariant fails, 3 a cell not realised)" },
	{ "apply", cmd_apply,
	  "apply DIR|POLICY [--netns NAME] [--confirm-timeout S] | apply --confirm [--netns NAME]",
	  "load the ruleset into the kernel atomically, optionally on trial" },
	{ "verify-live", cmd_verify_live, "verify-live POLICY [--netns NAME]",
	  "prove the kernel's ruleset, report drift" },
	{ "dump", cmd_dump, "dump BUNDLE",
	  "print a policy.pb as JSON (via the daemons' loader)" },
};
enum { N_COMMANDS = sizeof commands / sizeof *commands };

static void usage(FILE *f)
{
	for (int i = 0; i < N_COMMANDS; i++)
		fprintf(f, "%s fpc %s\n           %s\n", i ? "      " : "usage:",
			commands[i].usage, commands[i].what);
	fprintf(f, "       fpc COMMAND --help\n       fpc --version | --help\n");
}

static const Command *find_command(const char *name)
{
	for (int i = 0; i < N_COMMANDS; i++)
		if (commands[i].name && !strcmp(commands[i].name, name))
			return &commands[i];
	return NULL;
}

/* argv[1] is neither a command nor a file: say so, with the closest
 * command when one is close. Exit status 2. */
static int unknown_command(const char *word)
{
	const char *names[N_COMMANDS];
	const char *hint;
	int n = 0;

	for (int i = 0; i < N_COMMANDS; i++)
		if (commands[i].name)
			names[n++] = commands[i].name;
	hint = diag_suggest(word, names, n);
	if (hint)
		fprintf(stderr, "fpc: error: unknown command '%s'; did you mean '%s'?\n", word, hint);
	else
		fprintf(stderr, "fpc: error: '%s' is not a command, nor a policy file\n", word);
	fprintf(stderr, "commands:");
	for (int i = 0; i < n; i++)
		fprintf(stderr, " %s", names[i]);
	fprintf(stderr, " (fpc COMMAND --help); to compile: fpc POLICY [-o DIR]\n");
	return 2;
}

/* A word that names no command: compile it as a policy if it looks like a
 * path (an existing file, or a name with '.' or '/'). */
static bool looks_like_policy(const char *arg)
{
	return arg[0] == '-' || strchr(arg, '.') || strchr(arg, '/') ||
		access(arg, F_OK) == 0;
}

static int run(const Command *c, int argc, char **argv)
{
	diag_set_usage(c->usage);
	if (argc == 2 && c->name && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		printf("usage: fpc %s\n       %s\n", c->usage, c->what);
		return 0;
	}
	return c->run(argc, argv);
}

int main(int argc, char **argv)
{
	const Command *c;

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
	c = find_command(argv[1]);
	if (c)
		return run(c, argc - 1, argv + 1);
	if (!looks_like_policy(argv[1]))
		return unknown_command(argv[1]);
	return run(&commands[0], argc, argv);
}
