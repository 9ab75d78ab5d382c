/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * diag.h: the one way fpc reports a user's mistake.
 *
 *   policies/default.fp:14:5-10: error: unknown service 'rsyncd'; did you mean 'rsync'?
 *       laptop  allow  rsyncd
 *                      ^^^^^^
 *
 * Diagnostics are queued and printed together by diag_flush(); after
 * DIAG_MAX errors further ones are counted but not kept. A Diag owns its
 * messages; the source texts it quotes belong to the caller.
 */
#ifndef FPC_DIAG_H
#define FPC_DIAG_H

#include "base.h"

enum { DIAG_MAX = 10 };

typedef enum { DIAG_ERROR, DIAG_WARNING, DIAG_NOTE } DiagLevel;

typedef struct Diag Diag;

Diag *diag_new(void);
void diag_free(Diag *d);
/* Register the text of file so diagnostics can quote its lines. */
void diag_add_source(Diag *d, const char *file, const char *text, size_t len);
/* Queue a diagnostic at loc (loc.file == NULL: no location). */
void diag_at(Diag *d, DiagLevel level, Loc loc, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
#define diag_error(d, loc, ...) diag_at((d), DIAG_ERROR, (loc), __VA_ARGS__)
#define diag_note(d, loc, ...) diag_at((d), DIAG_NOTE, (loc), __VA_ARGS__)
int diag_errors(const Diag *d);
/* Print every queued diagnostic to f in order, then forget them. */
void diag_flush(Diag *d, FILE *f);

/* The closest of n candidate names to name (edit distance at most
 * max(1, strlen/3)), or NULL: for "did you mean" hints. */
const char *diag_suggest(const char *name, const char *const *cands, int n);

/* Command-line mistakes, one format for every command: what was wrong,
 * then the usage line of that command only:
 *
 *   fpc query: error: --dport '70000': is too large (0 to 65535)
 *   usage: fpc query POLICY (--iif NAME | --uid UID|USER) ...
 *
 * main.c sets the running command's usage line (after "fpc "); each of
 * these prints to stderr and returns 2, the usage exit status. */
void diag_set_usage(const char *usage);
int diag_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* an option that is not one of known (NULL-terminated), did-you-mean */
int diag_unknown_option(const char *opt, const char *const *known);
/* a value of opt that is not one of ok (NULL-terminated), did-you-mean */
int diag_bad_value(const char *opt, const char *val, const char *const *ok);

/* An option of a command: with a value (value set), or a flag (flag set). */
typedef struct DiagOpt {
	const char *name;	/* "--ruleset", "-o" */
	const char **value;	/* where its value goes */
	bool *flag;		/* set to true when given */
} DiagOpt;

/* Parse argv[1..argc) of a command: the options of opts (ended by a NULL
 * name) with their values, the other words into pos[0..max) in order ("-"
 * is a word; "--" ends the options). names ("POLICY SOURCE SERVICE") names
 * the words for "missing SERVICE". Returns how many words there are, or -1
 * after a diag_usage: fewer than min words or more than max, an unknown
 * option (with did-you-mean), an option without its value. */
int diag_args(int argc, char **argv, const DiagOpt *opts, const char **pos,
	      int min, int max, const char *names);

#endif
