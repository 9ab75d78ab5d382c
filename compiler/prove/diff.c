/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * diff.c: `fpc diff OLD.fp NEW.fp [--format text|json|markdown]`: what a
 * change of policy changes, for review and for CI. Provenance never
 * counts: file names, line numbers, comments and white space.
 *
 * 0. The new policy is proved first; a failed invariant is said before
 *    anything else, with its counterexample, and the exit status is 2.
 * 1. Trust cells as the rulesets decide them. For every source and tcp/udp
 *    service both policies have, the packets of the source (its vias in
 *    either policy) to the service are evaluated on the old and on the new
 *    ruleset, class by class; a cell changed when some class is decided
 *    differently. Packets a row above claims (one with a cell in the
 *    column, in either policy) are that row's, as in the prover, and are
 *    not counted again below it; when rows were reordered every row
 *    counts all its packets, so no changed packet goes unreported. A cell
 *    reads "allow" (every packet accepted), "deny" (none) or "partial", so
 *    a widened `via` shows up even where the table text did not change.
 *    When a service moved (port, protocol or `on` address), each class of
 *    packets to the old service is compared with the same packets sent to
 *    the new one.
 * 2. Sources, services, identities, privileges, mounts and invariants
 *    added, removed or changed (compared by a canonical description).
 * 3. The artifacts a compile writes, compared without provenance (the
 *    rule and set comments' "FILE:LINE ", the header naming the file, the
 *    bundle's hash of the source text).
 * 4. A unified diff (Myers) of the two flashpods.nft texts without
 *    provenance: the rules compared as the kernel holds them.
 *
 * Exit status: 0 nothing of meaning changed, 1 a cell, an entity or an
 * artifact did, 2 an error or a new policy that fails an invariant.
 */
#include "classes.h"

#include <jansson.h>

/* ---- canonical descriptions ---- */

void describe_source(const Source *s, Buf *out)
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

void describe_service(const Service *v, Buf *out)
{
	prove_print_service(v, true, out);
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
			describe_service(p->services[i], &b);
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
	if (vo->kind == SVC_EGRESS || vn->kind == SVC_EGRESS) {
		bool same = vo->kind == vn->kind && vo->eproto == vn->eproto &&
			vo->port_lo == vn->port_lo && vo->port_hi == vn->port_hi &&
			vo->n_dests == vn->n_dests;

		for (int i = 0; same && i < vo->n_dests; i++)
			same = same_prefix(&vo->dests[i], &vn->dests[i]);
		return same;
	}
	return vo->kind == vn->kind && vo->port_lo == vn->port_lo &&
		vo->port_hi == vn->port_hi && vo->has_listen == vn->has_listen &&
		(!vo->has_listen || same_prefix(&vo->listen, &vn->listen));
}

/* Can a cell of vo and one of vn be compared packet by packet: both
 * network services, or both egress (a changed egress service's old
 * packets are asked of the new ruleset as they are: the same
 * destinations, now decided how?). */
static bool comparable(const Service *vo, const Service *vn)
{
	if (vo->kind == SVC_EGRESS || vn->kind == SVC_EGRESS)
		return vo->kind == vn->kind;
	return service_is_network(vo) && service_is_network(vn);
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
	if (same_service(pc->vo, pc->vn) || pc->vo->kind == SVC_EGRESS) {
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

/* Compare every (source, network or egress service) pair both policies
 * have. */
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

			if (!vo || !comparable(vo, vn))
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

/* ---- provenance ---- */

/* The "FILE:LINE " that starts the comment at s (just after `comment "`),
 * or 0: its length. FILE is the policy's base name, which may hold blanks
 * and colons but no '"' (lower.c replaces them); the comment's text after
 * it (names, "->", ",") holds no ':'. */
static size_t provenance_len(const char *s)
{
	for (const char *c = s; *c && *c != '"' && *c != '\n'; c++) {
		const char *d = c + 1;

		if (*c != ':' || c == s)
			continue;
		while (*d >= '0' && *d <= '9')
			d++;
		if (d > c + 1 && *d == ' ')
			return (size_t)(d + 1 - s);
	}
	return 0;
}

/* An nft text without its provenance: the comment lines before the table
 * (the header naming the policy file) are dropped, and every `comment
 * "FILE:LINE what"` keeps only what. What is left is what the kernel does. */
static void strip_provenance(const char *text, size_t len, Buf *out)
{
	const char *s = text, *end = text + len;

	while (s < end) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		const char *e = nl ? nl + 1 : end, *c;

		if (*s == '#') {
			s = e;
			continue;
		}
		while ((c = memmem(s, (size_t)(e - s), "comment \"", 9))) {
			c += 9;
			buf_append(out, s, (size_t)(c - s));
			s = c + provenance_len(c);
		}
		buf_append(out, s, (size_t)(e - s));
		s = e;
	}
}

/* ---- the command ---- */

typedef enum { OUT_TEXT, OUT_JSON, OUT_MARKDOWN } OutFormat;

typedef struct Side {
	const char *path;
	Policy *p;
	Ruleset *rs;
	Buf *arts;		/* each artifact without provenance (n_artifacts) */
	bool arts_ok;		/* every artifact could be made */
	Entities ents[K_N];
} Side;

/* Every artifact of s, as a compile writes it but without provenance:
 * nft texts stripped, the bundle made from a policy without source text
 * (its policy_sha256 hashes the text, comments and all). */
static void side_artifacts(Side *s)
{
	Policy bare = *s->p;

	bare.text = NULL;
	bare.text_len = 0;
	s->arts = xcalloc((size_t)n_artifacts, sizeof(Buf));
	s->arts_ok = true;
	for (int i = 0; i < n_artifacts; i++) {
		Buf b = { 0 };
		size_t n = strlen(artifacts[i].name);

		if (artifacts[i].emit(&bare, s->rs, &b) < 0)
			s->arts_ok = false;
		else if (n > 4 && !strcmp(artifacts[i].name + n - 4, ".nft"))
			strip_provenance(b.data ? b.data : "", b.len, &s->arts[i]);
		else
			buf_append(&s->arts[i], b.data ? b.data : "", b.len);
		buf_free(&b);
	}
}

/* Load, check and lower path; with failure given, prove it too and put
 * the diagnostics of a failed proof (counterexamples and all) there. */
static bool side_load(Side *s, const char *path, Arena *a, Buf *failure)
{
	Diag *d = diag_new();

	memset(s, 0, sizeof *s);
	s->path = path;
	s->p = policy_load(path, d);
	if (s->p) {
		Buf summary = { 0 };

		s->rs = lower(s->p);
		if (failure && prove_policy(s->p, s->rs, d, &summary) > 0) {
			char *text = NULL;
			size_t len = 0;
			FILE *f = open_memstream(&text, &len);

			if (!f)
				BUG("open_memstream");
			diag_flush(d, f);	/* quotes p's text */
			fclose(f);
			buf_append(failure, text, len);
			free(text);
		}
		buf_free(&summary);
		side_artifacts(s);
		for (int k = 0; k < K_N; k++)
			collect(s->p, k, a, &s->ents[k]);
	}
	diag_free(d);
	return s->p != NULL;
}

/* Free what side_load made. */
static void side_free(Side *s)
{
	for (int i = 0; s->arts && i < n_artifacts; i++)
		buf_free(&s->arts[i]);
	free(s->arts);
	policy_free(s->p);
}

/* One changed entity, as text, markdown and JSON. */
typedef struct Change {
	const char *verb;	/* "added", "removed", "changed" */
	const Entity *old, *new;
} Change;

/* "  changed laptop: OLD -> NEW" */
static void change_text(const Change *c, Buf *out)
{
	buf_printf(out, "  %s %s: ", c->verb, (c->new ? c->new : c->old)->name);
	if (c->old && c->new)
		buf_printf(out, "%s -> %s\n", c->old->desc, c->new->desc);
	else
		buf_printf(out, "%s\n", (c->new ? c->new : c->old)->desc);
}

/* Append s as a markdown code span (fenced with more backticks than it
 * holds in a row, | escaped for tables). */
static void md_code(Buf *out, const char *s)
{
	int run = 0, max = 0;

	for (const char *c = s; *c; c++)
		max = (run = *c == '`' ? run + 1 : 0) > max ? run : max;
	for (int i = 0; i <= max; i++)
		buf_puts(out, "`");
	buf_puts(out, max ? " " : "");
	for (const char *c = s; *c; c++)
		buf_puts(out, *c == '|' ? "\\|" : (char[2]){ *c, 0 });
	buf_puts(out, max ? " " : "");
	for (int i = 0; i <= max; i++)
		buf_puts(out, "`");
}

/* "- changed `laptop`: `OLD` &rarr; `NEW`" */
static void change_md(const Change *c, Buf *out)
{
	buf_printf(out, "- %s ", c->verb);
	md_code(out, (c->new ? c->new : c->old)->name);
	buf_puts(out, ": ");
	if (c->old && c->new) {
		md_code(out, c->old->desc);
		buf_puts(out, " &rarr; ");
	}
	md_code(out, (c->new ? c->new : c->old)->desc);
	buf_puts(out, "\n");
}

/* Added, removed and changed entities of kind k into text, markdown and
 * the JSON object js; true if there is one. */
static bool diff_entities(const Side *o, const Side *n, Kind k, Buf *txt, Buf *md,
			  json_t *js)
{
	json_t *j[3] = { json_array(), json_array(), json_array() };
	static const char *const verbs[3] = { "added", "removed", "changed" };
	int any = 0;

	/* pass 0: what the new side has (added, changed); pass 1: removed */
	for (int pass = 0; pass < 2; pass++) {
		const Side *from = pass ? o : n, *to = pass ? n : o;

		for (int i = 0; i < from->ents[k].n; i++) {
			const Entity *e = &from->ents[k].v[i], *f = find_entity(&to->ents[k], e->name);
			Change c = { NULL, pass ? e : f, pass ? NULL : e };
			int v = pass ? 1 : f ? 2 : 0;

			if ((pass && f) || (!pass && f && !strcmp(f->desc, e->desc)))
				continue;
			c.verb = verbs[v];
			if (!any++) {
				buf_printf(txt, "%s:\n", kind_names[k]);
				buf_printf(md, "**%s**\n\n", kind_names[k]);
			}
			change_text(&c, txt);
			change_md(&c, md);
			json_array_append_new(j[v], c.old && c.new ?
				json_pack("{s:s,s:s,s:s}", "name", e->name, "old", c.old->desc, "new", c.new->desc) :
				json_pack("{s:s,s:s}", "name", e->name, c.new ? "new" : "old", e->desc));
		}
	}
	if (any)
		buf_puts(md, "\n");
	json_object_set_new(js, kind_names[k], json_pack("{s:o,s:o,s:o}", "added", j[0],
							   "removed", j[1], "changed", j[2]));
	return any > 0;
}

/* A changed cell as a line of text, with an example packet. */
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

/* A changed cell as a row of the markdown table. */
static void cell_md(const CellDiff *c, Buf *out)
{
	Buf pk = { 0 };

	prove_print_packet(&c->example, &pk);
	buf_printf(out, "| %s | %s | %s | **%s** | %s%s%s | %ld of %ld | ", c->source,
		   c->service, status(c->old_acc, c->classes), status(c->new_acc, c->classes),
		   c->old_table != c->new_table ? cell_word(c->old_table) : "",
		   c->old_table != c->new_table ? " &rarr; " : "", cell_word(c->new_table),
		   c->differ, c->classes);
	md_code(out, pk.data);
	buf_printf(out, " is now %s |\n", c->example_new == PROVE_ACCEPT ? "accepted" : "dropped");
	buf_free(&pk);
}

/* A changed cell as a JSON object. */
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

/* Everything a diff found, in the three output formats. */
typedef struct Report {
	Buf txt, md;		/* the sections after the heading */
	json_t *js;
	bool changed;
} Report;

/* The changed cells into every format of r. */
static void report_cells(const CellDiffs *cells, Report *r)
{
	json_t *jc = json_array();

	if (cells->n) {
		buf_puts(&r->txt, "trust cells (as the rulesets decide them):\n");
		buf_printf(&r->md, "**trust cells** (as the rulesets decide them)\n\n"
			   "| source | service | before | after | table | classes changed | e.g. |\n"
			   "|---|---|---|---|---|---|---|\n");
		r->changed = true;
	}
	for (int i = 0; i < cells->n; i++) {
		cell_text(&cells->v[i], &r->txt);
		cell_md(&cells->v[i], &r->md);
		json_array_append_new(jc, cell_json(&cells->v[i]));
	}
	if (cells->n)
		buf_puts(&r->md, "\n");
	json_object_set_new(r->js, "cells", jc);
}

/* The names of the artifacts whose content (without provenance) changed. */
static void report_artifacts(const Side *o, const Side *n, Report *r)
{
	json_t *ja = json_array();
	Buf names = { 0 };

	for (int i = 0; i < n_artifacts; i++) {
		if (o->arts[i].len == n->arts[i].len &&
		    !memcmp(o->arts[i].data ? o->arts[i].data : "",
			    n->arts[i].data ? n->arts[i].data : "", o->arts[i].len))
			continue;
		buf_printf(&names, "%s%s", names.len ? ", " : "", artifacts[i].name);
		json_array_append_new(ja, json_string(artifacts[i].name));
	}
	if (names.len) {
		buf_printf(&r->txt, "artifacts changed: %s\n", names.data);
		buf_printf(&r->md, "**artifacts changed**: %s\n\n", names.data);
		r->changed = true;
	}
	json_object_set_new(r->js, "artifacts", ja);
	buf_free(&names);
}

/* The rules part: a unified diff of the two rulesets without provenance. */
static void report_rules(const Side *o, const Side *n, Arena *a, Report *r)
{
	Buf ud = { 0 };

	if (unified_diff(arena_printf(a, "%s (%s, without provenance)", o->path, artifacts[0].name),
			 o->arts[0].data ? o->arts[0].data : "",
			 arena_printf(a, "%s (%s, without provenance)", n->path, artifacts[0].name),
			 n->arts[0].data ? n->arts[0].data : "", &ud)) {
		r->changed = true;
		buf_printf(&r->txt, "rules:\n%s", ud.data);
		buf_printf(&r->md, "<details><summary>rule diff (%s, without provenance)</summary>\n\n"
			   "```diff\n%s```\n\n</details>\n", artifacts[0].name, ud.data);
	}
	json_object_set_new(r->js, "rules_diff", json_string(ud.data ? ud.data : ""));
	buf_free(&ud);
}

/* Print the report in fmt; failure (the new policy's failed proof) first. */
static void print_report(const Side *o, const Side *n, long classes, const Buf *failure,
			 OutFormat fmt, Report *r)
{
	const char *state = failure->len ? "NEW FAILS AN INVARIANT" :
		r->changed ? "changed" : "no change of meaning";

	if (fmt == OUT_JSON) {
		char *s;

		json_object_set_new(r->js, "classes", json_integer(classes));
		json_object_set_new(r->js, "changed", json_boolean(r->changed));
		json_object_set_new(r->js, "old", json_string(o->path));
		json_object_set_new(r->js, "new", json_string(n->path));
		json_object_set_new(r->js, "new_fails", failure->len ?
				    json_string(failure->data) : json_null());
		s = json_dumps(r->js, JSON_INDENT(2) | JSON_SORT_KEYS);
		printf("%s\n", s);
		free(s);
	} else if (fmt == OUT_MARKDOWN) {
		Buf h = { 0 };

		buf_puts(&h, "### fpc diff ");
		md_code(&h, o->path);
		buf_puts(&h, " &rarr; ");
		md_code(&h, n->path);
		printf("%s: %s\n\n", h.data, state);
		if (failure->len)
			printf("**The new policy fails an invariant**: this is what the prover "
			       "found.\n\n```\n%s```\n\n", failure->data);
		printf("%ld classes of packets compared; names, line numbers, comments and "
		       "white space are not compared.\n\n%s", classes, r->md.data ? r->md.data : "");
		buf_free(&h);
	} else {
		printf("diff %s %s: %s (%ld classes compared)\n", o->path, n->path, state, classes);
		if (failure->len)
			printf("%s", failure->data);
		fputs(r->txt.data ? r->txt.data : "", stdout);
	}
}

int cmd_diff(int argc, char **argv)
{
	static const char *const formats[] = { "text", "json", "markdown", NULL };
	const char *files[2] = { 0 }, *format = "text";
	const DiagOpt opts[] = { { "--format", &format, NULL }, { NULL, NULL, NULL } };
	OutFormat fmt;
	Side o, n;
	Arena *a;
	CellDiffs cells = { 0 };
	Buf failure = { 0 };
	Report r = { 0 };
	long classes;
	int rc;

	if (diag_args(argc, argv, opts, files, 2, 2, "OLD NEW") < 0)
		return 2;
	for (fmt = OUT_TEXT; fmt <= OUT_MARKDOWN && strcmp(format, formats[fmt]); fmt++)
		;
	if (fmt > OUT_MARKDOWN)
		return diag_bad_value("--format", format, formats);
	a = arena_new();
	if (!side_load(&o, files[0], a, NULL)) {
		arena_free(a);
		return 2;
	}
	if (!side_load(&n, files[1], a, &failure)) {
		side_free(&o);
		arena_free(a);
		return 2;
	}
	classes = diff_cells(o.p, o.rs, n.p, n.rs, a, &cells);
	r.js = json_object();
	report_cells(&cells, &r);
	for (int k = 0; k < K_N; k++)
		r.changed |= diff_entities(&o, &n, k, &r.txt, &r.md, r.js);
	report_artifacts(&o, &n, &r);
	report_rules(&o, &n, a, &r);
	print_report(&o, &n, classes, &failure, fmt, &r);
	rc = failure.len || !o.arts_ok || !n.arts_ok ? 2 : r.changed ? 1 : 0;
	fflush(stdout);		/* the report, then the verdict */
	if (failure.len)
		fprintf(stderr, "fpc: error: %s fails an invariant (the counterexample is above)\n",
			files[1]);
	json_decref(r.js);
	buf_free(&r.txt);
	buf_free(&r.md);
	buf_free(&failure);
	side_free(&o);
	side_free(&n);
	arena_free(a);
	return rc;
}
