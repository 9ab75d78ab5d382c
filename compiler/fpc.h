/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fpc.h: the exports of each pipeline stage, one heading per file, in the
 * order main.c drives them:
 *
 *   parse -> sema -> lower -> prove -> emit_* -> write artifacts
 *
 * Ownership: stages allocate in the Policy's / Ruleset's arena; emitters
 * append to a caller-owned Buf.
 */
#ifndef FPC_H
#define FPC_H

#include "base.h"
#include "diag.h"
#include "policy.h"
#include "ruleset.h"

typedef struct Ast Ast;

/* grammar/parser.y: parse text into an AST; syntax errors go to d.
 * Returns NULL only when nothing could be parsed at all. */
Ast *parse_policy(Arena *a, Diag *d, const char *file, const char *text,
		  size_t len);

/* sema.c: check an AST and resolve it into a Policy (NULL if any error). */
Policy *sema(Arena *a, Diag *d, const Ast *ast, const char *file,
	     const char *text, size_t len);

/* fmt.c: print the AST normalised (aligned trust table) to out. */
void fmt_policy(const Ast *ast, const char *text, Buf *out);

/* load.c: read path, parse and check it; diagnostics are printed to stderr
 * before it returns, NULL on any error. The Policy owns a fresh arena (policy_free). */
Policy *policy_load(const char *path, Diag *d);
/* read and parse only (for fmt): the AST and the text (*text, *len) live in
 * arena a; the text is registered with d for quoting. */
Ast *policy_parse_file(const char *path, Arena *a, Diag *d, const char **text,
		       size_t *len);
void policy_free(Policy *p);

/* lower.c: the Ruleset IR the policy compiles to (in p's arena). */
Ruleset *lower(const Policy *p);

/* emit_nft.c: the ruleset as nft text (`nft -f` input), deterministic. */
void emit_nft(const Ruleset *rs, Buf *out);
/* the same, as an Artifact emitter */
void emit_nft_artifact(const Policy *p, const Ruleset *rs, Buf *out);

/* prove.c: prove the invariants and the trust table on rs. Problems go to d
 * (with counterexample packets); a one-line summary is appended to report.
 * Returns the number of failed proofs. */
int prove_policy(const Policy *p, const Ruleset *rs, Diag *d, Buf *report);

/* compile.c: the files `fpc POLICY -o DIR` writes, in write order. */
typedef struct Artifact {
	const char *name;	/* file name inside the output directory */
	void (*emit)(const Policy *p, const Ruleset *rs, Buf *out);
} Artifact;
extern const Artifact artifacts[];
extern const int n_artifacts;

/* Commands: argv[0] is the command name; return the exit status
 * (0 ok, 1 user error / proof failure / difference, 2 usage error). */
int cmd_compile(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_fmt(int argc, char **argv);

#endif
