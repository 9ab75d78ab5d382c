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

#endif
