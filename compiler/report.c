/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * report.c: `fpc report POLICY [-o FILE] [--format html|svg|dot]`, the
 * trust boundary as a picture for a reviewer.
 *
 * html (the default) is one self-contained page, no network resource (its
 * Content-Security-Policy forbids any): the trust matrix coloured allow /
 * deny / none, a graph of sources -> services along the allow cells drawn
 * as inline SVG, each invariant with the prover's verdict (proved, or its
 * counterexample), for each cell the rules that realise it with their
 * policy lines, and the artifacts a compile writes. svg is the graph alone,
 * dot the same graph for Graphviz. The output is deterministic.
 *
 * It uses every layer (front: load; back: lower, the artifacts; prove: the
 * proof), so it sits with the driver.
 */
#include "compile.h"

#include <errno.h>
#include <openssl/evp.h>
#include <unistd.h>

typedef enum { FMT_HTML, FMT_SVG, FMT_DOT } Format;

/* ---- text helpers ---- */

/* Append s escaped for HTML text (attribute values here are names). */
static void put_html(Buf *b, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&': buf_puts(b, "&amp;"); break;
		case '<': buf_puts(b, "&lt;"); break;
		case '>': buf_puts(b, "&gt;"); break;
		default: buf_append(b, s, 1);
		}
	}
}

/* Append s as the inside of a DOT double-quoted string. */
static void put_dot(Buf *b, const char *s)
{
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			buf_puts(b, "\\");
		buf_append(b, s, 1);
	}
}

/* The text of line `line` of p's source, blanks at both ends removed, in a. */
static const char *source_line(const Policy *p, int line, Arena *a)
{
	const char *s = p->text, *end = p->text + p->text_len, *e;

	for (int l = 1; l < line && s < end; l++) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));

		s = nl ? nl + 1 : end;
	}
	e = memchr(s, '\n', (size_t)(end - s));
	if (!e)
		e = end;
	while (s < e && (*s == ' ' || *s == '\t'))
		s++;
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
		e--;
	return arena_strndup(a, s, (size_t)(e - s));
}

/* The cell's class name in the page ("none" for -). */
static const char *cell_word(CellKind k)
{
	return k == CELL_ALLOW ? "allow" : k == CELL_DENY ? "deny" : "none";
}

/* ---- the graph: sources on the left, services on the right ---- */

enum { NODE_H = 44, NODE_STEP = 58, COL_GAP = 190, PAD = 10 };

typedef struct Node {
	const char *name, *sub;	/* the name, and its vias or protocol */
	int x, y, w;
} Node;

typedef struct Graph {
	Node *src, *svc;	/* by source index, by service index */
	int *svc_order;		/* services top to bottom */
	int width, height;
} Graph;

/* Text width estimates for the node boxes (no font metrics here). */
static int node_width(const char *name, const char *sub)
{
	int a = (int)strlen(name) * 9, b = (int)strlen(sub) * 6 + 4, w = a > b ? a : b;

	return (w < 80 ? 80 : w) + 22;
}

/* A service node's border: blue tcp/udp, purple unix, orange egress. */
static const char *svc_colour(const Service *v)
{
	switch (v->kind) {
	case SVC_TCP: case SVC_UDP: return "#1f5fbf";
	case SVC_UNIX: return "#7b3fb0";
	case SVC_EGRESS: return "#c45d00";
	default: BUG("service kind %d", (int)v->kind);
	}
}

/* A label of at most 44 characters: longer ones end in "...". */
static const char *short_label(Arena *a, const char *s)
{
	return strlen(s) <= 44 ? s : arena_printf(a, "%.41s...", s);
}

/* Services ordered by the mean row of the sources allowed to reach them
 * (fewer crossing edges), those nobody is allowed to reach last; ties keep
 * column order. */
static void order_services(const Policy *p, int *order)
{
	double *key = xcalloc((size_t)p->n_services + 1, sizeof *key);

	for (int v = 0; v < p->n_services; v++) {
		int n = 0, sum = 0;

		for (int s = 0; s < p->n_sources; s++)
			if (policy_cell(p, s, v)->kind == CELL_ALLOW)
				n++, sum += s;
		key[v] = n ? (double)sum / n : 1e9;
		order[v] = v;
	}
	for (int i = 1; i < p->n_services; i++)	/* stable insertion sort */
		for (int j = i; j > 0 && key[order[j - 1]] > key[order[j]]; j--) {
			int t = order[j];

			order[j] = order[j - 1];
			order[j - 1] = t;
		}
	free(key);
}

/* Node n named name, labelled with label's text (freed here), sized. */
static void fill_node(Arena *a, Node *n, const char *name, Buf *label)
{
	n->name = name;
	n->sub = short_label(a, arena_strdup(a, label->data ? label->data : ""));
	n->w = node_width(n->name, n->sub);
	buf_free(label);
}

/* Place the nodes: sources in row order on the left, services on the
 * right (order_services), both columns centred on the taller one. */
static void graph_layout(const Policy *p, Arena *a, Graph *g)
{
	int wl = 0, wr = 0, hl, hr;

	g->src = arena_alloc(a, (size_t)(p->n_sources + 1) * sizeof *g->src);
	g->svc = arena_alloc(a, (size_t)(p->n_services + 1) * sizeof *g->svc);
	g->svc_order = arena_alloc(a, (size_t)(p->n_services + 1) * sizeof(int));
	for (int s = 0; s < p->n_sources; s++) {
		Buf b = { 0 };
		Node *n = &g->src[s];

		describe_source(p->sources[s], &b);
		fill_node(a, n, p->sources[s]->name, &b);
		wl = n->w > wl ? n->w : wl;
	}
	for (int v = 0; v < p->n_services; v++) {
		Buf b = { 0 };
		Node *n = &g->svc[v];

		if (p->services[v]->kind == SVC_UNIX)	/* the path says enough */
			buf_printf(&b, "unix %s", p->services[v]->path);
		else
			describe_service(p->services[v], &b);
		fill_node(a, n, p->services[v]->name, &b);
		wr = n->w > wr ? n->w : wr;
	}
	order_services(p, g->svc_order);
	hl = p->n_sources * NODE_STEP - (NODE_STEP - NODE_H);
	hr = p->n_services * NODE_STEP - (NODE_STEP - NODE_H);
	g->height = (hl > hr ? hl : hr) + 2 * PAD;
	g->width = PAD + wl + COL_GAP + wr + PAD;
	for (int s = 0; s < p->n_sources; s++) {
		g->src[s].x = PAD;
		g->src[s].y = PAD + (g->height - 2 * PAD - hl) / 2 + s * NODE_STEP;
		g->src[s].w = wl;
	}
	for (int i = 0; i < p->n_services; i++) {
		Node *n = &g->svc[g->svc_order[i]];

		n->x = PAD + wl + COL_GAP;
		n->y = PAD + (g->height - 2 * PAD - hr) / 2 + i * NODE_STEP;
		n->w = wr;
	}
}

/* One node: a rounded box, the name in bold, its description below. */
static void svg_node(const Node *n, const char *cls, const char *fill,
		     const char *stroke, int stroke_w, Buf *out)
{
	buf_printf(out, "<g class=\"%s\" data-name=\"", cls);
	put_html(out, n->name);
	buf_printf(out, "\"><rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" rx=\"8\" "
		   "fill=\"%s\" stroke=\"%s\" stroke-width=\"%d\"/>", n->x, n->y, n->w,
		   NODE_H, fill, stroke, stroke_w);
	buf_printf(out, "<text x=\"%d\" y=\"%d\" font-size=\"14\" font-weight=\"600\" "
		   "fill=\"#1d2330\">", n->x + 11, n->y + 19);
	put_html(out, n->name);
	buf_printf(out, "</text><text x=\"%d\" y=\"%d\" font-size=\"11\" fill=\"#5d6778\">",
		   n->x + 11, n->y + 35);
	put_html(out, n->sub);
	buf_puts(out, "</text></g>\n");
}

/* The graph as an <svg> element (standalone: with the XML declaration). */
static void render_svg(const Policy *p, const Graph *g, bool standalone, Buf *out)
{
	if (standalone)
		buf_puts(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
	buf_printf(out, "<svg xmlns=\"http://www.w3.org/2000/svg\" id=\"boundary\" "
		   "width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" role=\"img\" "
		   "font-family=\"system-ui, 'DejaVu Sans', sans-serif\">\n",
		   g->width, g->height, g->width, g->height);
	buf_puts(out, "<title>");
	put_html(out, p->name);
	buf_puts(out, ": who may reach what (the allow cells of the trust table)</title>\n"
		 "<defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" "
		 "markerWidth=\"7\" markerHeight=\"7\" orient=\"auto\">"
		 "<path d=\"M0,0 L10,5 L0,10 z\" fill=\"#2e7d32\"/></marker></defs>\n"
		 "<g class=\"edges\" fill=\"none\" stroke=\"#2e7d32\" stroke-width=\"2\">\n");
	for (int s = 0; s < p->n_sources; s++)
		for (int v = 0; v < p->n_services; v++) {
			const Node *a = &g->src[s], *b = &g->svc[v];
			int x1 = a->x + a->w, y1 = a->y + NODE_H / 2;
			int x2 = b->x - 2, y2 = b->y + NODE_H / 2, mid = (x1 + x2) / 2;

			if (policy_cell(p, s, v)->kind != CELL_ALLOW)
				continue;
			buf_puts(out, "<path data-src=\"");
			put_html(out, a->name);
			buf_printf(out, "\" marker-end=\"url(#arrow)\" d=\"M%d,%d C%d,%d %d,%d %d,%d\"/>\n",
				   x1, y1, mid, y1, mid, y2, x2, y2);
		}
	buf_puts(out, "</g>\n");
	for (int s = 0; s < p->n_sources; s++)
		svg_node(&g->src[s], "src", "#e8eef7", "#9aa8bd", 1, out);
	for (int i = 0; i < p->n_services; i++) {
		const Service *v = p->services[g->svc_order[i]];

		svg_node(&g->svc[v->index], "svc", "#ffffff", svc_colour(v), 2, out);
	}
	buf_puts(out, "</svg>\n");
}

/* The graph in Graphviz's DOT language. */
static void render_dot(const Policy *p, const Graph *g, Buf *out)
{
	buf_puts(out, "// fpc " FPC_VERSION ": who may reach what in policy ");
	put_dot(out, p->name);
	buf_puts(out, " (the allow cells of the trust table)\ndigraph \"");
	put_dot(out, p->name);
	buf_puts(out, "\" {\n\trankdir=LR;\n\tnode [shape=box, style=\"rounded,filled\", "
		 "fontname=\"sans-serif\", fontsize=11];\n\tedge [color=\"#2e7d32\"];\n");
	for (int s = 0; s < p->n_sources; s++) {
		buf_puts(out, "\t\"source ");
		put_dot(out, g->src[s].name);
		buf_puts(out, "\" [label=\"");
		put_dot(out, g->src[s].name);
		buf_puts(out, "\\n");
		put_dot(out, g->src[s].sub);
		buf_puts(out, "\", fillcolor=\"#e8eef7\"];\n");
	}
	for (int i = 0; i < p->n_services; i++) {
		const Service *v = p->services[g->svc_order[i]];

		buf_puts(out, "\t\"service ");
		put_dot(out, v->name);
		buf_puts(out, "\" [label=\"");
		put_dot(out, v->name);
		buf_puts(out, "\\n");
		put_dot(out, g->svc[v->index].sub);
		buf_printf(out, "\", fillcolor=\"#ffffff\", color=\"%s\"];\n", svc_colour(v));
	}
	for (int s = 0; s < p->n_sources; s++)
		for (int v = 0; v < p->n_services; v++) {
			if (policy_cell(p, s, v)->kind != CELL_ALLOW)
				continue;
			buf_puts(out, "\t\"source ");
			put_dot(out, p->sources[s]->name);
			buf_puts(out, "\" -> \"service ");
			put_dot(out, p->services[v]->name);
			buf_puts(out, "\";\n");
		}
	buf_puts(out, "}\n");
}

/* ---- the page ---- */

static const char page_css[] =
	":root { --allow: #d4efd6; --allow-ink: #1b5e20; --deny: #f9d6d2; --deny-ink: #9b1c12;\n"
	"  --none: #eef1f4; --none-ink: #7b8794; --ink: #1d2330; --muted: #5d6778; --line: #d5dbe3; }\n"
	"* { box-sizing: border-box; }\n"
	"body { margin: 0; font: 14px/1.45 system-ui, -apple-system, 'Segoe UI', Roboto, 'DejaVu Sans', sans-serif;\n"
	"  color: var(--ink); background: #f7f8fa; }\n"
	"header { background: #1d2330; color: #fff; padding: 18px 28px; }\n"
	"header h1 { margin: 0; font-size: 22px; font-weight: 600; }\n"
	"header p { margin: 4px 0 0; color: #c5cbd6; }\n"
	".badge { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 12px; font-weight: 600; }\n"
	".ok { background: var(--allow); color: var(--allow-ink); }\n"
	".bad { background: var(--deny); color: var(--deny-ink); }\n"
	".off { background: var(--none); color: var(--none-ink); }\n"
	"main { max-width: 1240px; margin: 0 auto; padding: 4px 28px 32px; }\n"
	"section { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 16px 20px; margin: 18px 0; }\n"
	"h2 { margin: 0 0 12px; font-size: 17px; }\n"
	"code, pre { font: 12.5px/1.4 'DejaVu Sans Mono', Menlo, Consolas, monospace; white-space: pre; }\n"
	"pre { background: #f3f5f8; border: 1px solid var(--line); border-radius: 6px; padding: 8px 10px; overflow-x: auto; margin: 6px 0; }\n"
	".top { display: flex; flex-wrap: wrap; gap: 18px; align-items: flex-start; }\n"
	".top section { margin: 18px 0 0; }\n"
	"table.matrix { border-collapse: separate; border-spacing: 4px; }\n"
	"table.matrix th { font-weight: 600; text-align: left; vertical-align: bottom; padding: 2px 6px; }\n"
	"table.matrix th small { display: block; font-weight: 400; color: var(--muted); font-size: 11.5px; max-width: 220px; }\n"
	"table.matrix td { padding: 0; }\n"
	"table.matrix td a { display: block; min-width: 70px; padding: 9px 8px; text-align: center; border-radius: 6px;\n"
	"  text-decoration: none; font-weight: 600; }\n"
	"td.allow a { background: var(--allow); color: var(--allow-ink); }\n"
	"td.deny a { background: var(--deny); color: var(--deny-ink); }\n"
	"td.none a { background: var(--none); color: var(--none-ink); font-weight: 400; }\n"
	"td a:hover { outline: 2px solid var(--ink); }\n"
	".legend span { display: inline-block; margin-right: 14px; color: var(--muted); font-size: 12.5px; }\n"
	".legend i { display: inline-block; width: 12px; height: 12px; border-radius: 3px; vertical-align: -1px; margin-right: 5px; }\n"
	"svg .edges path { transition: opacity .15s; }\n"
	"svg.focus .edges path { opacity: .15; }\n"
	"svg.focus .edges path.on { opacity: 1; }\n"
	".inv { border-left: 4px solid var(--allow-ink); padding: 2px 12px; margin: 10px 0; }\n"
	".inv.fails { border-color: var(--deny-ink); }\n"
	".inv h3, .cell h3 { margin: 0; font-size: 14.5px; }\n"
	".inv p, .cell p { margin: 2px 0; color: var(--muted); }\n"
	".cell { border-top: 1px solid var(--line); padding: 8px 0; }\n"
	".cell:target { background: #fffbe6; }\n"
	"table.files { border-collapse: collapse; width: 100%; }\n"
	"table.files td, table.files th { border-bottom: 1px solid var(--line); padding: 5px 8px; text-align: left; }\n"
	"footer { color: var(--muted); text-align: center; font-size: 12px; }\n";

/* Hovering a source in the graph or a row of the matrix highlights the
 * edges of that source. The last line marks the page as scripted: a test
 * in a browser checks the mark (the script ran to its end). */
static const char page_js[] =
	"(function () {\n"
	"  var svg = document.getElementById('boundary');\n"
	"  function focus(name) {\n"
	"    svg.classList.toggle('focus', name !== null);\n"
	"    svg.querySelectorAll('.edges path').forEach(function (e) {\n"
	"      e.classList.toggle('on', e.getAttribute('data-src') === name);\n"
	"    });\n"
	"  }\n"
	"  document.querySelectorAll('[data-name]').forEach(function (el) {\n"
	"    if (!el.classList.contains('src')) return;\n"
	"    el.addEventListener('mouseenter', function () { focus(el.getAttribute('data-name')); });\n"
	"    el.addEventListener('mouseleave', function () { focus(null); });\n"
	"  });\n"
	"  document.documentElement.setAttribute('data-ready', 'yes');\n"
	"})();\n";

/* "cell-laptop-api": names are [A-Za-z0-9_-], so ids need no escaping. */
static void cell_id(const Source *s, const Service *v, Buf *out)
{
	buf_printf(out, "cell-%s-%s", s->name, v->name);
}

/* The trust table as a coloured matrix; each cell links to its details. */
static void render_matrix(const Policy *p, const Graph *g, Buf *out)
{
	buf_puts(out, "<section id=\"matrix\">\n<h2>Trust matrix</h2>\n<table class=\"matrix\">\n<tr><th></th>");
	for (int v = 0; v < p->n_services; v++) {
		buf_puts(out, "<th>");
		put_html(out, p->services[v]->name);
		buf_puts(out, "<small>");
		put_html(out, g->svc[v].sub);
		buf_puts(out, "</small></th>");
	}
	buf_puts(out, "</tr>\n");
	for (int s = 0; s < p->n_sources; s++) {
		const Source *src = p->sources[s];

		buf_printf(out, "<tr><th class=\"src\" data-name=\"%s\">", src->name);
		put_html(out, src->name);
		buf_puts(out, "<small>");
		put_html(out, g->src[s].sub);
		buf_puts(out, "</small></th>");
		for (int v = 0; v < p->n_services; v++) {
			CellKind k = policy_cell(p, s, v)->kind;

			buf_printf(out, "<td class=\"%s\"><a href=\"#", cell_word(k));
			cell_id(src, p->services[v], out);
			buf_printf(out, "\" title=\"%s %s %s\">%s</a></td>", src->name,
				   k == CELL_NONE ? "-" : cell_word(k), p->services[v]->name,
				   k == CELL_NONE ? "&ndash;" : cell_word(k));
		}
		buf_puts(out, "</tr>\n");
	}
	buf_puts(out, "</table>\n<p class=\"legend\"><span><i style=\"background:var(--allow)\"></i>allow</span>"
		 "<span><i style=\"background:var(--deny)\"></i>deny</span>"
		 "<span><i style=\"background:var(--none)\"></i>&ndash; none: no rule of its own, "
		 "the rows below decide</span></p>\n</section>\n");
}

/* One "invariant NAME...: holds|FAILS" section of the prover's report. */
static void render_invariant(const Policy *p, const char *head, size_t n,
			     const Buf *body, Buf *out)
{
	const char *name = head + 10;	/* after "invariant " */
	size_t nl = strcspn(name, ": (");
	bool holds = n >= 6 && !memcmp(head + n - 6, " holds", 6);
	const Invariant *inv = NULL;

	for (int i = 0; i < p->n_invariants && !inv; i++)
		if (strlen(p->invariants[i].name) == nl &&
		    !strncmp(p->invariants[i].name, name, nl))
			inv = &p->invariants[i];
	buf_printf(out, "<div class=\"inv%s\"><h3>%.*s <span class=\"badge %s\">%s</span></h3>\n<p>",
		   holds ? "" : " fails", (int)nl, name, holds ? "ok" : "bad",
		   holds ? "proved" : "FAILS");
	if (inv) {
		buf_puts(out, "&ldquo;");
		put_html(out, inv->text);
		buf_puts(out, "&rdquo; <small>");
		put_html(out, p->file);
		buf_printf(out, ":%d</small>", inv->loc.first_line);
	} else {	/* one the prover adds: its line says what it is */
		size_t rest = n - 10 - nl;	/* less ": holds" or ": FAILS" */

		put_html(out, arena_strndup(p->arena, name + nl, rest >= 7 ? rest - 7 : 0));
	}
	buf_puts(out, "</p>\n<pre>");
	put_html(out, body->data ? body->data : "");
	buf_puts(out, "</pre></div>\n");
}

/* Each invariant as the prover's report has it, in its order: the line
 * "invariant NAME: holds|FAILS" and its indented lines (unindented). */
static void render_invariants(const Policy *p, const char *proof, Buf *out)
{
	const char *head = NULL, *s = proof;
	size_t head_len = 0;
	Buf body = { 0 };
	int n = 0;

	buf_puts(out, "<section id=\"invariants\">\n<h2>Invariants</h2>\n");
	for (;;) {
		const char *e = s ? strchr(s, '\n') : NULL;
		size_t len = !s ? 0 : e ? (size_t)(e - s) : strlen(s);
		bool indented = s && len > 2 && s[0] == ' ' && s[1] == ' ';

		if (head && indented) {
			buf_append(&body, s + 2, len - 2);
			buf_puts(&body, "\n");
		} else if (head) {
			render_invariant(p, head, head_len, &body, out);
			body.len = 0;
			head = NULL;
			n++;
		}
		if (!s || !*s)
			break;
		if (!indented && !strncmp(s, "invariant ", 10)) {
			head = s;
			head_len = len;
		}
		s = e ? e + 1 : NULL;
	}
	if (!n)
		buf_puts(out, "<p>The policy states no invariant.</p>\n");
	buf_puts(out, "</section>\n");
	buf_free(&body);
}

/* Does rule r come from the cell (s, v)? Its origin_what is
 * "SOURCE->SERVICE[,SERVICE...]". */
static bool rule_of_cell(const RsRule *r, const Source *s, const Service *v)
{
	size_t ns = strlen(s->name), nv = strlen(v->name);
	const char *w = r->origin_what;

	if (!w || strncmp(w, s->name, ns) || strncmp(w + ns, "->", 2))
		return false;
	for (w += ns + 2; *w; ) {
		const char *c = strchr(w, ',');
		size_t n = c ? (size_t)(c - w) : strlen(w);

		if (n == nv && !strncmp(w, v->name, n))
			return true;
		w += n + (c ? 1 : 0);
	}
	return false;
}

/* The rules realising cell (s, v) into out (HTML-escaped), each with its
 * table, chain and position; returns how many. */
static int cell_rules(const Ruleset *rs, const Source *s,
		      const Service *v, Buf *out)
{
	int n = 0;

	for (int t = 0; t < rs->n_tables; t++)
		for (int c = 0; c < rs->tables[t].n_chains; c++) {
			const RsChain *ch = &rs->tables[t].chains[c];

			for (int i = 0; i < ch->n_rules; i++) {
				const RsRule *r = &ch->rules[i];
				Buf rule = { 0 };

				if (!rule_of_cell(r, s, v))
					continue;
				prove_print_rule(r, &rule);
				buf_printf(out, "%s %s %s rule %d: ", rs_family_name(rs->tables[t].family),
					   rs->tables[t].name, ch->name, i + 1);
				put_html(out, rule.data ? rule.data : "");
				buf_puts(out, "\n");
				buf_free(&rule);
				n++;
			}
		}
	return n;
}

/* Why a cell has no rule of its own (in a). A unix socket's reach is
 * what the mount lists fpc emits give (prove_socket_mounted), not the
 * cell's word. */
static const char *no_rule_why(Arena *a, const Policy *p, const Source *s,
			       const Service *v, CellKind k)
{
	if (v->kind == SVC_UNIX) {
		const Privilege *got;
		int m = prove_socket_mounted(p, s, v, &got);

		return arena_printf(a, "No firewall rule (a unix socket): %s.",
				    prove_socket_why(a, p, s, v, m, got));
	}
	if (k == CELL_NONE)
		return "No rule of its own: the rows below decide.";
	if (v->kind == SVC_EGRESS && k == CELL_ALLOW)
		return "No rule needed: every chain accepts unless a row below denies it.";
	return "No rule.";
}

/* Every cell: its verdict, its policy line, the rules realising it. */
static void render_cells(const Policy *p, const Ruleset *rs, Arena *a, Buf *out)
{
	buf_puts(out, "<section id=\"cells\">\n<h2>Cells and the rules that realise them</h2>\n");
	for (int s = 0; s < p->n_sources; s++)
		for (int v = 0; v < p->n_services; v++) {
			const Source *src = p->sources[s];
			const Service *svc = p->services[v];
			const Cell *c = policy_cell(p, s, v);
			int line = c->loc.first_line ? c->loc.first_line : src->row_loc.first_line;
			Buf rules = { 0 };

			buf_puts(out, "<div class=\"cell\" id=\"");
			cell_id(src, svc, out);
			buf_printf(out, "\"><h3>%s &rarr; %s <span class=\"badge %s\">%s</span></h3>\n<p>",
				   src->name, svc->name, c->kind == CELL_ALLOW ? "ok" :
				   c->kind == CELL_DENY ? "bad" : "off",
				   c->kind == CELL_NONE ? "&ndash;" : cell_word(c->kind));
			put_html(out, p->file);
			buf_printf(out, ":%d: <code>", line);
			put_html(out, source_line(p, line, a));
			buf_puts(out, "</code></p>\n");
			if (cell_rules(rs, src, svc, &rules)) {
				buf_printf(out, "<pre>%s</pre>", rules.data);
			} else {
				buf_puts(out, "<p>");
				put_html(out, no_rule_why(a, p, src, svc, c->kind));
				buf_puts(out, "</p>");
			}
			buf_puts(out, "</div>\n");
			buf_free(&rules);
		}
	buf_puts(out, "</section>\n");
}

/* The first 12 hex digits of the SHA-256 of data. */
static void short_sha256(const Buf *data, char hex[13])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned n = 0;

	if (!EVP_Digest(data->data ? data->data : "", data->len, md, &n, EVP_sha256(), NULL))
		BUG("sha256");
	for (int i = 0; i < 6; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
}

/* The files a compile writes: name, size, hash, purpose; the ruleset in
 * full, collapsed. */
static void render_artifacts(const Policy *p, const Ruleset *rs, Buf *out)
{
	Buf nft = { 0 };

	buf_puts(out, "<section id=\"artifacts\">\n<h2>Artifacts</h2>\n<p>What <code>fpc ");
	put_html(out, p->file);
	buf_puts(out, " -o DIR</code> writes:</p>\n<table class=\"files\">\n"
		 "<tr><th>file</th><th>bytes</th><th>sha256</th><th>for</th></tr>\n");
	for (int i = 0; i < n_artifacts; i++) {
		Buf b = { 0 };
		char hex[13];

		if (artifacts[i].emit(p, rs, &b) < 0) {
			buf_printf(out, "<tr><td><code>%s</code></td><td colspan=\"3\">cannot be made (see the messages of <code>fpc check</code>)</td></tr>\n",
				   artifacts[i].name);
		} else {
			short_sha256(&b, hex);
			buf_printf(out, "<tr><td><code>%s</code></td><td>%zu</td><td><code>%s</code></td><td>",
				   artifacts[i].name, b.len, hex);
			put_html(out, artifacts[i].what);
			buf_puts(out, "</td></tr>\n");
		}
		if (i == 0)
			buf_append(&nft, b.data ? b.data : "", b.len);
		buf_free(&b);
	}
	buf_printf(out, "</table>\n<details><summary><code>%s</code></summary><pre>", artifacts[0].name);
	put_html(out, nft.data ? nft.data : "");
	buf_puts(out, "</pre></details>\n</section>\n");
	buf_free(&nft);
}

/* The whole page: the verdict in the header, matrix and graph side by
 * side, then invariants, cells and artifacts. */
static void render_html(const Policy *p, const Ruleset *rs, const Graph *g,
			const char *proof, const ProveStats *st, int proof_rc,
			Arena *a, Buf *out)
{
	buf_puts(out, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
		 "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
		 "style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">\n"
		 "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>");
	put_html(out, p->name);
	buf_printf(out, ": the trust boundary (fpc report)</title>\n<style>\n%s</style>\n</head>\n<body>\n<header>\n<h1>policy ", page_css);
	put_html(out, p->name);
	buf_puts(out, ": the trust boundary</h1>\n<p>");
	put_html(out, p->file);
	buf_printf(out, " &middot; table %s %s &middot; fpc " FPC_VERSION " &middot; ",
		   p->table_family, p->table_name);
	if (proof_rc == 0)
		buf_printf(out, "<span class=\"badge ok\">proved</span> %d invariant clause%s and %d trust cell%s on %ld classes",
			   st->invariants, st->invariants == 1 ? "" : "s", st->cells,
			   st->cells == 1 ? "" : "s", st->classes);
	else
		buf_printf(out, "<span class=\"badge bad\">FAILS</span> %d of %d invariant clauses, %d of %d trust cells",
			   st->invariants_failed, st->invariants, st->cells_failed, st->cells);
	buf_puts(out, "</p>\n</header>\n<main>\n<div class=\"top\">\n");
	render_matrix(p, g, out);
	buf_puts(out, "<section id=\"graph\">\n<h2>Who may reach what</h2>\n");
	render_svg(p, g, false, out);
	buf_puts(out, "<p class=\"legend\"><span><i style=\"background:#1f5fbf\"></i>tcp, udp</span>"
		 "<span><i style=\"background:#7b3fb0\"></i>unix socket</span>"
		 "<span><i style=\"background:#c45d00\"></i>egress</span>"
		 "<span><i style=\"background:#2e7d32\"></i>allow</span></p>\n</section>\n</div>\n");
	render_invariants(p, proof, out);
	render_cells(p, rs, a, out);
	render_artifacts(p, rs, out);
	buf_puts(out, "<footer>Generated by fpc " FPC_VERSION " from ");
	put_html(out, p->file);
	buf_printf(out, ". One self-contained page: no network resources.</footer>\n</main>\n<script>\n%s</script>\n</body>\n</html>\n", page_js);
}

/* ---- the command ---- */

/* Write data to path atomically (a temporary file renamed into place). */
static int write_output(const char *path, const Buf *data)
{
	char *tmp = write_temp_file(path, data->data ? data->data : "", data->len);

	if (!tmp || rename(tmp, path) < 0) {
		fprintf(stderr, "fpc: error: cannot write %s: %s\n", path, strerror(errno));
		if (tmp)
			unlink(tmp);
		free(tmp);
		return 1;
	}
	free(tmp);
	return 0;
}

/* Exit status: 0, 1 when the policy does not load, does not prove (the
 * page is still written) or the file cannot be written, 2 usage. */
int cmd_report(int argc, char **argv)
{
	const char *policy = NULL, *file = NULL;
	Format fmt;
	Diag *d;
	Policy *p;
	Ruleset *rs;
	Graph g;
	Buf proof = { 0 }, out = { 0 };
	ProveStats st;
	ProveOpts po = { .what = "the emitted ruleset", .emitter = true };
	int prc, rc;

	static const char *const formats[] = { "html", "svg", "dot", NULL };
	const char *format = "html";
	const DiagOpt opts[] = { { "-o", &file, NULL }, { "--format", &format, NULL },
				 { NULL, NULL, NULL } };

	if (diag_args(argc, argv, opts, &policy, 1, 1, "POLICY") < 0)
		return 2;
	for (fmt = FMT_HTML; fmt <= FMT_DOT && strcmp(format, formats[fmt]); fmt++)
		;
	if (fmt > FMT_DOT)
		return diag_bad_value("--format", format, formats);
	d = diag_new();
	p = policy_load(policy, d);
	diag_free(d);
	if (!p)
		return 1;
	rs = lower(p);
	prc = prove_report(p, rs, &po, &proof, &st);
	graph_layout(p, p->arena, &g);
	if (fmt == FMT_HTML)
		render_html(p, rs, &g, proof.data ? proof.data : "", &st, prc, p->arena, &out);
	else if (fmt == FMT_SVG)
		render_svg(p, &g, true, &out);
	else
		render_dot(p, &g, &out);
	if (file && strcmp(file, "-")) {	/* "-o -": standard output */
		rc = write_output(file, &out);
		if (!rc)
			printf("wrote %s (%zu bytes)\n", file, out.len);
	} else {
		fwrite(out.data, 1, out.len, stdout);
		rc = fflush(stdout) ? 1 : 0;
	}
	fflush(stdout);		/* what was written, then why it fails */
	if (prc) {
		fputs(proof.data ? proof.data : "", stderr);
		fprintf(stderr, "fpc: error: %s does not prove; the report shows why\n", policy);
		rc = 1;
	}
	buf_free(&proof);
	buf_free(&out);
	policy_free(p);
	return rc;
}
