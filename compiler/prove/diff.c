/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * diff.c: `fpc diff OLD.fp NEW.fp [--format text|json]`.
 *
 * 1. Trust cells as the rulesets decide them. For every source and tcp/udp
 *    service both policies have, the packets of the source (its vias in
 *    either policy) to the service are evaluated on the old and on the new
 *    ruleset, class by class; a cell changed when some class is decided
 *    differently. Packets a row above claims (one with a cell in the
 *    column, in either policy) are that row's, as in the prover, and are
 *    not counted again below it; when rows were reordered every row
 *    counts all its packets, so no changed packet goes unreported. A cell reads "allow" (every packet accepted), "deny"
 *    (none) or "partial", so a widened `via` shows up even where the table
 *    text did not change. When a service moved (port, protocol or `on`
 *    address), each class of packets to the old service is compared with
 *    the same packets sent to the new one.
 * 2. Sources, services, identities, privileges, mounts and invariants
 *    added, removed or changed (compared by a canonical description).
 * 3. A unified diff (Myers) of the two flashpods.nft texts.
 *
 * Exit status: 0 nothing changed, 1 something did, 2 error.
 */
#include "classes.h"

#include <jansson.h>

/* ---- canonical descriptions ---- */

static void describe_source(const Source *s, Buf *out)
{
	for (int i = 0; i < s->n_vias; i++) {
		const Via *v = &s->vias[i];

		buf_puts(out, i ? "; via" : "via");
		switch (v->kind) {
		case VIA_ANY:
			buf_puts(out, " any");
			break;
		case VIA_USER:
			buf_printf(out, " user %s", v->user);
			if (v->uid >= 0)
				buf_printf(out, " (uid %ld)", v->uid);
			break;
		case VIA_NET:
			for (int k = 0; k < v->n_ifaces; k++)
				buf_printf(out, "%s\"%s%s\"", k ? ", " : " ",
					   v->ifaces[k].name, v->ifaces[k].wildcard ? "*" : "");
			if (v->n_addrs)
				buf_puts(out, " from");
			for (int k = 0; k < v->n_addrs; k++) {
				buf_puts(out, k ? ", " : " ");
				prove_print_prefix(&v->addrs[k], out);
			}
			break;
		default:
			BUG("via kind %d", (int)v->kind);
		}
	}
}

static const char *mode_word(MountMode m)
{
	switch (m) {
	case MODE_RO: return "ro";
	case MODE_RW: return "rw";
	case MODE_UNSET: return "(per privilege)";
	default: BUG("mount mode %d", (int)m);
	}
}

static void describe_identity(const Identity *id, Buf *out)
{
	buf_printf(out, "\"%s\" selector", id->spiffe_id);
	for (int i = 0; i < id->n_selectors; i++)
		buf_printf(out, "%s\"%s\"", i ? ", " : " ", id->selectors[i]);
	buf_printf(out, " privilege %s", id->privilege ? id->privilege->name : "?");
}

static void put_range(const char *what, const Range *r, const char *unit, Buf *out)
{
	buf_printf(out, "; %s %ld..%ld%s", what, r->min, r->max, unit);
	if (r->has_def)
		buf_printf(out, " default %ld", r->def);
}

static void describe_privilege(const Privilege *p, Buf *out)
{
	buf_puts(out, "secrets");
	for (int i = 0; i < p->n_secrets; i++)
		buf_printf(out, "%s%s", i ? ", " : " ", p->secrets[i]);
	for (int i = 0; i < p->n_mounts; i++)
		buf_printf(out, "; mount %s %s", p->mounts[i].mount->name,
			   mode_word(p->mounts[i].mode));
	put_range("cpus", &p->cpus, "", out);
	put_range("memory", &p->memory_gb, " GB", out);
	put_range("timeout", &p->timeout_min, " min", out);
}

static void describe_mount(const Mount *m, Buf *out)
{
	if (m->service)
		buf_printf(out, "service %s", m->service->name);
	else
		buf_printf(out, "\"%s\" at \"%s\"", m->host, m->target);
	buf_printf(out, " %s", mode_word(m->mode));
}

static void describe_invariant(const Invariant *inv, Buf *out)
{
	buf_printf(out, "\"%s\"", inv->text);
	for (int i = 0; i < inv->n_clauses; i++) {
		const InvClause *c = &inv->clauses[i];

		buf_printf(out, "; %s %s", c->source->name, c->can ? "can reach" : "cannot reach");
		for (int k = 0; k < c->n_services; k++)
			buf_printf(out, "%s%s", k ? ", " : " ", c->services[k]->name);
	}
}

/* ---- entity lists ---- */

typedef struct Entity {
	const char *name;
	char *desc;		/* heap */
} Entity;

typedef VEC(Entity) Entities;

/* The named things of one kind in a policy, described. */
typedef enum { K_SOURCE, K_SERVICE, K_IDENTITY, K_PRIVILEGE, K_MOUNT,
	       K_INVARIANT, K_N } Kind;

static const char *const kind_names[K_N] = { "sources", "services",
	"identities", "privileges", "mounts", "invariants" };

static void collect(const Policy *p, Kind k, Arena *a, Entities *out)
{
	int n = k == K_SOURCE ? p->n_sources : k == K_SERVICE ? p->n_services :
		k == K_IDENTITY ? p->n_identities : k == K_PRIVILEGE ? p->n_privileges :
		k == K_MOUNT ? p->n_mounts : p->n_invariants;

	for (int i = 0; i < n; i++) {
		Buf b = { 0 };
		Entity e;

		switch (k) {
		case K_SOURCE:
			e.name = p->sources[i]->name;
			describe_source(p->sources[i], &b);
			break;
		case K_SERVICE:
			e.name = p->services[i]->name;
			prove_print_service(p->services[i], true, &b);
			break;
		case K_IDENTITY:
			e.name = p->identities[i].name;
			describe_identity(&p->identities[i], &b);
			break;
		case K_PRIVILEGE:
			e.name = p->privileges[i].name;
			describe_privilege(&p->privileges[i], &b);
			break;
		case K_MOUNT:
			e.name = p->mounts[i].name;
			describe_mount(&p->mounts[i], &b);
			break;
		case K_INVARIANT:
			e.name = p->invariants[i].name;
			describe_invariant(&p->invariants[i], &b);
			break;
		default:
			BUG("kind %d", (int)k);
		}
		e.desc = arena_strdup(a, b.data ? b.data : "");
		buf_free(&b);
		vec_push(a, out, e);
	}
}

static const Entity *find_entity(const Entities *es, const char *name)
{
	for (int i = 0; i < es->n; i++)
		if (!strcmp(es->v[i].name, name))
			return &es->v[i];
	return NULL;
}

/* ---- cells ---- */

typedef struct CellDiff {
	const char *source, *service;
	CellKind old_table, new_table;
	long classes, old_acc, new_acc, differ;
	bool have_example;
	Packet example;
	int example_old, example_new;
} CellDiff;

typedef struct PairCtx {
	Space *sp;
	const CRuleset *new_crs;
	CellDiff *cd;
	int old_outcome;
	const Service *vo, *vn;	/* the service in each policy */
} PairCtx;

static bool same_prefix(const Prefix *a, const Prefix *b)
{
	return a->fam == b->fam && a->len == b->len && !memcmp(a->addr, b->addr, 16);
}

/* Do packets to vo and to vn look the same to a firewall? */
static bool same_service(const Service *vo, const Service *vn)
{
	return vo->kind == vn->kind && vo->port_lo == vn->port_lo &&
		vo->port_hi == vn->port_hi && vo->has_listen == vn->has_listen &&
		(!vo->has_listen || same_prefix(&vo->listen, &vn->listen));
}

/* Box b of packets to the old service, as packets to the new one: the
 * same source fields, the new ports, protocol and listen address. */
static void map_service(Space *sp, const Service *vn, const Box *b, Box *out)
{
	bool v6 = !iset_empty(iset_meet(sp, b->d[D_NFPROTO], sp_int(sp, D_NFPROTO, 10, 10)));
	AddrFamily fam = v6 ? FAM_IP6 : FAM_IP4;
	uint64_t proto = vn->kind == SVC_UDP ? 17 : 6;

	*out = *b;
	out->d[D_DPORT] = sp_int(sp, D_DPORT, (uint64_t)vn->port_lo, (uint64_t)vn->port_hi);
	out->d[D_L4PROTO] = sp_int(sp, D_L4PROTO, proto, proto);
	out->d[D_DADDR] = vn->has_listen ? sp_prefixes(sp, D_DADDR, &vn->listen, 1, fam) :
		sp_family(sp, D_DADDR, fam);
}

static int new_leaf(void *ctx, const Box *b, int outcome, const TNode *t, int assumed)
{
	PairCtx *pc = ctx;
	CellDiff *cd = pc->cd;

	(void)t;
	(void)assumed;
	cd->classes++;
	if (pc->old_outcome == PROVE_ACCEPT)
		cd->old_acc++;
	if (outcome == PROVE_ACCEPT)
		cd->new_acc++;
	if (outcome != pc->old_outcome) {
		cd->differ++;
		if (!cd->have_example) {
			cd->have_example = true;
			space_packet_of_box(pc->sp, b, &cd->example);
			cd->example_old = pc->old_outcome;
			cd->example_new = outcome;
		}
	}
	return 0;
}

static int old_leaf(void *ctx, const Box *b, int outcome, const TNode *t, int assumed)
{
	PairCtx *pc = ctx;

	(void)t;
	(void)assumed;
	pc->old_outcome = outcome;
	if (same_service(pc->vo, pc->vn)) {
		space_eval(pc->sp, pc->new_crs, b, NULL, 0, new_leaf, pc);
	} else {
		Box m;

		map_service(pc->sp, pc->vn, b, &m);
		space_eval(pc->sp, pc->new_crs, &m, NULL, 0, new_leaf, pc);
	}
	return 0;
}

static const char *status(long acc, long classes)
{
	return acc == 0 ? "deny" : acc == classes ? "allow" : "partial";
}

static const char *cell_word(CellKind k)
{
	return k == CELL_ALLOW ? "allow" : k == CELL_DENY ? "deny" : "-";
}

typedef VEC(CellDiff) CellDiffs;

/* Do the sources both policies have keep their relative order? */
static bool same_row_order(const Policy *po, const Policy *pn)
{
	int last = -1;

	for (int s = 0; s < pn->n_sources; s++) {
		const Source *so = policy_source(po, pn->sources[s]->name);

		if (!so)
			continue;
		if (so->index < last)
			return false;
		last = so->index;
	}
	return true;
}

/* The packets that rows both policies have claim in one column: for each
 * such row t in order, its old vias' packets when it has an old cell
 * there, then its new vias' when it has a new one (all to the old
 * service). The packets left to the rows above row s are bx[0..start[s]).
 * Then a packet decided differently is counted in the first of those rows
 * that holds it in either policy, so it is always reported. When rows were
 * reordered nothing is left to rows above (the first row would not be
 * well defined) and the column is empty. */
typedef struct DCol {
	Boxes bx;
	int *start;		/* per source of the new policy */
	const BoxIndex *ix;
} DCol;

static void dcol_build(Space *sp, Arena *a, const Policy *po, const Service *vo,
		       const Policy *pn, const Service *vn, bool ordered, DCol *c)
{
	Vias vias = { 0 };

	c->start = arena_alloc(a, (size_t)(pn->n_sources + 1) * sizeof *c->start);
	for (int s = 0; s < pn->n_sources; s++) {
		const Source *sn = pn->sources[s], *so = policy_source(po, sn->name);

		c->start[s] = c->bx.n;
		if (!so || !ordered)
			continue;
		if (policy_cell(po, so->index, vo->index)->kind != CELL_NONE)
			prove_source_boxes(sp, a, so, vo, &c->bx, &vias);
		if (policy_cell(pn, s, vn->index)->kind != CELL_NONE)
			prove_source_boxes(sp, a, sn, vo, &c->bx, &vias);
	}
	c->ix = space_index_boxes(sp, c->bx.v, c->bx.n);
}

/* Compare every (source, network service) pair both policies have. */
static long diff_cells(const Policy *po, const Ruleset *ro, const Policy *pn,
		       const Ruleset *rn, Arena *a, CellDiffs *out)
{
	Space *sp = space_new();
	const CRuleset *co, *cn;
	long classes = 0;
	bool ordered = same_row_order(po, pn);
	DCol *cols = arena_alloc(a, (size_t)(pn->n_services + 1) * sizeof *cols);

	memset(cols, 0, (size_t)(pn->n_services + 1) * sizeof *cols);
	space_add_ruleset(sp, ro);
	space_add_ruleset(sp, rn);
	space_add_policy(sp, po);
	space_add_policy(sp, pn);
	space_seal(sp);
	co = space_compile(sp, ro);
	cn = space_compile(sp, rn);
	for (int s = 0; s < pn->n_sources; s++) {
		const Source *sn = pn->sources[s], *so = policy_source(po, sn->name);

		for (int v = 0; so && v < pn->n_services; v++) {
			const Service *vn = pn->services[v], *vo = policy_service(po, vn->name);
			CellDiff cd = { 0 };
			PairCtx pc = { sp, cn, &cd, 0, vo, vn };
			Boxes bo = { 0 }, bn = { 0 };
			Vias vias = { 0 };
			const DCol *col = &cols[v];

			if (!vo || !service_is_network(vn) || !service_is_network(vo))
				continue;
			if (!col->start)
				dcol_build(sp, a, po, vo, pn, vn, ordered, &cols[v]);
			/* the old vias' packets, then the new vias' others */
			prove_source_boxes(sp, a, so, vo, &bo, &vias);
			prove_source_boxes(sp, a, sn, vo, &bn, &vias);
			for (int i = 0; i < bo.n; i++)
				space_eval_ix(sp, co, &bo.v[i], col->bx.v, col->start[s],
					      col->ix, NULL, 0, old_leaf, &pc);
			for (int i = 0; i < bn.n; i++)
				space_eval_ix(sp, co, &bn.v[i], col->bx.v, col->start[s],
					      col->ix, bo.v, bo.n, old_leaf, &pc);
			classes += cd.classes;
			cd.source = sn->name;
			cd.service = vn->name;
			cd.old_table = policy_cell(po, so->index, vo->index)->kind;
			cd.new_table = policy_cell(pn, sn->index, vn->index)->kind;
			if (!cd.differ)
				continue;
			/* the example's names live in sp, freed below */
			cd.example.iifname = arena_strdup(a, cd.example.iifname);
			cd.example.oifname = arena_strdup(a, cd.example.oifname);
			if (cd.example.user)
				cd.example.user = arena_strdup(a, cd.example.user);
			if (cd.example.group)
				cd.example.group = arena_strdup(a, cd.example.group);
			vec_push(a, out, cd);
		}
	}
	space_free(sp);
	return classes;
}

/* ---- unified diff of lines ---- */

typedef struct Lines {
	const char **s;
	size_t *len;
	int n;
} Lines;

static void split_lines(const char *text, Lines *l)
{
	const char *p = text;
	int cap = 16;

	l->n = 0;
	l->s = xmalloc((size_t)cap * sizeof *l->s);
	l->len = xmalloc((size_t)cap * sizeof *l->len);
	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);

		if (l->n == cap) {
			cap *= 2;
			l->s = realloc(l->s, (size_t)cap * sizeof *l->s);
			l->len = realloc(l->len, (size_t)cap * sizeof *l->len);
			if (!l->s || !l->len)
				BUG("out of memory");
		}
		l->s[l->n] = p;
		l->len[l->n++] = n;
		p += n + (nl ? 1 : 0);
	}
}

static bool line_eq(const Lines *a, int i, const Lines *b, int j)
{
	return a->len[i] == b->len[j] && !memcmp(a->s[i], b->s[j], a->len[i]);
}

enum { MYERS_MAX_D = 4000 };

/* Myers' O(ND) shortest edit script: op[k] for the merged sequence, ' '
 * keep, '-' delete, '+' insert. Returns the number of ops; when the
 * difference is larger than MYERS_MAX_D, everything is replaced. */
static int edit_script(const Lines *a, const Lines *b, char **ops_out)
{
	int n = a->n, m = b->n, max = n + m, dmax = max < MYERS_MAX_D ? max : MYERS_MAX_D;
	int *v = xcalloc((size_t)(2 * max + 5), sizeof(int)), off = max + 2;
	int **trace = xcalloc((size_t)(dmax + 2), sizeof(int *));
	char *ops = xmalloc((size_t)(n + m + 1));
	int d, found = -1, k_ops = 0;

	for (d = 0; d <= dmax && found < 0; d++) {
		trace[d] = xmalloc((size_t)(2 * d + 3) * sizeof(int));
		for (int k = -d; k <= d; k += 2) {
			int x = (k == -d || (k != d && v[off + k - 1] < v[off + k + 1])) ?
				v[off + k + 1] : v[off + k - 1] + 1;
			int y = x - k;

			while (x < n && y < m && line_eq(a, x, b, y))
				x++, y++;
			v[off + k] = x;
			if (x >= n && y >= m) {
				found = d;
				break;
			}
		}
		for (int k = -d - 1; k <= d + 1; k++)
			trace[d][k + d + 1] = v[off + k];
	}
	if (found < 0) {
		for (int i = 0; i < n; i++)
			ops[k_ops++] = '-';
		for (int j = 0; j < m; j++)
			ops[k_ops++] = '+';
	} else {
		int x = n, y = m;

		for (d = found; d >= 0; d--) {
			int k = x - y, px, py, pk;
			int *pv = d > 0 ? trace[d - 1] : NULL;

			if (d == 0) {
				while (x > 0 && y > 0)
					ops[k_ops++] = ' ', x--, y--;
				break;
			}
#define PV(kk) pv[(kk) + (d - 1) + 1]
			pk = (k == -d || (k != d && PV(k - 1) < PV(k + 1))) ? k + 1 : k - 1;
			px = PV(pk);
			py = px - pk;
#undef PV
			while (x > px && y > py)
				ops[k_ops++] = ' ', x--, y--;
			if (pk == k + 1)
				ops[k_ops++] = '+', y--;
			else
				ops[k_ops++] = '-', x--;
		}
		for (int i = 0, j = k_ops - 1; i < j; i++, j--) {
			char t = ops[i];

			ops[i] = ops[j];
			ops[j] = t;
		}
	}
	for (d = 0; d <= dmax + 1; d++)
		free(trace[d]);
	free(trace);
	free(v);
	*ops_out = ops;
	return k_ops;
}

/* A unified diff of old and new (3 lines of context) into out; false when
 * they are the same. */
static bool unified_diff(const char *old_name, const char *old,
			 const char *new_name, const char *new, Buf *out)
{
	Lines a, b;
	char *ops;
	int n_ops, i = 0, ai = 0, bi = 0;
	bool any = false;

	split_lines(old, &a);
	split_lines(new, &b);
	n_ops = edit_script(&a, &b, &ops);
	while (i < n_ops) {
		int start, end, as, bs, ac = 0, bc = 0, x, y;

		if (ops[i] == ' ') {
			i++, ai++, bi++;
			continue;
		}
		/* a hunk: back up 3 keeps, extend while changes are within 6 */
		start = i;
		as = ai;
		bs = bi;
		for (int c = 0; c < 3 && start > 0 && ops[start - 1] == ' '; c++)
			start--, as--, bs--;
		end = i;
		for (;;) {
			int keep = 0;

			while (end < n_ops && ops[end] != ' ')
				end++;
			while (end + keep < n_ops && ops[end + keep] == ' ')
				keep++;
			if (end + keep < n_ops && keep <= 6) {
				end += keep;
				continue;
			}
			end += keep < 3 ? keep : 3;
			break;
		}
		for (int k = start; k < end; k++) {
			ac += ops[k] != '+';
			bc += ops[k] != '-';
		}
		if (!any)
			buf_printf(out, "--- %s\n+++ %s\n", old_name, new_name);
		any = true;
		buf_printf(out, "@@ -%d,%d +%d,%d @@\n", ac ? as + 1 : as, ac,
			   bc ? bs + 1 : bs, bc);
		x = as;
		y = bs;
		for (int k = start; k < end; k++) {
			if (ops[k] == '+') {
				buf_printf(out, "+%.*s\n", (int)b.len[y], b.s[y]);
				y++;
			} else {
				buf_printf(out, "%c%.*s\n", ops[k], (int)a.len[x], a.s[x]);
				x++;
				y += ops[k] == ' ';
			}
		}
		ai = x;
		bi = y;
		i = end;
	}
	free(ops);
	free(a.s);
	free(a.len);
	free(b.s);
	free(b.len);
	return any;
}

/* ---- the command ---- */

typedef struct Side {
	Policy *p;
	Ruleset *rs;
	Buf nft;
	Entities ents[K_N];
} Side;

static bool side_load(Side *s, const char *path, Arena *a)
{
	Diag *d = diag_new();

	memset(s, 0, sizeof *s);
	s->p = policy_load(path, d);
	diag_free(d);
	if (!s->p)
		return false;
	s->rs = lower(s->p);
	emit_nft_artifact(s->p, s->rs, &s->nft);
	for (int k = 0; k < K_N; k++)
		collect(s->p, k, a, &s->ents[k]);
	return true;
}

static void side_free(Side *s)
{
	buf_free(&s->nft);
	policy_free(s->p);
}

/* Added, removed and changed entities of kind k, as text and JSON. */
static bool diff_entities(const Side *o, const Side *n, Kind k, Buf *txt, json_t *js)
{
	json_t *added = json_array(), *removed = json_array(), *changed = json_array();
	Buf b = { 0 };
	bool any = false;

	for (int i = 0; i < n->ents[k].n; i++) {
		const Entity *e = &n->ents[k].v[i], *f = find_entity(&o->ents[k], e->name);

		if (!f) {
			buf_printf(&b, "  added %s: %s\n", e->name, e->desc);
			json_array_append_new(added, json_pack("{s:s,s:s}", "name", e->name,
							       "new", e->desc));
		} else if (strcmp(f->desc, e->desc)) {
			buf_printf(&b, "  changed %s: %s -> %s\n", e->name, f->desc, e->desc);
			json_array_append_new(changed, json_pack("{s:s,s:s,s:s}", "name", e->name,
								 "old", f->desc, "new", e->desc));
		}
	}
	for (int i = 0; i < o->ents[k].n; i++) {
		const Entity *e = &o->ents[k].v[i];

		if (!find_entity(&n->ents[k], e->name)) {
			buf_printf(&b, "  removed %s: %s\n", e->name, e->desc);
			json_array_append_new(removed, json_pack("{s:s,s:s}", "name", e->name,
								 "old", e->desc));
		}
	}
	any = b.len > 0;
	if (any)
		buf_printf(txt, "%s:\n%s", kind_names[k], b.data);
	json_object_set_new(js, kind_names[k], json_pack("{s:o,s:o,s:o}", "added", added,
							   "removed", removed, "changed", changed));
	buf_free(&b);
	return any;
}

static void cell_text(const CellDiff *c, Buf *out)
{
	buf_printf(out, "  %s -> %s: %s -> %s", c->source, c->service,
		   status(c->old_acc, c->classes), status(c->new_acc, c->classes));
	if (c->old_table != c->new_table)
		buf_printf(out, " (table: %s -> %s)", cell_word(c->old_table),
			   cell_word(c->new_table));
	else
		buf_printf(out, " (table: %s)", cell_word(c->new_table));
	buf_printf(out, "; %ld of %ld classes decided differently, e.g. ", c->differ,
		   c->classes);
	prove_print_packet(&c->example, out);
	buf_printf(out, " is now %s\n", c->example_new == PROVE_ACCEPT ? "accepted" : "dropped");
}

static json_t *cell_json(const CellDiff *c)
{
	Buf pk = { 0 };
	json_t *j;

	prove_print_packet(&c->example, &pk);
	j = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:I,s:I,s:s,s:s}",
		      "source", c->source, "service", c->service,
		      "old", status(c->old_acc, c->classes),
		      "new", status(c->new_acc, c->classes),
		      "old_table", cell_word(c->old_table),
		      "new_table", cell_word(c->new_table),
		      "classes", (json_int_t)c->classes,
		      "classes_changed", (json_int_t)c->differ,
		      "example", pk.data,
		      "example_now", c->example_new == PROVE_ACCEPT ? "accepted" : "dropped");
	buf_free(&pk);
	return j;
}

int cmd_diff(int argc, char **argv)
{
	const char *files[2] = { 0 };
	int nf = 0, rc;
	bool json = false, changed = false;
	Side o, n;
	Arena *a;
	CellDiffs cells = { 0 };
	Buf txt = { 0 }, ud = { 0 };
	json_t *js, *jc;
	long classes;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--format") && i + 1 < argc) {
			i++;
			if (strcmp(argv[i], "json") && strcmp(argv[i], "text"))
				nf = 3;
			json = !strcmp(argv[i], "json");
		} else if (argv[i][0] != '-' && nf < 2) {
			files[nf++] = argv[i];
		} else {
			nf = 3;
		}
	}
	if (nf != 2) {
		fprintf(stderr, "usage: fpc diff OLD.fp NEW.fp [--format text|json]   (exit 0 same, 1 changed, 2 error)\n");
		return 2;
	}
	a = arena_new();
	if (!side_load(&o, files[0], a)) {
		arena_free(a);
		return 2;
	}
	if (!side_load(&n, files[1], a)) {
		side_free(&o);
		arena_free(a);
		return 2;
	}
	classes = diff_cells(o.p, o.rs, n.p, n.rs, a, &cells);
	js = json_object();
	jc = json_array();
	if (cells.n) {
		buf_puts(&txt, "trust cells (as the rulesets decide them):\n");
		changed = true;
	}
	for (int i = 0; i < cells.n; i++) {
		cell_text(&cells.v[i], &txt);
		json_array_append_new(jc, cell_json(&cells.v[i]));
	}
	json_object_set_new(js, "cells", jc);
	json_object_set_new(js, "classes", json_integer(classes));
	for (int k = 0; k < K_N; k++)
		changed |= diff_entities(&o, &n, k, &txt, js);
	if (unified_diff(arena_printf(a, "%s (flashpods.nft)", files[0]), o.nft.data,
			 arena_printf(a, "%s (flashpods.nft)", files[1]), n.nft.data, &ud)) {
		changed = true;
		buf_printf(&txt, "ruleset:\n%s", ud.data);
	}
	json_object_set_new(js, "ruleset_diff", json_string(ud.data ? ud.data : ""));
	json_object_set_new(js, "changed", json_boolean(changed));
	json_object_set_new(js, "old", json_string(files[0]));
	json_object_set_new(js, "new", json_string(files[1]));
	if (json) {
		char *s = json_dumps(js, JSON_INDENT(2) | JSON_SORT_KEYS);

		printf("%s\n", s);
		free(s);
	} else {
		printf("diff %s %s: %s (%ld classes compared)\n", files[0], files[1],
		       changed ? "changed" : "no change", classes);
		fputs(txt.data ? txt.data : "", stdout);
	}
	rc = changed ? 1 : 0;
	json_decref(js);
	buf_free(&txt);
	buf_free(&ud);
	side_free(&o);
	side_free(&n);
	arena_free(a);
	return rc;
}
