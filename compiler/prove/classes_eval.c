/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * classes_eval.c: rulesets compiled for evaluation, packets and boxes, and
 * the evaluation of a box on a compiled ruleset with nftables semantics
 * (see classes.h; classes_int.h has what it shares with classes.c).
 */
#include "classes_int.h"

/* ---- compiled rulesets ---- */

typedef struct CRule {
	const RsRule *r;
	const ISet *d[D_N];	/* NULL: any value */
	const RsMatch **unk;
	int n_unk;
	bool never;		/* some field can match nothing */
	int target;		/* jump/goto: chain index in the CRuleset */
} CRule;

typedef struct CChain {
	const RsTable *t;
	const RsChain *c;
	CRule *rules;
	int n;
	const ISet *fam;	/* NFPROTO classes of the table family, or NULL */
	BoxIndex *ix;		/* its rules by field, or NULL */
} CChain;

struct CRuleset {
	const Ruleset *rs;
	CChain *chains;
	int n_chains;
	int *base[HOOK_INGRESS + 1];	/* base chains by hook, in run order */
	int n_base[HOOK_INGRESS + 1];
};

/* The classes the values of m cover (ignoring neg). */
static const ISet *match_classes(Space *sp, Dim d, const RsMatch *m)
{
	IRange *r = arena_alloc(sp->arena, (size_t)(m->n_vals * 8 + 1) * sizeof *r);
	int k = 0;

	for (int i = 0; i < m->n_vals; i++) {
		const RsValue *v = &m->vals[i];
		Key lo, hi;

		if (d == D_CTSTATE) {
			for (int bit = 0; bit < 8; bit++)
				if (v->lo & (1u << bit))
					r[k++] = key_range(sp, d, key_int((uint64_t)bit),
							   key_int((uint64_t)bit));
			continue;
		}
		if (sp->ax[d].ifname) {
			r[k++] = if_range(&sp->ax[d], v->name, v->wildcard);
			continue;
		}
		value_keys(sp, d, v, &lo, &hi);
		if (key_cmp(&lo, &hi) > 0)
			continue;
		if (key_cmp(&hi, &sp->ax[d].max) > 0)
			hi = sp->ax[d].max;
		if (key_cmp(&lo, &sp->ax[d].max) > 0)
			continue;
		r[k++] = key_range(sp, d, lo, hi);
	}
	return iset_from(sp, r, k);
}

/* Every class a field can compare against (an absent socket compares
 * with nothing, not even with `!=`). */
static const ISet *field_domain(Space *sp, Dim d)
{
	if (d == D_SKUID || d == D_SKGID)
		return iset_range(sp, 0, sp->ax[d].n - 2);
	return iset_range(sp, 0, sp->ax[d].n - 1);
}

static void compile_rule(Space *sp, const RsRule *r, CRule *cr)
{
	VEC(const RsMatch *) unk = { 0 };

	cr->r = r;
	cr->target = -1;
	for (int i = 0; i < r->n_matches; i++) {
		const RsMatch *m = &r->matches[i];
		Dim d = key_dim(m->key);
		const ISet *s;

		if (d == D_N) {
			vec_push(sp->arena, &unk, m);
			continue;
		}
		s = match_classes(sp, d, m);
		if (m->neg)
			s = iset_minus(sp, field_domain(sp, d), s);
		else if (d == D_SKUID || d == D_SKGID)
			s = iset_inter(sp, field_domain(sp, d), s);
		cr->d[d] = cr->d[d] ? iset_inter(sp, cr->d[d], s) : s;
		if (iset_empty(cr->d[d]))
			cr->never = true;
	}
	cr->unk = unk.v;
	cr->n_unk = unk.n;
}

/* Index of chain name in table t within crs, or -1. */
static int find_chain(const CRuleset *crs, const RsTable *t, const char *name)
{
	for (int i = 0; i < crs->n_chains; i++)
		if (crs->chains[i].t == t && !strcmp(crs->chains[i].c->name, name))
			return i;
	return -1;
}

/* Rules (or boxes) by where they match. Each entry has a home: the first
 * field of home_dims on which it names a few classes only (one address,
 * one interface, one uid, a few ports), or none. Of the entries at home
 * on d, a box can meet only those listed under its class of every home
 * field (from d on) where it is one class (or that name many classes of
 * that field). So long lists of rules or boxes that each name one
 * address, interface or port are walked in n log n, not n^2. */
typedef struct Pair {
	int cls, ent;
} Pair;

typedef struct Lists {
	Pair *spec;		/* (class, entry naming it), ascending */
	int spec_n;
	int *wild;		/* the entries naming many classes, ascending */
	int wild_n;
} Lists;

typedef struct Home {
	Lists by[D_N];		/* by their classes of each home field */
	int *all;		/* every entry at home here, ascending */
	int all_n;
} Home;

struct BoxIndex {
	Home home[D_N];		/* only for home_dims */
	int *wild;		/* entries with no home, ascending */
	int wild_n;
};

enum { INDEX_MIN = 8, INDEX_MAX_ENTRIES = 1 << 22, KEY_MAX_CLASSES = 64 };

/* Home fields, most telling first. */
static const Dim home_dims[] = { D_SADDR, D_DADDR, D_IIF, D_SKUID, D_OIF, D_DPORT };
enum { N_HOME = sizeof home_dims / sizeof *home_dims };

/* Entries that match nothing: named in no class, never met. */
static int64_t none_cum[1];
static const ISet none_set = { 0, NULL, none_cum };

/* Does a field holding set s (NULL: every class) name few classes? */
static bool keyed(const ISet *s)
{
	return s && iset_size(s) <= KEY_MAX_CLASSES;
}

/* The home of an entry with fields sets[0..D_N): an index into
 * home_dims, or -1. */
static int home_of(const ISet *const *sets)
{
	for (int h = 0; h < N_HOME; h++)
		if (keyed(sets[home_dims[h]]))
			return h;
	return -1;
}

static int cmp_pair(const void *a, const void *b)
{
	const Pair *x = a, *y = b;

	if (x->cls != y->cls)
		return x->cls < y->cls ? -1 : 1;
	return x->ent < y->ent ? -1 : x->ent > y->ent;
}

/* List the entries e of members[0..n) (ascending) under the classes of
 * field d, sets[e * D_N + d], when few, else as wild. */
static void lists_build(Space *sp, Lists *L, const ISet **sets, Dim d,
			const int *members, int n)
{
	int64_t np = 0;

	for (int m = 0; m < n; m++) {
		const ISet *st = sets[(size_t)members[m] * D_N + d];

		np += keyed(st) ? iset_size(st) : 0;
	}
	L->spec = arena_alloc(sp->arena, (size_t)(np + 1) * sizeof *L->spec);
	L->wild = arena_alloc(sp->arena, (size_t)(n + 1) * sizeof(int));
	L->spec_n = L->wild_n = 0;
	for (int m = 0; m < n; m++) {
		const ISet *st = sets[(size_t)members[m] * D_N + d];

		if (!keyed(st)) {
			L->wild[L->wild_n++] = members[m];
			continue;
		}
		for (int i = 0; i < st->n; i++)
			for (int k = st->r[i].lo; k <= st->r[i].hi; k++)
				L->spec[L->spec_n++] = (Pair){ k, members[m] };
	}
	qsort(L->spec, (size_t)L->spec_n, sizeof *L->spec, cmp_pair);
}

/* Fill bi with entries 0..n-1 whose fields are sets[i * D_N + d]; every
 * entry is wild when the index would be too large. */
static void index_all(Space *sp, const ISet **sets, int n, BoxIndex *bi)
{
	int *home = xcalloc((size_t)n + 1, sizeof *home);
	int64_t total = 0;

	memset(bi, 0, sizeof *bi);
	for (int i = 0; i < n; i++) {
		home[i] = home_of(&sets[(size_t)i * D_N]);
		for (int h = 0; home[i] >= 0 && h < N_HOME; h++)
			if (keyed(sets[(size_t)i * D_N + home_dims[h]]))
				total += iset_size(sets[(size_t)i * D_N + home_dims[h]]);
	}
	bi->wild = arena_alloc(sp->arena, (size_t)(n + 1) * sizeof(int));
	for (int h = 0; h < N_HOME && total <= INDEX_MAX_ENTRIES; h++) {
		Home *H = &bi->home[home_dims[h]];

		H->all = arena_alloc(sp->arena, (size_t)(n + 1) * sizeof(int));
		for (int e = 0; e < n; e++)
			if (home[e] == h)
				H->all[H->all_n++] = e;
		if (!H->all_n)
			continue;
		for (int k = h; k < N_HOME; k++)
			lists_build(sp, &H->by[home_dims[k]], sets, home_dims[k],
				    H->all, H->all_n);
	}
	for (int i = 0; i < n; i++)
		if (home[i] < 0 || total > INDEX_MAX_ENTRIES)
			bi->wild[bi->wild_n++] = i;
	free(home);
}

static void index_chain(Space *sp, CChain *c)
{
	const ISet **sets;

	if (c->n < INDEX_MIN)
		return;
	sets = xcalloc((size_t)c->n * D_N, sizeof *sets);
	for (int r = 0; r < c->n; r++)
		for (int d = 0; d < D_N; d++)
			sets[(size_t)r * D_N + d] = c->rules[r].never ? &none_set :
				c->rules[r].d[d];
	c->ix = arena_alloc(sp->arena, sizeof *c->ix);
	index_all(sp, sets, c->n, c->ix);
	free(sets);
}

const BoxIndex *space_index_boxes(Space *sp, const Box *bx, int n)
{
	BoxIndex *bi = arena_alloc(sp->arena, sizeof *bi);
	const ISet **sets = xcalloc((size_t)n * D_N + 1, sizeof *sets);

	for (int i = 0; i < n; i++)
		for (int d = 0; d < D_N; d++)
			sets[(size_t)i * D_N + d] = bx[i].d[d];
	index_all(sp, sets, n, bi);
	free(sets);
	return bi;
}

/* The first entry of the ascending list b[0..n) at or after r, or INT_MAX. */
static int first_at(const int *b, int n, int r)
{
	int lo = 0, hi = n;

	while (lo < hi) {
		int mid = (lo + hi) / 2;

		if (b[mid] < r)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < n ? b[lo] : INT_MAX;
}

/* The class field d of box b is (or the view fixes it to), or -1. */
static int point_class(const Box *b, const int *fix, Dim d)
{
	if (fix && fix[d] >= 0)
		return fix[d];
	if (b->d[d]->n == 1 && b->d[d]->r[0].lo == b->d[d]->r[0].hi)
		return b->d[d]->r[0].lo;
	return -1;
}

/* The first entry of L at or after r that a box of class cls can meet. */
static int lists_first(const Lists *L, int cls, int r)
{
	int lo = 0, hi = L->spec_n, a, w;

	while (lo < hi) {
		int mid = (lo + hi) / 2;
		const Pair *p = &L->spec[mid];

		if (p->cls < cls || (p->cls == cls && p->ent < r))
			lo = mid + 1;
		else
			hi = mid;
	}
	a = lo < L->spec_n && L->spec[lo].cls == cls ? L->spec[lo].ent : INT_MAX;
	w = first_at(L->wild, L->wild_n, r);
	return a < w ? a : w;
}

/* The first entry at or after r (of n) that box b can meet, as far as
 * the home fields and ports on which b is one class (or the view fixes
 * it) tell; n when none. */
static int next_entry(const BoxIndex *bi, int n, const Box *b, const int *fix, int r)
{
	int best, cls[N_HOME];

	if (!bi)
		return r;
	best = first_at(bi->wild, bi->wild_n, r);
	for (int h = 0; h < N_HOME; h++)
		cls[h] = point_class(b, fix, home_dims[h]);
	for (int h = 0; h < N_HOME && best > r; h++) {
		const Home *H = &bi->home[home_dims[h]];
		int x = -1;

		if (!H->all_n)
			continue;
		/* an entry it meets passes every list: the furthest bound
		 * (a list of only wild entries bounds nothing) */
		for (int k = h; k < N_HOME; k++)
			if (cls[k] >= 0 && H->by[home_dims[k]].spec_n) {
				int y = lists_first(&H->by[home_dims[k]], cls[k], r);

				if (y > x)
					x = y;
			}
		if (x < 0)
			x = first_at(H->all, H->all_n, r);
		if (x < best)
			best = x;
	}
	return best < n ? best : n;
}

static const CRuleset *sort_crs;

/* Base chains run by priority; ties in table, then chain order. */
static int cmp_base(const void *a, const void *b)
{
	const CChain *x = &sort_crs->chains[*(const int *)a];
	const CChain *y = &sort_crs->chains[*(const int *)b];

	if (x->c->priority != y->c->priority)
		return x->c->priority < y->c->priority ? -1 : 1;
	return *(const int *)a - *(const int *)b;
}

/* Does this table's family see IP packets? */
static bool family_is_ip(RsFamily f)
{
	return f == RS_INET || f == RS_IP || f == RS_IP6;
}

CRuleset *space_compile(Space *sp, const Ruleset *rs)
{
	CRuleset *crs = arena_alloc(sp->arena, sizeof *crs);
	int n = 0;

	if (!sp->sealed)
		BUG("space_compile before space_seal");
	/* a lookup's elements as the rules they stand for, each naming its
	 * policy line (the same decision: lookup_expand) */
	rs = lookup_expand(rs);
	crs->rs = rs;
	for (int t = 0; t < rs->n_tables; t++)
		n += rs->tables[t].n_chains;
	crs->chains = arena_alloc(sp->arena, (size_t)(n + 1) * sizeof(CChain));
	for (int t = 0; t < rs->n_tables; t++) {
		const RsTable *tb = &rs->tables[t];

		if (!family_is_ip(tb->family))
			continue;
		for (int c = 0; c < tb->n_chains; c++) {
			CChain *cc = &crs->chains[crs->n_chains++];

			cc->t = tb;
			cc->c = &tb->chains[c];
			if (tb->family == RS_IP)
				cc->fam = sp_int(sp, D_NFPROTO, 2, 2);
			else if (tb->family == RS_IP6)
				cc->fam = sp_int(sp, D_NFPROTO, 10, 10);
			cc->n = cc->c->n_rules;
			cc->rules = arena_alloc(sp->arena,
						(size_t)(cc->n + 1) * sizeof(CRule));
			for (int r = 0; r < cc->n; r++)
				compile_rule(sp, &cc->c->rules[r], &cc->rules[r]);
			index_chain(sp, cc);
		}
	}
	for (int i = 0; i < crs->n_chains; i++) {
		CChain *cc = &crs->chains[i];

		for (int r = 0; r < cc->n; r++) {
			CRule *cr = &cc->rules[r];

			if (cr->r->verdict != VERDICT_JUMP &&
			    cr->r->verdict != VERDICT_GOTO)
				continue;
			cr->target = cr->r->target ?
				find_chain(crs, cc->t, cr->r->target) : -1;
			if (cr->target < 0)
				BUG("chain %s jumps to unknown chain %s", cc->c->name,
				    cr->r->target ? cr->r->target : "(null)");
		}
		if (cc->c->hook != HOOK_NONE) {
			RsHook h = cc->c->hook;

			if ((int)h < 0 || h > HOOK_INGRESS)
				BUG("hook %d", (int)h);
			if (!crs->base[h])
				crs->base[h] = arena_alloc(sp->arena,
							   (size_t)(crs->n_chains + 1) * sizeof(int));
			crs->base[h][crs->n_base[h]++] = i;
		}
	}
	sort_crs = crs;
	for (int h = 0; h <= HOOK_INGRESS; h++)
		if (crs->n_base[h])
			qsort(crs->base[h], (size_t)crs->n_base[h], sizeof(int), cmp_base);
	sort_crs = NULL;
	return crs;
}

/* ---- packets and boxes ---- */

static int ct_bit(int ctstate)
{
	for (int b = 0; b < 8; b++)
		if (ctstate & (1 << b))
			return b;
	return 3;	/* new */
}

void space_box_of_packet(Space *sp, const Packet *pkt, Box *b)
{
	bool local = pkt->path == PKT_LOCAL;
	int nfp = pkt->fam == FAM_IP4 ? 2 : 10;

	b->path = pkt->path;
	b->d[D_IIF] = sp_ifname(sp, D_IIF, local ? "" : pkt->iifname);
	b->d[D_OIF] = sp_ifname(sp, D_OIF, pkt->path == PKT_NET ? "" : pkt->oifname);
	b->d[D_NFPROTO] = sp_int(sp, D_NFPROTO, (uint64_t)nfp, (uint64_t)nfp);
	b->d[D_L4PROTO] = sp_int(sp, D_L4PROTO, (uint64_t)pkt->l4proto,
				 (uint64_t)pkt->l4proto);
	b->d[D_SADDR] = sp_addr(sp, D_SADDR, pkt->fam, pkt->saddr);
	b->d[D_DADDR] = sp_addr(sp, D_DADDR, pkt->fam, pkt->daddr);
	b->d[D_SPORT] = sp_int(sp, D_SPORT, (uint64_t)pkt->sport, (uint64_t)pkt->sport);
	b->d[D_DPORT] = sp_int(sp, D_DPORT, (uint64_t)pkt->dport, (uint64_t)pkt->dport);
	b->d[D_SKUID] = local && pkt->uid >= 0 ?
		sp_int(sp, D_SKUID, (uint64_t)pkt->uid, (uint64_t)pkt->uid) :
		sp_absent(sp, D_SKUID);
	b->d[D_SKGID] = local && pkt->gid >= 0 ?
		sp_int(sp, D_SKGID, (uint64_t)pkt->gid, (uint64_t)pkt->gid) :
		sp_absent(sp, D_SKGID);
	b->d[D_CTSTATE] = sp_int(sp, D_CTSTATE, (uint64_t)ct_bit(pkt->ctstate),
				 (uint64_t)ct_bit(pkt->ctstate));
}

/* A value of field d in b, as a key: pref when b holds it (a friendlier
 * example than 0.0.0.0 or port 0), else the start of b's lowest class. */
static Key box_key_pref(Space *sp, const Box *b, Dim d, const Key *pref)
{
	if (iset_empty(b->d[d]))
		BUG("empty box field %d", (int)d);
	if (pref && iset_has(b->d[d], axis_class(&sp->ax[d], pref)))
		return *pref;
	return sp->ax[d].bounds[b->d[d]->r[0].lo];
}

static Key box_key(Space *sp, const Box *b, Dim d)
{
	return box_key_pref(sp, b, d, NULL);
}

/* An example address of family fam for field d (documentation ranges). */
static Key example_addr(Dim d, AddrFamily fam)
{
	static const uint8_t s4[16] = { 192, 0, 2, 1 }, d4[16] = { 203, 0, 113, 1 };
	static const uint8_t s6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
	static const uint8_t d6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 2 };

	if (fam == FAM_IP4)
		return key_addr(fam, d == D_SADDR ? s4 : d4);
	return key_addr(fam, d == D_SADDR ? s6 : d6);
}

void space_packet_of_box(Space *sp, const Box *b, Packet *pkt)
{
	AddrFamily fam;
	Key k, pref;
	uint64_t v;

	packet_init(pkt);
	pkt->path = b->path;
	pkt->iifname = if_repr(sp, &sp->ax[D_IIF], b->d[D_IIF]->r[0].lo);
	pkt->oifname = if_repr(sp, &sp->ax[D_OIF], b->d[D_OIF]->r[0].lo);
	k = box_key(sp, b, D_SADDR);
	fam = k.b[0] ? FAM_IP6 : FAM_IP4;
	pref = example_addr(D_SADDR, fam);
	k = box_key_pref(sp, b, D_SADDR, &pref);
	key_to_addr(&k, &pkt->fam, pkt->saddr);
	pref = example_addr(D_DADDR, fam);
	k = box_key_pref(sp, b, D_DADDR, &pref);
	key_to_addr(&k, &fam, pkt->daddr);
	pref = key_int(6);	/* tcp when the box has it */
	k = box_key_pref(sp, b, D_L4PROTO, &pref);
	pkt->l4proto = (int)key_to_int(&k);
	pref = key_int(40000);
	k = box_key_pref(sp, b, D_SPORT, &pref);
	pkt->sport = (int)key_to_int(&k);
	pref = key_int(443);	/* rather than port 0 when the box has it */
	k = box_key_pref(sp, b, D_DPORT, &pref);
	pkt->dport = (int)key_to_int(&k);
	k = box_key(sp, b, D_SKUID);
	v = key_to_int(&k);
	pkt->uid = v >= ID_ABSENT ? -1 : (long)v;
	pref = key_int(pkt->uid >= 0 ? (uint64_t)pkt->uid : ID_ABSENT);
	k = box_key_pref(sp, b, D_SKGID, &pref);
	v = key_to_int(&k);
	pkt->gid = v >= ID_ABSENT ? -1 : (long)v;
	k = box_key(sp, b, D_CTSTATE);
	pkt->ctstate = 1 << key_to_int(&k);
	pkt->user = pkt->uid >= 0 ? id_name(sp, pkt->uid, false) : NULL;
	pkt->group = pkt->gid >= 0 ? id_name(sp, pkt->gid, true) : NULL;
	if (pkt->path == PKT_NET)
		pkt->oifname = "";
	else if (pkt->path == PKT_LOCAL)
		pkt->iifname = "";
}

/* ---- evaluation ---- */

enum { JUMP_MAX = 16, HOPS_MAX = 4096 };

typedef struct Frame {
	int chain, rule;
} Frame;

/* One box on its way through the hooks of its path. */
typedef struct Item {
	Box b;
	int excl;		/* next exclusion box to subtract */
	int stage;		/* index in the path */
	int base;		/* next base chain of the stage's hook */
	int base_chain;		/* the base chain running (its policy) */
	int depth;
	Frame st[JUMP_MAX];
	const TNode *trace;
	int assumed;
	int hops;		/* jumps and gotos taken */
} Item;

typedef enum { VIEW_NETIN, VIEW_OUT, VIEW_LOIN, VIEW_FWD, VIEW_N } View;

typedef struct Stage {
	RsHook hook;
	View view;
} Stage;

static const Stage net_path[] = {
	{ HOOK_PREROUTING, VIEW_NETIN }, { HOOK_INPUT, VIEW_NETIN },
};
static const Stage local_path[] = {
	{ HOOK_OUTPUT, VIEW_OUT }, { HOOK_POSTROUTING, VIEW_OUT },
	{ HOOK_PREROUTING, VIEW_LOIN }, { HOOK_INPUT, VIEW_LOIN },
};
static const Stage fwd_path[] = {
	{ HOOK_PREROUTING, VIEW_NETIN }, { HOOK_FORWARD, VIEW_FWD },
	{ HOOK_POSTROUTING, VIEW_FWD },
};

typedef struct Eval {
	Space *sp;
	const CRuleset *crs;
	const Box *excl;
	int n_excl;
	const BoxIndex *excl_ix;	/* an index of excl, or NULL */
	const Box *extra;	/* more boxes to exclude, after excl */
	int n_extra;
	LeafFn fn;
	void *ctx;
	long leaves;
	bool stop;
	Item *stack;
	int n, cap;
	int fix[VIEW_N][D_N];	/* per view: the class a field is fixed to, or -1 */
	const ISet *lo_set;	/* D_OIF classes of "lo" */
} Eval;

static void push(Eval *e, const Item *it)
{
	if (e->n == e->cap) {
		e->cap = e->cap ? 2 * e->cap : 64;
		e->stack = realloc(e->stack, (size_t)e->cap * sizeof *e->stack);
		if (!e->stack)
			BUG("out of memory");
	}
	e->stack[e->n++] = *it;
}

static void add_step(Eval *e, Item *it, const CChain *c, int rule,
		     RsHook hook, RsVerdictKind v, const RsMatch *assumed)
{
	TNode *n = pool_alloc(&e->sp->pool, sizeof *n);

	n->s = (TraceStep){ c->t, c->c, rule >= 0 ? &c->c->rules[rule] : NULL,
			    rule, hook, v, assumed };
	n->prev = it->trace;
	it->trace = n;
}

static void leaf(Eval *e, Item *it, int outcome)
{
	e->leaves++;
	if (!e->stop && e->fn(e->ctx, &it->b, outcome, it->trace, it->assumed))
		e->stop = true;
}

enum { REL_NO, REL_ALL, REL_SPLIT };

/* How the fields of rule constraint d[] meet box b seen through fix[]:
 * REL_NO (some field disjoint), REL_ALL (b inside), or REL_SPLIT with the
 * first field *dim that cuts b. */
static int relate(const ISet *const *d, const Box *b, const int *fix, int *dim)
{
	int rel = REL_ALL;

	for (int i = 0; i < D_N; i++) {
		int64_t m;

		if (!d[i])
			continue;
		if (fix && fix[i] >= 0) {
			if (!iset_has(d[i], fix[i]))
				return REL_NO;
			continue;
		}
		m = iset_meas_inter(d[i], b->d[i]);
		if (m == 0)
			return REL_NO;
		if (m < iset_size(b->d[i]) && rel == REL_ALL) {
			rel = REL_SPLIT;
			*dim = i;
		}
	}
	return rel;
}

/* Push the part of it outside s on field dim and keep the part inside. */
static void split(Eval *e, Item *it, int dim, const ISet *s)
{
	Item out = *it;

	out.b.d[dim] = iset_minus(e->sp, it->b.d[dim], s);
	it->b.d[dim] = iset_inter(e->sp, it->b.d[dim], s);
	push(e, &out);
}

/* Subtract the exclusion boxes; false when it is inside one of them. */
static bool run_excl(Eval *e, Item *it)
{
	for (;;) {
		const Box *x;
		int dim, rel;

		if (it->excl < e->n_excl)
			it->excl = next_entry(e->excl_ix, e->n_excl, &it->b, NULL,
					      it->excl);
		if (it->excl >= e->n_excl + e->n_extra)
			break;
		x = it->excl < e->n_excl ? &e->excl[it->excl] :
			&e->extra[it->excl - e->n_excl];

		if (x->path != it->b.path) {
			it->excl++;
			continue;
		}
		rel = relate(x->d, &it->b, NULL, &dim);
		if (rel == REL_NO)
			it->excl++;
		else if (rel == REL_ALL)
			return false;
		else
			split(e, it, dim, x->d[dim]);
	}
	return true;
}

/* Take rule verdict v at frame f; false when the item ended (leaf). */
static bool take(Eval *e, Item *it, const CRule *cr, RsHook hook,
		 const RsMatch *assumed)
{
	Frame *f = &it->st[it->depth - 1];
	const CChain *c = &e->crs->chains[f->chain];
	RsVerdictKind v = cr->r->verdict;

	if (v != VERDICT_CONTINUE || assumed)
		add_step(e, it, c, f->rule, hook, v, assumed);
	switch (v) {
	case VERDICT_CONTINUE:
		f->rule++;
		return true;
	case VERDICT_ACCEPT:
		it->depth = 0;
		it->base++;
		return true;
	case VERDICT_DROP:
	case VERDICT_REJECT:
		leaf(e, it, PROVE_DROP);
		return false;
	case VERDICT_JUMP:
		f->rule++;
		if (it->depth == JUMP_MAX || ++it->hops > HOPS_MAX) {
			leaf(e, it, PROVE_DROP);	/* the kernel refuses such loops */
			return false;
		}
		it->st[it->depth++] = (Frame){ cr->target, 0 };
		return true;
	case VERDICT_GOTO:
		if (++it->hops > HOPS_MAX) {
			leaf(e, it, PROVE_DROP);	/* a loop: refused by the kernel */
			return false;
		}
		*f = (Frame){ cr->target, 0 };
		return true;
	case VERDICT_RETURN:
		f->rule = e->crs->chains[f->chain].n;
		return true;
	default:
		BUG("verdict %d", (int)v);
	}
}

/* Run one item until it ends in a leaf or is dropped by a split's out part
 * (which is pushed to run later). */
static void run(Eval *e, Item *it)
{
	const Stage *path = it->b.path == PKT_NET ? net_path :
		it->b.path == PKT_FWD ? fwd_path : local_path;
	int n_stages = it->b.path == PKT_NET ? 2 : it->b.path == PKT_FWD ? 3 : 4;

	if (!run_excl(e, it))
		return;
	if (it->b.path == PKT_LOCAL) {
		int64_t m = iset_meas_inter(it->b.d[D_OIF], e->lo_set);

		if (m > 0 && m < iset_size(it->b.d[D_OIF]))
			split(e, it, D_OIF, e->lo_set);
		if (m == 0)
			n_stages = 2;	/* leaves the host */
	}
	while (!e->stop) {
		const Stage *st;
		const int *fix;
		const CChain *c;
		Frame *f;

		if (it->stage >= n_stages) {
			leaf(e, it, PROVE_ACCEPT);
			return;
		}
		st = &path[it->stage];
		fix = e->fix[st->view];
		if (it->depth == 0) {
			const CChain *bc;
			int dim;

			if (it->base >= e->crs->n_base[st->hook]) {
				it->stage++;
				it->base = 0;
				continue;
			}
			it->base_chain = e->crs->base[st->hook][it->base];
			bc = &e->crs->chains[it->base_chain];
			if (bc->fam) {
				const ISet *fd[D_N] = { 0 };

				fd[D_NFPROTO] = bc->fam;
				switch (relate(fd, &it->b, NULL, &dim)) {
				case REL_NO:
					it->base++;
					continue;
				case REL_SPLIT:
					split(e, it, D_NFPROTO, bc->fam);
					break;
				case REL_ALL:
					break;
				default:
					BUG("relation");
				}
			}
			it->depth = 1;
			it->st[0] = (Frame){ it->base_chain, 0 };
			continue;
		}
		f = &it->st[it->depth - 1];
		c = &e->crs->chains[f->chain];
		if (f->rule < c->n)
			f->rule = next_entry(c->ix, c->n, &it->b, fix, f->rule);
		if (f->rule >= c->n) {
			const CChain *bc = &e->crs->chains[it->base_chain];

			if (it->depth > 1) {
				it->depth--;
				continue;
			}
			add_step(e, it, bc, -1, st->hook, bc->c->policy, NULL);
			if (bc->c->policy == VERDICT_DROP) {
				leaf(e, it, PROVE_DROP);
				return;
			}
			it->depth = 0;
			it->base++;
			continue;
		}
		const CRule *cr = &c->rules[f->rule];
		int dim, rel = cr->never ? REL_NO : relate(cr->d, &it->b, fix, &dim);

		if (rel == REL_NO) {
			f->rule++;
			continue;
		}
		if (rel == REL_SPLIT) {
			split(e, it, dim, cr->d[dim]);
			continue;
		}
		if (cr->n_unk && cr->r->verdict == VERDICT_CONTINUE) {
			f->rule++;	/* may match, but does nothing either way */
			continue;
		}
		if (cr->n_unk) {
			Item skip = *it;

			add_step(e, &skip, c, f->rule, st->hook, VERDICT_CONTINUE,
				 cr->unk[0]);
			skip.st[skip.depth - 1].rule++;
			skip.assumed++;
			push(e, &skip);
			it->assumed++;
		}
		if (!take(e, it, cr, st->hook, cr->n_unk ? cr->unk[0] : NULL))
			return;
	}
}

long space_eval(Space *sp, const CRuleset *crs, const Box *b,
		const Box *excl, int n_excl, LeafFn fn, void *ctx)
{
	return space_eval_ix(sp, crs, b, excl, n_excl, NULL, NULL, 0, fn, ctx);
}

long space_eval_ix(Space *sp, const CRuleset *crs, const Box *b,
		   const Box *excl, int n_excl, const BoxIndex *ix,
		   const Box *extra, int n_extra, LeafFn fn, void *ctx)
{
	Eval e = { 0 };
	PoolMark mark;
	Item it = { 0 };

	for (int d = 0; d < D_N; d++)
		if (!b->d[d] || iset_empty(b->d[d]))
			return 0;
	e.sp = sp;
	e.crs = crs;
	e.excl = excl;
	e.n_excl = n_excl;
	e.excl_ix = ix;
	e.extra = extra;
	e.n_extra = n_extra;
	e.fn = fn;
	e.ctx = ctx;
	for (int v = 0; v < VIEW_N; v++)
		for (int d = 0; d < D_N; d++)
			e.fix[v][d] = -1;
	e.fix[VIEW_FWD][D_SKUID] = sp->ax[D_SKUID].n - 1;
	e.fix[VIEW_FWD][D_SKGID] = sp->ax[D_SKGID].n - 1;
	e.fix[VIEW_NETIN][D_OIF] = 0;
	e.fix[VIEW_NETIN][D_SKUID] = sp->ax[D_SKUID].n - 1;
	e.fix[VIEW_NETIN][D_SKGID] = sp->ax[D_SKGID].n - 1;
	e.fix[VIEW_OUT][D_IIF] = 0;
	e.fix[VIEW_LOIN][D_IIF] = sp->fix_lo;
	e.fix[VIEW_LOIN][D_OIF] = 0;
	e.fix[VIEW_LOIN][D_SKUID] = sp->ax[D_SKUID].n - 1;
	e.fix[VIEW_LOIN][D_SKGID] = sp->ax[D_SKGID].n - 1;
	e.lo_set = sp_ifname(sp, D_OIF, "lo");
	sp->in_eval++;
	mark = pool_mark(&sp->pool);
	it.b = *b;
	push(&e, &it);
	while (e.n > 0 && !e.stop) {
		it = e.stack[--e.n];
		run(&e, &it);
	}
	pool_release(&sp->pool, mark);
	sp->in_eval--;
	free(e.stack);
	return e.leaves;
}

void trace_from_nodes(const TNode *last, int outcome, Trace *tr)
{
	int n = 0;

	for (const TNode *t = last; t; t = t->prev)
		n++;
	tr->outcome = outcome;
	tr->truncated = n > TRACE_MAX;
	tr->n_steps = n > TRACE_MAX ? TRACE_MAX : n;
	for (const TNode *t = last; t; t = t->prev) {
		n--;
		if (n < TRACE_MAX)
			tr->steps[n] = t->s;
	}
}
