/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * front.h: the compiler's front end, text -> checked Policy. Exports in
 * pipeline order; the types are in policy.h (the Policy IR) and diag.h
 * (the one diagnostic format), which this header includes.
 *
 *   grammar/  scanner.l, parser.y   text -> Ast (ast.h, private to front/)
 *   sema*.c   Ast -> Policy, every check reported through Diag
 *   load.c    read a file, parse and check it
 *   fmt.c     the normal form of a policy file (`fpc fmt`)
 *
 * May use: common/, runtime/lib/ (the daemons' rules for what a bundle may
 * hold). Used by: every other part of compiler/.
 *
 * Ownership: stages allocate in the Policy's arena (policy_free frees it).
 */
#ifndef FPC_FRONT_H
#define FPC_FRONT_H

#include "base.h"
#include "diag.h"
#include "policy.h"

typedef struct Ast Ast;

/* grammar/parser.y: parse text into an AST; syntax errors go to d.
 * Returns NULL only when nothing could be parsed at all. */
Ast *parse_policy(Arena *a, Diag *d, const char *file, const char *text,
		  size_t len);

/* sema.c: check an AST and resolve it into a Policy (NULL if any error). */
Policy *sema(Arena *a, Diag *d, const Ast *ast, const char *file,
	     const char *text, size_t len);

/* load.c: read path, parse and check it; diagnostics are printed to stderr
 * before it returns, NULL on any error. The Policy owns a fresh arena (policy_free). */
Policy *policy_load(const char *path, Diag *d);
/* read and parse only (for fmt): the AST and the text (*text, *len) live in
 * arena a; the text is registered with d for quoting. */
Ast *policy_parse_file(const char *path, Arena *a, Diag *d, const char **text,
		       size_t *len);
void policy_free(Policy *p);

/* sema_layers.c: queue on d what a compile warns about in a checked policy
 * (a WireGuard peer whose key is still the all-zero placeholder). */
void policy_warnings(const Policy *p, Diag *d);

/* sema.c: true for a directory that is not a policy's to create or hand
 * to the container user ("/", top-level, system and shared directories);
 * emit_nix writes no tmpfiles rule for one. */
bool policy_dir_is_shared(const char *path);

/* fmt.c: print the AST normalised (aligned trust table) to out. */
void fmt_policy(const Ast *ast, const char *text, Buf *out);
/* `fpc fmt`; returns the exit status (0 ok, 1 user error, 2 usage error). */
int cmd_fmt(int argc, char **argv);

#endif
