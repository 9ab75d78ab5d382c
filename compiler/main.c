/* SPDX-License-Identifier: GPL-2.0-or-later */
/* main.c: fpc's command line: pick the command, run it. */
#include "fpc.h"

#include <string.h>

typedef struct {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *usage;
} Command;

static const Command commands[] = {
	{ "check", cmd_check, "check POLICY            parse, check and prove; write nothing" },
	{ "fmt", cmd_fmt, "fmt POLICY              print the policy normalised" },
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
