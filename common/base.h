/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * base.h: the common layer, what the compiler and both daemons share:
 * BUG(), source locations, the arena, growable arrays, heap helpers, byte
 * buffers, whole-file reads, temporary-file writes, number parsing. It uses
 * no other layer and no library beyond libc.
 *
 * Ownership: the IR of a compilation (AST, Policy, Ruleset) lives in one
 * Arena, freed by arena_free(). Heap memory (Buf contents, read_file's
 * result, the netlink and libnftnl objects, the prover's pools, the
 * daemons' state) is freed by its owner with the matching *_free() or
 * free(), as each function's contract says.
 */
#ifndef FPC_BASE_H
#define FPC_BASE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FPC_VERSION "0.1.0"

/* A broken internal invariant (never a user mistake): print file:line, abort. */
#define BUG(...) fpc_bug(__FILE__, __LINE__, __VA_ARGS__)
_Noreturn void fpc_bug(const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* A span of policy text. Lines and columns are 1-based, last_col inclusive.
 * file == NULL means "no location" (generated or read from a kernel). */
typedef struct Loc {
	const char *file;
	int first_line, first_col;
	int last_line, last_col;
} Loc;

/* One arena per compilation; blocks are never freed one by one. */
typedef struct Arena Arena;

Arena *arena_new(void);
void arena_free(Arena *a);
/* Zeroed memory of n bytes, aligned for any type; aborts on exhaustion. */
void *arena_alloc(Arena *a, size_t n);
char *arena_strdup(Arena *a, const char *s);
char *arena_strndup(Arena *a, const char *s, size_t n);
char *arena_printf(Arena *a, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* A growable array in an arena: VEC(int) v = {0}; vec_push(a, &v, 3); */
#define VEC(T) struct { T *v; int n, cap; }
#define vec_push(arena, vec, item) do {                                    \
	if ((vec)->n == (vec)->cap) {                                       \
		int nc_ = (vec)->cap ? 2 * (vec)->cap : 8;                  \
		void *nv_ = arena_alloc((arena), (size_t)nc_ * sizeof *(vec)->v); \
		if ((vec)->n)                                                \
			memcpy(nv_, (vec)->v, (size_t)(vec)->n * sizeof *(vec)->v); \
		(vec)->v = nv_;                                              \
		(vec)->cap = nc_;                                            \
	}                                                                   \
	(vec)->v[(vec)->n++] = (item);                                      \
} while (0)

/* Heap helpers for code outside the arena (daemons, tools); abort on OOM. */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t m);
char *xstrdup(const char *s);

/* A growable heap byte buffer, always NUL-terminated; buf_free() frees it. */
typedef struct Buf {
	char *data;
	size_t len, cap;
} Buf;

void buf_append(Buf *b, const void *data, size_t n);
void buf_puts(Buf *b, const char *s);
void buf_printf(Buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_free(Buf *b);

/* Read a whole file into a NUL-terminated heap buffer; NULL + errno on error.
 * The caller frees. *len gets the size without the NUL. */
char *read_file(const char *path, size_t *len);

/* Write data to a fresh temporary file beside path (mode 0644, fsynced),
 * for the caller to rename into place; its name (caller frees), or NULL
 * with errno set and nothing left behind. */
char *write_temp_file(const char *path, const void *data, size_t len);

/* A whole decimal number in lo..hi (no sign games, no trailing text, no
 * empty string), strtonum-style: the value, or 0 with *why set to "is not a
 * number", "is too small" or "is too large" (*why is NULL on success). */
long long parse_num(const char *s, long long lo, long long hi, const char **why);

/* The length (1 to 4) of the well-formed UTF-8 sequence at p, which has n
 * bytes (n >= 1); 0 if none starts there: a stray continuation byte, a
 * truncated sequence, an overlong form, a surrogate or a code point past
 * U+10FFFF (RFC 3629 section 4). NUL is a sequence of length 1. */
int utf8_len(const unsigned char *p, size_t n);

#endif
