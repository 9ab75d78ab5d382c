/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fmt.c: `fpc fmt POLICY` prints a policy in its normal form; `fpc fmt
 * --check POLICY...` names the files not in it (exit 1), `fpc fmt -w
 * POLICY...` rewrites them in place, atomically.
 *
 * The normal form: one statement per line, blocks indented by four spaces,
 * single spaces between words, names (and the SPIFFE IDs and host paths) of
 * consecutive service, identity and mount declarations aligned in columns,
 * the trust table aligned in columns; a source block written on one line
 * stays on one line, and a run of them is aligned like the declarations.
 * Comments are kept: a comment on a
 * line of its own stays above what follows it, a comment after code stays
 * after that code, at its old column when it still fits. Blank lines are
 * kept (several become one), except right after '{' and before '}'.
 * Formatting its own output changes nothing.
 */
#include "front.h"
#include "ast.h"

#include <errno.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct Fmt {
	const Ast *ast;
	Buf *out;
	Buf line;	/* the line being built */
	int ci;		/* the next comment not yet printed */
	int prev_end;	/* last source line of the previous item */
	bool no_blank;	/* just after '{' or just before '}' */
} Fmt;

enum { INDENT = 4 };

/* Append s quoted, with '"' and '\' escaped. */
static void put_quoted(Buf *b, const char *s)
{
	buf_puts(b, "\"");
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			buf_puts(b, "\\");
		buf_append(b, s, 1);
	}
	buf_puts(b, "\"");
}

static int quoted_len(const char *s)
{
	int n = 2;

	for (; *s; s++)
		n += 1 + (*s == '"' || *s == '\\');
	return n;
}

static void pad_to(Buf *b, size_t col)
{
	while (b->len < col)
		buf_puts(b, " ");
}

static void put_list(Buf *b, const AstList *l, bool quoted)
{
	for (int i = 0; i < l->n; i++) {
		if (i)
			buf_puts(b, ", ");
		if (quoted)
			put_quoted(b, l->v[i].s);
		else
			buf_puts(b, l->v[i].s);
	}
}

/* Start a line at indent, with a blank line before it when the source had
 * one between the previous item and this one (which starts at line). */
static void begin(Fmt *F, int indent, int line)
{
	if (!F->no_blank && F->prev_end > 0 && line > F->prev_end + 1)
		buf_puts(F->out, "\n");
	F->no_blank = false;
	F->line.len = 0;
	if (F->line.data)
		F->line.data[0] = '\0';
	pad_to(&F->line, (size_t)indent);
}

/* End the current line, which ends source line `line`; append the comment
 * that trails that line if the next item starts on a later line. */
static void end(Fmt *F, int line, int next_line)
{
	const Ast *ast = F->ast;

	while (F->line.len > 0 && F->line.data[F->line.len - 1] == ' ')
		F->line.data[--F->line.len] = '\0';
	if (F->ci < ast->n_comments && next_line > line) {
		const AstComment *c = &ast->comments[F->ci];

		if (c->loc.first_line == line && c->trailing) {
			size_t col = (size_t)c->loc.first_col - 1;

			if (col < F->line.len + 2)
				col = F->line.len + 2;
			pad_to(&F->line, col);
			buf_puts(&F->line, c->text);
			F->ci++;
		}
	}
	buf_append(F->out, F->line.data ? F->line.data : "", F->line.len);
	buf_puts(F->out, "\n");
	if (line > F->prev_end)
		F->prev_end = line;
}

/* Print, each on its own line, the comments before source line `line`. */
static void comments_before(Fmt *F, int indent, int line)
{
	const Ast *ast = F->ast;

	while (F->ci < ast->n_comments && ast->comments[F->ci].loc.first_line < line) {
		const AstComment *c = &ast->comments[F->ci++];

		begin(F, indent, c->loc.first_line);
		buf_puts(&F->line, c->text);
		buf_append(F->out, F->line.data, F->line.len);
		buf_puts(F->out, "\n");
		F->prev_end = c->loc.first_line;
	}
}

/* Column widths for a run of aligned declarations. */
typedef struct Widths {
	int name, second;
} Widths;

static void fmt_stmt(Fmt *F, const AstStmt *s, int indent, int next_line,
		     const Widths *w);

/* The statements of a block, then the comments before its '}'. */
static void fmt_body(Fmt *F, AstStmt *const *body, int n, int indent,
		     int close_line)
{
	for (int i = 0; i < n; i++) {
		int next = i + 1 < n ? body[i + 1]->loc.first_line : close_line;

		fmt_stmt(F, body[i], indent, next, NULL);
	}
	comments_before(F, indent, close_line);
}

/* The closing '}' of a block at indent, on source line close. */
static void fmt_close(Fmt *F, int indent, int close, int next_line)
{
	F->no_blank = true;
	begin(F, indent, close);
	buf_puts(&F->line, "}");
	end(F, close, next_line);
}

/* ` {` after the keyword and name already in the line, the body, `}`. */
static void fmt_block(Fmt *F, const AstStmt *s, int indent, int next_line)
{
	int close = s->close.first_line;
	int first = s->n_body ? s->body[0]->loc.first_line : close;

	buf_puts(&F->line, " {");
	end(F, s->open.first_line, first);
	F->no_blank = true;
	fmt_body(F, s->body, s->n_body, indent + INDENT, close);
	fmt_close(F, indent, close, next_line);
}

static void fmt_via(Buf *b, const AstStmt *s)
{
	buf_puts(b, "via");
	switch ((ViaKind)s->sub) {
	case VIA_NET:
		if (s->list.n) {
			buf_puts(b, " ");
			put_list(b, &s->list, true);
		}
		if (s->list2.n) {
			buf_puts(b, " from ");
			put_list(b, &s->list2, false);
		}
		break;
	case VIA_USER:
		buf_printf(b, " user %s", s->a.s);
		break;
	case VIA_ANY:
		buf_puts(b, " any");
		break;
	default:
		BUG("via kind %d", s->sub);
	}
	buf_puts(b, ";");
}

/* Was block s written on one line (`source anyone { via any; }`)? Then it
 * stays on one line: nothing inside can be a comment, which would have run
 * to the end of the line. */
static bool one_line(const AstStmt *s)
{
	return s->open.first_line == s->close.first_line;
}

/* A one-line source after "source NAME" (padded to w's name column in a
 * run of them): ` { via ...; via ...; }`. */
static void fmt_source_line(Fmt *F, const AstStmt *s, int next_line, const Widths *w)
{
	pad_to(&F->line, F->line.len + (size_t)(w ? w->name - (int)strlen(s->name.s) : 0));
	buf_puts(&F->line, " {");
	for (int i = 0; i < s->n_body; i++) {
		buf_puts(&F->line, " ");
		fmt_via(&F->line, s->body[i]);
	}
	buf_puts(&F->line, " }");
	end(F, s->close.first_line, next_line);
}

static void fmt_service(Buf *b, const AstStmt *s, const Widths *w)
{
	buf_puts(b, "service ");
	buf_puts(b, s->name.s);
	pad_to(b, b->len + (size_t)(w ? w->name - (int)strlen(s->name.s) : 0));
	switch ((ServiceKind)s->sub) {
	case SVC_TCP:
	case SVC_UDP:
		buf_printf(b, " %s %s", s->sub == SVC_TCP ? "tcp" : "udp", s->a.s);
		if (s->b.s)
			buf_printf(b, "-%s", s->b.s);
		if (s->c.s)
			buf_printf(b, " on %s", s->c.s);
		break;
	case SVC_UNIX:
		buf_puts(b, " unix ");
		put_quoted(b, s->a.s);
		buf_printf(b, " owner %s:%s mode %s", s->b.s, s->c.s, s->d.s);
		break;
	case SVC_EGRESS:
		buf_puts(b, " egress");
		if (s->c.s) {
			buf_printf(b, " %s %s", s->c.s, s->a.s);
			if (s->b.s)
				buf_printf(b, "-%s", s->b.s);
		}
		if (s->list.n) {
			buf_puts(b, " to ");
			put_list(b, &s->list, false);
		}
		break;
	default:
		BUG("service kind %d", s->sub);
	}
	buf_puts(b, ";");
}

static void fmt_identity(Buf *b, const AstStmt *s, const Widths *w)
{
	size_t col;

	buf_puts(b, "identity ");
	col = b->len + (size_t)(w ? w->name : 0);
	buf_puts(b, s->name.s);
	pad_to(b, col);
	buf_puts(b, " ");
	col = b->len + (size_t)(w ? w->second : 0);
	put_quoted(b, s->a.s);
	pad_to(b, col);
	buf_puts(b, " selector ");
	put_list(b, &s->list, true);
	if (s->b.s)
		buf_printf(b, " privilege %s", s->b.s);
	buf_puts(b, ";");
}

static void fmt_mount(Buf *b, const AstStmt *s, const Widths *w)
{
	size_t col;

	buf_puts(b, "mount ");
	col = b->len + (size_t)(w ? w->name : 0);
	buf_puts(b, s->name.s);
	pad_to(b, col);
	buf_puts(b, " ");
	if (s->sub == 0) {
		col = b->len + (size_t)(w ? w->second : 0);
		put_quoted(b, s->a.s);
		pad_to(b, col);
		buf_puts(b, " at ");
		put_quoted(b, s->b.s);
	} else {
		buf_printf(b, "service %s", s->a.s);
	}
	if (s->c.s)
		buf_printf(b, " %s", s->c.s);
	buf_puts(b, ";");
}

static void fmt_range(Buf *b, const AstStmt *s)
{
	static const char *const kw[] = { "cpus", "memory", "timeout" };

	if (s->sub < 0 || s->sub > RANGE_TIMEOUT)
		BUG("range kind %d", s->sub);
	buf_printf(b, "%s %s..%s", kw[s->sub], s->a.s, s->b.s);
	if (s->c.s)
		buf_printf(b, " %s", s->c.s);
	if (s->d.s)
		buf_printf(b, " default %s", s->d.s);
	buf_puts(b, ";");
}

static void fmt_engine(Buf *b, const AstStmt *s)
{
	buf_printf(b, "engine %s", s->name.s);
	if (s->sub)
		buf_puts(b, " rootless");
	if (s->a.s)
		buf_printf(b, " user %s", s->a.s);
	if (s->b.s)
		buf_printf(b, " uid %s", s->b.s);
	buf_puts(b, ";");
}

/* One trust-table line: a name column of width namew, then the cells in
 * columns of widths colw (the last column unpadded). */
/* peer SOURCE key "KEY" [endpoint "E"] [keepalive N] [allow ADDRS]; */
static void fmt_peer(Buf *b, const AstStmt *s)
{
	buf_printf(b, "peer %s key ", s->name.s);
	put_quoted(b, s->a.s);
	if (s->b.s) {
		buf_puts(b, " endpoint ");
		put_quoted(b, s->b.s);
	}
	if (s->c.s)
		buf_printf(b, " keepalive %s", s->c.s);
	if (s->list.n) {
		buf_puts(b, " allow ");
		put_list(b, &s->list, false);
	}
	buf_puts(b, ";");
}

static void fmt_row(Fmt *F, int indent, int line, int next_line, const char *name,
		    const char *const *cells, int n, int namew, const int *colw)
{
	size_t col;

	begin(F, indent, line);
	col = F->line.len + (size_t)namew;
	buf_puts(&F->line, name);
	pad_to(&F->line, col);
	for (int j = 0; j < n; j++) {
		col = F->line.len + (size_t)colw[j];
		buf_puts(&F->line, cells[j]);
		pad_to(&F->line, col);
	}
	end(F, line, next_line);
}

static void fmt_trust(Fmt *F, const AstStmt *s, int indent, int next_line)
{
	int ncol = s->list.n, namew = 0, *colw;
	int close = s->close.first_line, in = indent + INDENT;
	const char **cells;

	for (int r = 0; r < s->n_body; r++) {
		int len = (int)strlen(s->body[r]->name.s);

		namew = len + 1 > namew ? len + 1 : namew;
		ncol = s->body[r]->n_cells > ncol ? s->body[r]->n_cells : ncol;
	}
	colw = xcalloc((size_t)ncol + 1, sizeof *colw);
	cells = xcalloc((size_t)ncol + 1, sizeof *cells);
	for (int j = 0; j < s->list.n; j++)
		colw[j] = (int)strlen(s->list.v[j].s);
	for (int r = 0; r < s->n_body; r++)
		for (int j = 0; j < s->body[r]->n_cells; j++) {
			int len = (int)strlen(s->body[r]->cells[j].s);

			colw[j] = len > colw[j] ? len : colw[j];
		}
	for (int j = 0; j < ncol; j++)
		colw[j] += 2;
	buf_puts(&F->line, "trust {");
	if (s->list.n) {
		int hline = s->list.v[0].loc.first_line;
		int first = s->n_body ? s->body[0]->loc.first_line : close;

		end(F, s->open.first_line, hline);
		F->no_blank = true;
		comments_before(F, in, hline);
		for (int j = 0; j < s->list.n; j++)
			cells[j] = s->list.v[j].s;
		fmt_row(F, in, hline, first, "", cells, s->list.n, namew, colw);
		for (int r = 0; r < s->n_body; r++) {
			const AstStmt *row = s->body[r];
			int line = row->loc.first_line;

			comments_before(F, in, line);
			for (int j = 0; j < row->n_cells; j++)
				cells[j] = row->cells[j].s;
			fmt_row(F, in, line,
				r + 1 < s->n_body ? s->body[r + 1]->loc.first_line : close,
				row->name.s, cells, row->n_cells, namew, colw);
		}
	} else {
		end(F, s->open.first_line, close);
		F->no_blank = true;
	}
	comments_before(F, in, close);
	free(colw);
	free(cells);
	fmt_close(F, indent, close, next_line);
}

/* Print statement s (and the comments inside it) at indent; next_line is
 * where the item after it starts; w aligns declarations in a run. */
static void fmt_stmt(Fmt *F, const AstStmt *s, int indent, int next_line,
		     const Widths *w)
{
	Buf *b = &F->line;
	bool blk = s->kind == AST_POLICY || s->kind == AST_SOURCE || s->kind == AST_TRUST ||
		s->kind == AST_INVARIANT || s->kind == AST_PRIVILEGE || s->kind == AST_CONTAINER ||
		s->kind == AST_WIREGUARD || s->kind == AST_RSYNCD;
	int last = s->loc.last_line;

	/* comments inside the statement's first line(s) go above it */
	comments_before(F, indent, blk ? s->open.first_line : last);
	begin(F, indent, s->loc.first_line);
	switch (s->kind) {
	case AST_POLICY:
		buf_printf(b, "policy %s", s->name.s);
		fmt_block(F, s, indent, next_line);
		return;
	case AST_SOURCE:
		buf_printf(b, "source %s", s->name.s);
		if (one_line(s))
			fmt_source_line(F, s, next_line, w);
		else
			fmt_block(F, s, indent, next_line);
		return;
	case AST_INVARIANT:
		buf_printf(b, "invariant %s ", s->name.s);
		put_quoted(b, s->a.s);
		fmt_block(F, s, indent, next_line);
		return;
	case AST_PRIVILEGE:
		buf_printf(b, "privilege %s", s->name.s);
		fmt_block(F, s, indent, next_line);
		return;
	case AST_CONTAINER:
		buf_puts(b, "container");
		fmt_block(F, s, indent, next_line);
		return;
	case AST_TRUST:
		fmt_trust(F, s, indent, next_line);
		return;
	case AST_TABLE:
		buf_printf(b, "table %s %s;", s->a.s, s->b.s);
		break;
	case AST_ROOTS:
		buf_printf(b, "mount %s ", s->name.s);
		put_list(b, &s->list, true);
		buf_puts(b, ";");
		break;
	case AST_VIA:
		fmt_via(b, s);
		break;
	case AST_SERVICE:
		fmt_service(b, s, w);
		break;
	case AST_CLAUSE:
		buf_printf(b, "%s %s reach ", s->name.s, s->sub ? "can" : "cannot");
		put_list(b, &s->list, false);
		buf_puts(b, ";");
		break;
	case AST_TRUST_DOMAIN:
		buf_puts(b, "trust_domain ");
		put_quoted(b, s->a.s);
		buf_puts(b, ";");
		break;
	case AST_IDENTITY:
		fmt_identity(b, s, w);
		break;
	case AST_SECRETS:
		buf_puts(b, "secrets ");
		put_list(b, &s->list, false);
		buf_puts(b, ";");
		break;
	case AST_GRANT:
		buf_printf(b, "mount %s %s;", s->name.s, s->a.s);
		break;
	case AST_RANGE:
		fmt_range(b, s);
		break;
	case AST_MOUNT:
		fmt_mount(b, s, w);
		break;
	case AST_C_SOURCE:
		buf_printf(b, "source %s;", s->name.s);
		break;
	case AST_C_ENGINE:
		fmt_engine(b, s);
		break;
	case AST_C_USERNS:
		buf_printf(b, "userns %s;", s->a.s);
		break;
	case AST_C_NETWORK:
		buf_printf(b, "network %s;", s->a.s);
		break;
	case AST_C_IMAGE:
		buf_puts(b, "image ");
		put_quoted(b, s->a.s);
		buf_puts(b, ";");
		break;
	case AST_C_CAP_DROP:
		buf_puts(b, "cap_drop ");
		put_list(b, &s->list, false);
		buf_puts(b, ";");
		break;
	case AST_C_SECOPT:
		buf_puts(b, "security_opt ");
		put_list(b, &s->list, true);
		buf_puts(b, ";");
		break;
	case AST_C_LABEL:
		buf_puts(b, "label ");
		put_quoted(b, s->a.s);
		buf_puts(b, " = ");
		put_quoted(b, s->b.s);
		buf_puts(b, ";");
		break;
	case AST_WIREGUARD:
		buf_puts(b, "wireguard ");
		put_quoted(b, s->name.s);
		fmt_block(F, s, indent, next_line);
		return;
	case AST_WG_LISTEN:
		buf_printf(b, "listen %s;", s->name.s);
		break;
	case AST_WG_PEER:
		fmt_peer(b, s);
		break;
	case AST_RSYNCD:
		buf_puts(b, "rsyncd");
		fmt_block(F, s, indent, next_line);
		return;
	case AST_RS_SERVICE:
		buf_printf(b, "service %s;", s->name.s);
		break;
	case AST_RS_MODULE:
		buf_printf(b, "module %s mount %s;", s->name.s, s->a.s);
		break;
	case AST_RS_MAXCONN:
		buf_printf(b, "max_connections %s;", s->a.s);
		break;
	case AST_SPIRE_PARENT:
		buf_puts(b, "spire_parent ");
		put_quoted(b, s->a.s);
		buf_puts(b, ";");
		break;
	case AST_ROW:
	default:
		BUG("statement kind %d", (int)s->kind);
	}
	end(F, last, next_line);
}

/* Is there a comment after source line prev and before statement s ends
 * that the output prints on a line of its own (everything but a comment
 * trailing s's last line)? It ends a run of aligned declarations, in the
 * source and in the output alike. */
static bool comment_splits(const Ast *ast, int prev, const AstStmt *s)
{
	int lo = 0, hi = ast->n_comments, line;

	while (lo < hi) {	/* the first comment after line prev (in order) */
		int mid = lo + (hi - lo) / 2;

		if (ast->comments[mid].loc.first_line <= prev)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == ast->n_comments)
		return false;
	line = ast->comments[lo].loc.first_line;
	return line < s->loc.last_line ||
		(line == s->loc.last_line && !ast->comments[lo].trailing);
}

/* Widths for the run of declarations of s's kind starting at decls[i]
 * (consecutive lines, no blank or comment line between); returns the run's
 * length. */
static int run_widths(const Ast *ast, int i, Widths *w)
{
	AstKind kind = ast->decls[i]->kind;
	int j = i;

	*w = (Widths){ 0 };
	for (; j < ast->n_decls; j++) {
		const AstStmt *s = ast->decls[j];
		int len;

		if (s->kind != kind ||
		    (j > i && (s->loc.first_line > ast->decls[j - 1]->loc.last_line + 1 ||
			       comment_splits(ast, ast->decls[j - 1]->loc.last_line, s))) ||
		    (kind == AST_SOURCE && !one_line(s)))
			break;
		len = (int)strlen(s->name.s);
		w->name = len > w->name ? len : w->name;
		if (kind == AST_IDENTITY || (kind == AST_MOUNT && s->sub == 0)) {
			len = quoted_len(s->a.s);
			w->second = len > w->second ? len : w->second;
		}
	}
	return j - i;
}

void fmt_policy(const Ast *ast, const char *text, Buf *out)
{
	Fmt F = { .ast = ast, .out = out };
	Widths w = { 0 };
	int run = 0;

	(void)text;
	for (int i = 0; i < ast->n_decls; i++) {
		const AstStmt *s = ast->decls[i];
		int next = i + 1 < ast->n_decls ? ast->decls[i + 1]->loc.first_line : INT_MAX;

		if (run == 0 && (s->kind == AST_SERVICE || s->kind == AST_IDENTITY ||
				 s->kind == AST_MOUNT || (s->kind == AST_SOURCE && one_line(s))))
			run = run_widths(ast, i, &w);
		fmt_stmt(&F, s, 0, next, run > 0 ? &w : NULL);
		if (run > 0)
			run--;
	}
	comments_before(&F, 0, INT_MAX);
	buf_free(&F.line);
}

typedef enum { FMT_PRINT, FMT_CHECK, FMT_WRITE } FmtMode;

/* The normal form of the file at path into out, and whether it differs
 * from the file (*differs); 0, or 1 after printing the file's mistakes. */
static int fmt_file(const char *path, Buf *out, bool *differs)
{
	Arena *a = arena_new();
	Diag *d = diag_new();
	const char *text;
	size_t len;
	Ast *ast = policy_parse_file(path, a, d, &text, &len);
	int rc = 1;

	if (ast && !diag_errors(d)) {
		fmt_policy(ast, text, out);
		*differs = out->len != len || memcmp(out->data ? out->data : "", text, len);
		rc = 0;
	}
	diag_flush(d, stderr);
	diag_free(d);
	arena_free(a);
	return rc;
}

/* Replace the file at path by data atomically: a temporary file beside it
 * (beside the target of a symbolic link, which stays a link) with the old
 * file's mode and, where allowed, owner, renamed over it. A reader sees
 * the old text or the new, never a mix. 0, or 1 with a message. */
static int rewrite(const char *path, const Buf *data)
{
	char *real = realpath(path, NULL), *tmp = NULL;
	struct stat st;
	int rc = 1;

	if (!real || stat(real, &st) < 0)
		fprintf(stderr, "fpc: error: cannot write %s: %s\n", path, strerror(errno));
	else if (!(tmp = write_temp_file(real, data->data ? data->data : "", data->len)))
		fprintf(stderr, "fpc: error: cannot write %s: %s\n", path, strerror(errno));
	else if (chmod(tmp, st.st_mode & 07777) < 0 ||
		 (chown(tmp, st.st_uid, st.st_gid) < 0 && errno != EPERM) ||
		 rename(tmp, real) < 0) {
		fprintf(stderr, "fpc: error: cannot write %s: %s\n", path, strerror(errno));
		unlink(tmp);
	} else {
		rc = 0;
	}
	free(tmp);
	free(real);
	return rc;
}

int cmd_fmt(int argc, char **argv)
{
	static const char *const opts[] = { "--check", "-w", NULL };
	FmtMode mode = FMT_PRINT;
	int n = 0, rc = 0;

	for (int i = 1; i < argc; i++) {
		const char *o = argv[i];
		FmtMode m = !strcmp(o, "--check") ? FMT_CHECK : !strcmp(o, "-w") ? FMT_WRITE :
			FMT_PRINT;

		if (m != FMT_PRINT && mode != FMT_PRINT && m != mode)
			return diag_usage("--check and -w exclude each other");
		if (m != FMT_PRINT)
			mode = m;
		else if (o[0] == '-' && o[1])
			return diag_unknown_option(o, opts);
		else
			argv[++n] = argv[i];	/* the files, in order */
	}
	if (n == 0)
		return diag_usage("missing POLICY");
	if (mode == FMT_PRINT && n > 1)
		return diag_usage("one policy to print ('%s' is a second); --check or -w take several",
				  argv[2]);
	/* exit 1: a file that does not parse or cannot be written, and for
	 * --check one not in normal form */
	for (int i = 1; i <= n; i++) {
		Buf out = { 0 };
		bool differs = false;

		if (fmt_file(argv[i], &out, &differs)) {
			rc = 1;
		} else if (mode == FMT_PRINT) {
			fwrite(out.data ? out.data : "", 1, out.len, stdout);
			if (fflush(stdout))
				rc = 1;
		} else if (differs && mode == FMT_CHECK) {
			printf("%s\n", argv[i]);
			rc = 1;
		} else if (differs) {
			if (rewrite(argv[i], &out))
				rc = 1;
			else
				printf("%s\n", argv[i]);
		}
		buf_free(&out);
	}
	return rc;
}
