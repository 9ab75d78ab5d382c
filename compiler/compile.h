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

/* Commands (argv[0] is the command's name); each returns its exit status
 * (0 ok, 1 user error or proof failure, 2 usage error). */
int cmd_compile(int argc, char **argv);
int cmd_check(int argc, char **argv);

/* report.c: `fpc report POLICY [-o FILE] [--format html|svg|dot]`, the
 * trust boundary as one self-contained HTML page, or its graph. */
int cmd_report(int argc, char **argv);

#endif
