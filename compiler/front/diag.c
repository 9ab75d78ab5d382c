/* SPDX-License-Identifier: GPL-2.0-or-later */
/* diag.c: queue diagnostics, print them with the quoted line and underline. */
#include "diag.h"

#include <stdarg.h>

typedef struct {
	DiagLevel level;
	Loc loc;
	char *msg;
} Entry;

typedef struct {
	const char *file, *text;
	size_t len;
} SourceText;

struct Diag {
	Entry *e;
	int n, cap, errors, dropped;
	SourceText *src;
	int nsrc;
};

Diag *diag_new(void)
{
	return xcalloc(1, sizeof(Diag));
}

void diag_free(Diag *d)
{
	if (!d)
		return;
	for (int i = 0; i < d->n; i++)
		free(d->e[i].msg);
	free(d->e);
	free(d->src);
	free(d);
}

void diag_add_source(Diag *d, const char *file, const char *text, size_t len)
{
	d->src = realloc(d->src, (size_t)(d->nsrc + 1) * sizeof *d->src);
	if (!d->src)
		BUG("out of memory");
	d->src[d->nsrc++] = (SourceText){ file, text, len };
}

void diag_at(Diag *d, DiagLevel level, Loc loc, const char *fmt, ...)
{
	va_list ap;
	char *msg;
	int n;

	if (level == DIAG_ERROR)
		d->errors++;
	if (level == DIAG_ERROR && d->errors > DIAG_MAX) {
		d->dropped++;
		return;
	}
	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	msg = xmalloc((size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(msg, (size_t)n + 1, fmt, ap);
	va_end(ap);
	if (d->n == d->cap) {
		d->cap = d->cap ? 2 * d->cap : 16;
		d->e = realloc(d->e, (size_t)d->cap * sizeof *d->e);
		if (!d->e)
			BUG("out of memory");
	}
	d->e[d->n++] = (Entry){ level, loc, msg };
}

int diag_errors(const Diag *d)
{
	return d->errors;
}

/* The text of line (1-based) of file, and its length; NULL if unknown. */
static const char *find_line(const Diag *d, const char *file, int line,
			     size_t *len)
{
	for (int i = 0; i < d->nsrc; i++) {
		const char *p, *end;

		if (strcmp(d->src[i].file, file) != 0)
			continue;
		p = d->src[i].text;
		end = p + d->src[i].len;
		for (int l = 1; l < line && p < end; l++) {
			const char *nl = memchr(p, '\n', (size_t)(end - p));

			if (!nl)
				return NULL;
			p = nl + 1;
		}
		if (p >= end && line > 1)
			return NULL;
		const char *nl = memchr(p, '\n', (size_t)(end - p));

		*len = (size_t)((nl ? nl : end) - p);
		return p;
	}
	return NULL;
}

/* Quote the line of loc (at most 160 columns around it) and underline it. */
static void quote(const Diag *d, const Loc *loc, FILE *f)
{
	enum { WIDTH = 160 };
	size_t len, from = 0, to, col, last;
	const char *line = find_line(d, loc->file, loc->first_line, &len);

	if (!line)
		return;
	col = loc->first_col > 0 ? (size_t)loc->first_col - 1 : 0;
	last = loc->last_line == loc->first_line && loc->last_col >= loc->first_col
		? (size_t)loc->last_col - 1 : col;
	if (col > len)
		col = len;
	if (last >= len)
		last = len ? len - 1 : 0;
	if (last < col)
		last = col;
	if (col > WIDTH / 2)
		from = col - WIDTH / 2;
	to = from + WIDTH < len ? from + WIDTH : len;
	fputs("    ", f);
	for (size_t i = from; i < to; i++) {
		unsigned char c = (unsigned char)line[i];

		fputc(c == '\t' ? '\t' : (c < 0x20 || c == 0x7f ? '?' : c), f);
	}
	fputs("\n    ", f);
	for (size_t i = from; i < col; i++)
		fputc(line[i] == '\t' ? '\t' : ' ', f);
	for (size_t i = col; i <= last && i < to + 1; i++)
		fputc('^', f);
	fputc('\n', f);
}

static const char *level_name(DiagLevel l)
{
	switch (l) {
	case DIAG_ERROR: return "error";
	case DIAG_WARNING: return "warning";
	case DIAG_NOTE: return "note";
	default: BUG("diag level %d", (int)l);
	}
}

void diag_flush(Diag *d, FILE *f)
{
	for (int i = 0; i < d->n; i++) {
		Entry *e = &d->e[i];
		Loc *l = &e->loc;

		if (!l->file)
			fprintf(f, "fpc: %s: %s\n", level_name(e->level), e->msg);
		else if (l->last_line == l->first_line && l->last_col > l->first_col)
			fprintf(f, "%s:%d:%d-%d: %s: %s\n", l->file, l->first_line,
				l->first_col, l->last_col, level_name(e->level), e->msg);
		else
			fprintf(f, "%s:%d:%d: %s: %s\n", l->file, l->first_line,
				l->first_col, level_name(e->level), e->msg);
		if (l->file)
			quote(d, l, f);
		free(e->msg);
	}
	if (d->dropped)
		fprintf(f, "fpc: too many errors (%d more not shown)\n", d->dropped);
	d->n = 0;
	d->dropped = 0;
}

/* Levenshtein distance, capped at 64 characters per side. */
static int distance(const char *a, const char *b)
{
	int la = (int)strlen(a), lb = (int)strlen(b), row[65];

	if (la > 64 || lb > 64)
		return 1000;
	for (int j = 0; j <= lb; j++)
		row[j] = j;
	for (int i = 1; i <= la; i++) {
		int prev = row[0];

		row[0] = i;
		for (int j = 1; j <= lb; j++) {
			int cur = row[j];
			int best = prev + (a[i - 1] != b[j - 1]);

			if (row[j] + 1 < best)
				best = row[j] + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			prev = cur;
		}
	}
	return row[lb];
}

const char *diag_suggest(const char *name, const char *const *cands, int n)
{
	int len = (int)strlen(name), limit = len / 3 > 1 ? len / 3 : 1;
	int best = limit + 1;
	const char *pick = NULL;

	for (int i = 0; i < n; i++) {
		int dist = distance(name, cands[i]);

		if (dist < best) {
			best = dist;
			pick = cands[i];
		}
	}
	return pick;
}
