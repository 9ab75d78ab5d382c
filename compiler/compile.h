/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * compile.h: the driver, the top of the compiler. main.c dispatches the
 * commands of every layer; compile.c runs the pipeline
 *
 *   policy_load -> lower -> prove_policy -> every artifact -> write them
 *
 * for `fpc POLICY -o DIR` and `fpc check`.
 *
 * May use: every layer of compiler/ (kernel/, prove/, back/, front/),
 * runtime/lib/, common/. Used by: nothing (main.c is the program).
 */
#ifndef FPC_COMPILE_H
#define FPC_COMPILE_H

#include "prove.h"

/* The files `fpc POLICY -o DIR` writes, in write order. */
typedef struct Artifact {
	const char *name;	/* file name inside the output directory */
	/* append the file to out; 0, or -1 after printing why it cannot be */
	int (*emit)(const Policy *p, const Ruleset *rs, Buf *out);
} Artifact;
extern const Artifact artifacts[];
extern const int n_artifacts;

/* Commands (argv[0] is the command's name); each returns its exit status
 * (0 ok, 1 user error or proof failure, 2 usage error). */
int cmd_compile(int argc, char **argv);
int cmd_check(int argc, char **argv);

#endif
