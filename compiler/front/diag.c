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

/* Shorten, in place, every run of more than QUOTE_MAX non-blank bytes of
 * msg (a name or string from the input, quoted into the message) to its
 * first QUOTE_MAX - 3 bytes and "...": one bad 20 MB string gives one line. */
static void shorten_words(char *msg)
{
	enum { QUOTE_MAX = 80 };
	char *w = msg, *r = msg;

	while (*r) {
		size_t n = strcspn(r, " \n");

		if (n > QUOTE_MAX) {
			memmove(w, r, QUOTE_MAX - 3);
			memcpy(w + QUOTE_MAX - 3, "...", 3);
			w += QUOTE_MAX;
		} else {
			memmove(w, r, n);
			w += n;
		}
		r += n;
		if (*r)
			*w++ = *r++;
	}
	*w = '\0';
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
	shorten_words(msg);
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

/* Edit distance with adjacent transpositions counted as one edit
 * ("dney" is one from "deny"), capped at 64 characters per side. */
static int distance(const char *a, const char *b)
{
	int la = (int)strlen(a), lb = (int)strlen(b), d[3][65];

	if (la > 64 || lb > 64)
		return 1000;
	for (int j = 0; j <= lb; j++)
		d[0][j] = j;
	for (int i = 1; i <= la; i++) {
		int *row = d[i % 3], *up = d[(i - 1) % 3], *up2 = d[(i + 1) % 3];

		row[0] = i;
		for (int j = 1; j <= lb; j++) {
			int best = up[j - 1] + (a[i - 1] != b[j - 1]);

			if (up[j] + 1 < best)
				best = up[j] + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
			    up2[j - 2] + 1 < best)
				best = up2[j - 2] + 1;
			row[j] = best;
		}
	}
	return d[la % 3][lb];
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

/* ---- the command line ---- */

static const char *usage_line;	/* the running command's, after "fpc " */

void diag_set_usage(const char *usage)
{
	usage_line = usage;
}

int diag_usage(const char *fmt, ...)
{
	size_t n = usage_line ? strcspn(usage_line, " ") : 0;
	va_list ap;

	/* "fpc query: error: ...", or "fpc: error: ..." for `fpc POLICY` */
	if (n && usage_line[0] >= 'a' && usage_line[0] <= 'z')
		fprintf(stderr, "fpc %.*s: error: ", (int)n, usage_line);
	else
		fputs("fpc: error: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\n", stderr);
	if (usage_line)
		fprintf(stderr, "usage: fpc %s\n", usage_line);
	return 2;
}

/* The number of entries of a NULL-terminated list. */
static int list_len(const char *const *l)
{
	int n = 0;

	while (l[n])
		n++;
	return n;
}

int diag_unknown_option(const char *opt, const char *const *known)
{
	const char *hint = diag_suggest(opt, known, list_len(known));

	if (hint)
		return diag_usage("unknown option '%s'; did you mean '%s'?", opt, hint);
	return diag_usage("unknown option '%s'", opt);
}

int diag_bad_value(const char *opt, const char *val, const char *const *ok)
{
	const char *hint = diag_suggest(val, ok, list_len(ok));
	Buf all = { 0 };
	int rc;

	for (int i = 0; ok[i]; i++)
		buf_printf(&all, "%s%s", !i ? "" : ok[i + 1] ? ", " : " or ", ok[i]);
	if (hint)
		rc = diag_usage("%s '%s': did you mean '%s'? (%s)", opt, val, hint, all.data);
	else
		rc = diag_usage("%s '%s': not %s", opt, val, all.data);
	buf_free(&all);
	return rc;
}

/* The k-th word (0-based) of names, in buf; "arguments" past its end. */
static const char *nth_name(const char *names, int k, char *buf, size_t size)
{
	const char *w = names;

	for (int i = 0; i < k && w; i++) {
		w = strchr(w, ' ');
		if (w)
			w++;
	}
	if (!w || !*w)
		return "arguments";
	snprintf(buf, size, "%.*s", (int)strcspn(w, " "), w);
	return buf;
}

int diag_args(int argc, char **argv, const DiagOpt *opts, const char **pos,
	      int min, int max, const char *names)
{
	const char *known[32];
	int n = 0, k = 0;
	bool words = false;	/* after "--" */
	char name[64];

	for (const DiagOpt *o = opts; o && o->name && k < 31; o++)
		known[k++] = o->name;
	known[k] = NULL;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const DiagOpt *o = NULL;

		if (!words && !strcmp(a, "--")) {
			words = true;
			continue;
		}
		if (words || a[0] != '-' || !a[1]) {
			if (n == max)
				return diag_usage("unexpected argument '%s'", a), -1;
			pos[n++] = a;
			continue;
		}
		for (int j = 0; opts && opts[j].name && !o; j++)
			if (!strcmp(opts[j].name, a))
				o = &opts[j];
		if (!o)
			return diag_unknown_option(a, known), -1;
		if (o->flag) {
			*o->flag = true;
		} else if (i + 1 >= argc) {
			return diag_usage("%s needs a value", a), -1;
		} else {
			*o->value = argv[++i];
		}
	}
	if (n < min)
		return diag_usage("missing %s", nth_name(names, n, name, sizeof name)), -1;
	return n;
}
