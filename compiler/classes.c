/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * classes.c: packet equivalence classes from atoms, and the evaluation of a
 * box of packets on a Ruleset with nftables semantics (see classes.h).
 *
 * Every field is an ordered domain cut into classes. Integer and address
 * fields use 17-byte big-endian keys (addresses: a family byte, then IPv4
 * in the last four bytes or IPv6 in all sixteen) and classes are the
 * elementary intervals between the atoms' bounds. Interface names are
 * ordered as strings: class 0 is "" (no interface), then one class per
 * distinct atom (an exact name, or a prefix pattern standing for the names
 * it covers that no other atom claims), then "any other name". All names a
 * prefix covers are contiguous in that order, so every match is a set of
 * class intervals.
 */
#include "classes.h"

#include <grp.h>
#include <limits.h>
#include <pwd.h>

/* ---- a stack allocator for evaluation temporaries ---- */

typedef struct Chunk {
	struct Chunk *next;
	size_t used, size;
	max_align_t data[];
} Chunk;

typedef struct Pool {
	Chunk *first, *cur;
} Pool;

typedef struct PoolMark {
	Chunk *c;
	size_t used;
} PoolMark;

enum { POOL_CHUNK = 1 << 20 };

/* n bytes (uninitialised) from the pool's current chunk or the next one. */
static void *pool_alloc(Pool *p, size_t n)
{
	const size_t align = sizeof(max_align_t);
	Chunk *c = p->cur;

	n = (n + align - 1) / align * align;
	while (c && c->size - c->used < n) {
		if (!c->next || c->next->size < n) {
			size_t size = n > POOL_CHUNK ? n : POOL_CHUNK;
			Chunk *nc = xmalloc(sizeof *nc + size);

			nc->size = size;
			nc->next = c->next;
			c->next = nc;
		}
		c = c->next;
		c->used = 0;
	}
	if (!c) {
		size_t size = n > POOL_CHUNK ? n : POOL_CHUNK;

		c = xmalloc(sizeof *c + size);
		c->size = size;
		c->used = 0;
		c->next = NULL;
		p->first = c;
	}
	p->cur = c;
	c->used += n;
	return (char *)c->data + c->used - n;
}

static PoolMark pool_mark(Pool *p)
{
	return (PoolMark){ p->cur, p->cur ? p->cur->used : 0 };
}

/* Forget everything allocated since m. */
static void pool_release(Pool *p, PoolMark m)
{
	p->cur = m.c ? m.c : p->first;
	if (p->cur)
		p->cur->used = m.c ? m.used : 0;
}

static void pool_free(Pool *p)
{
	Chunk *c, *n;

	for (c = p->first; c; c = n) {
		n = c->next;
		free(c);
	}
}

/* ---- keys ---- */

typedef struct Key {
	uint8_t b[17];
} Key;

static int key_cmp(const Key *a, const Key *b)
{
	return memcmp(a->b, b->b, sizeof a->b);
}

static Key key_int(uint64_t v)
{
	Key k = { { 0 } };

	for (int i = 0; i < 8; i++)
		k.b[16 - i] = (uint8_t)(v >> (8 * i));
	return k;
}

static uint64_t key_to_int(const Key *k)
{
	uint64_t v = 0;

	for (int i = 9; i < 17; i++)
		v = v << 8 | k->b[i];
	return v;
}

static Key key_addr(AddrFamily fam, const uint8_t *a)
{
	Key k = { { 0 } };

	if (fam == FAM_IP4) {
		memcpy(k.b + 13, a, 4);
	} else {
		k.b[0] = 1;
		memcpy(k.b + 1, a, 16);
	}
	return k;
}

static void key_to_addr(const Key *k, AddrFamily *fam, uint8_t *a)
{
	memset(a, 0, 16);
	if (k->b[0] == 0) {
		*fam = FAM_IP4;
		memcpy(a, k->b + 13, 4);
	} else {
		*fam = FAM_IP6;
		memcpy(a, k->b + 1, 16);
	}
}

/* k + 1; false when k is the largest key. */
static bool key_inc(Key *k)
{
	for (int i = 16; i >= 0; i--)
		if (++k->b[i] != 0)
			return true;
	return false;
}

/* The last address of prefix pfx, as a key; *lo gets the first. */
static Key key_prefix(const Prefix *pfx, Key *lo)
{
	uint8_t a[16];
	int bytes = pfx->fam == FAM_IP4 ? 4 : 16;

	memcpy(a, pfx->addr, 16);
	*lo = key_addr(pfx->fam, a);
	for (int i = 0; i < bytes * 8; i++)
		if (i >= pfx->len)
			a[i / 8] |= (uint8_t)(0x80 >> (i % 8));
	return key_addr(pfx->fam, a);
}

/* ---- class sets ---- */

typedef struct IRange {
	int lo, hi;
} IRange;

struct ISet {
	int n;
	IRange *r;
	int64_t *cum;	/* cum[i]: classes in r[0..i) */
};

/* ---- the space ---- */

typedef struct IfAtom {
	const char *name;
	bool wild;
} IfAtom;

typedef struct Axis {
	bool ifname;
	Key max;
	VEC(Key) atoms;		/* bounds collected before sealing */
	Key *bounds;		/* class i is [bounds[i], bounds[i+1]) */
	int n;			/* classes */
	VEC(IfAtom) ifatoms;
	IfAtom *ifs;		/* sorted; class 1 + i */
	int n_ifs;
	const char **repr;	/* ifname classes: representative names */
} Axis;

typedef struct NameId {
	const char *name;
	long id;
	bool group;
} NameId;

struct Space {
	Arena *arena;
	Pool pool;
	int in_eval;		/* > 0: sets go to the pool */
	bool sealed;
	Axis ax[D_N];
	VEC(NameId) names;	/* uids and gids by name */
	int placeholders;
	int fix_lo, fix_empty;	/* classes of "lo" and "" */
};

/* Memory for sets: the pool during an evaluation, else the arena. */
static void *sp_alloc(Space *sp, size_t n)
{
	return sp->in_eval ? pool_alloc(&sp->pool, n) : arena_alloc(sp->arena, n);
}

/* A set of the n normalised ranges r (sorted, disjoint, not adjacent). */
static const ISet *iset_make(Space *sp, const IRange *r, int n)
{
	ISet *s = sp_alloc(sp, sizeof *s + (size_t)n * sizeof(IRange) +
			   (size_t)(n + 1) * sizeof(int64_t));

	s->n = n;
	s->cum = (int64_t *)(s + 1);
	s->r = (IRange *)(s->cum + n + 1);
	s->cum[0] = 0;
	for (int i = 0; i < n; i++) {
		s->r[i] = r[i];
		s->cum[i + 1] = s->cum[i] + (r[i].hi - r[i].lo + 1);
	}
	return s;
}

static int cmp_range(const void *a, const void *b)
{
	const IRange *x = a, *y = b;

	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

/* A set of any ranges: sorted and merged in place, then made. */
static const ISet *iset_from(Space *sp, IRange *r, int n)
{
	int k = 0;

	qsort(r, (size_t)n, sizeof *r, cmp_range);
	for (int i = 0; i < n; i++) {
		if (r[i].lo > r[i].hi)
			continue;
		if (k > 0 && r[i].lo <= r[k - 1].hi + 1) {
			if (r[i].hi > r[k - 1].hi)
				r[k - 1].hi = r[i].hi;
		} else {
			r[k++] = r[i];
		}
	}
	return iset_make(sp, r, k);
}

static const ISet *iset_range(Space *sp, int lo, int hi)
{
	IRange r = { lo, hi };

	return iset_make(sp, &r, lo <= hi ? 1 : 0);
}

bool iset_empty(const ISet *s)
{
	return s->n == 0;
}

static int64_t iset_size(const ISet *s)
{
	return s->cum[s->n];
}

/* Index of the first range of s whose hi >= x (s->n if none). */
static int iset_first_ge(const ISet *s, int x)
{
	int lo = 0, hi = s->n;

	while (lo < hi) {
		int mid = (lo + hi) / 2;

		if (s->r[mid].hi < x)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static bool iset_has(const ISet *s, int x)
{
	int i = iset_first_ge(s, x);

	return i < s->n && s->r[i].lo <= x;
}

/* Number of classes of s within lo..hi. */
static int64_t iset_meas_range(const ISet *s, int lo, int hi)
{
	int i = iset_first_ge(s, lo), j;
	int64_t m;

	if (i == s->n || s->r[i].lo > hi)
		return 0;
	/* j: the last range with r.lo <= hi */
	j = iset_first_ge(s, hi);
	if (j == s->n || s->r[j].lo > hi)
		j--;
	m = s->cum[j + 1] - s->cum[i];
	if (s->r[i].lo < lo)
		m -= lo - s->r[i].lo;
	if (s->r[j].hi > hi)
		m -= s->r[j].hi - hi;
	return m;
}

/* Number of classes in a and b. */
static int64_t iset_meas_inter(const ISet *a, const ISet *b)
{
	int64_t m = 0;

	if (a->n > b->n) {
		const ISet *t = a;

		a = b;
		b = t;
	}
	for (int i = 0; i < a->n; i++)
		m += iset_meas_range(b, a->r[i].lo, a->r[i].hi);
	return m;
}

/* a & b, or a & ~b when minus. */
static const ISet *iset_combine(Space *sp, const ISet *a, const ISet *b,
				bool minus)
{
	int cap = a->n + b->n + 1, n = 0;
	IRange *out;
	PoolMark m = pool_mark(&sp->pool);
	const ISet *res;

	out = pool_alloc(&sp->pool, (size_t)cap * sizeof *out);
	for (int i = 0; i < a->n; i++) {
		int lo = a->r[i].lo, hi = a->r[i].hi;
		int j = iset_first_ge(b, lo);

		if (!minus) {
			for (; j < b->n && b->r[j].lo <= hi; j++) {
				int l = b->r[j].lo > lo ? b->r[j].lo : lo;
				int h = b->r[j].hi < hi ? b->r[j].hi : hi;

				out[n++] = (IRange){ l, h };
			}
			continue;
		}
		for (; j < b->n && b->r[j].lo <= hi; j++) {
			if (b->r[j].lo > lo)
				out[n++] = (IRange){ lo, b->r[j].lo - 1 };
			lo = b->r[j].hi + 1;
			if (lo > hi)
				break;
		}
		if (lo <= hi)
			out[n++] = (IRange){ lo, hi };
	}
	if (n > cap)
		BUG("iset_combine overflow");
	res = iset_make(sp, out, n);
	if (!sp->in_eval)
		pool_release(&sp->pool, m);
	return res;
}

static const ISet *iset_inter(Space *sp, const ISet *a, const ISet *b)
{
	return iset_combine(sp, a, b, false);
}

const ISet *iset_meet(Space *sp, const ISet *a, const ISet *b)
{
	return iset_combine(sp, a, b, false);
}

static const ISet *iset_minus(Space *sp, const ISet *a, const ISet *b)
{
	return iset_combine(sp, a, b, true);
}

/* ---- axes ---- */

static void axis_add(Space *sp, Dim d, Key lo, Key hi)
{
	Axis *ax = &sp->ax[d];

	if (sp->sealed)
		BUG("atom added after space_seal");
	if (key_cmp(&lo, &ax->max) > 0)
		return;
	if (key_cmp(&hi, &ax->max) > 0)
		hi = ax->max;
	vec_push(sp->arena, &ax->atoms, lo);
	if (key_cmp(&hi, &ax->max) < 0 && key_inc(&hi))
		vec_push(sp->arena, &ax->atoms, hi);
}

static void axis_add_int(Space *sp, Dim d, uint64_t lo, uint64_t hi)
{
	axis_add(sp, d, key_int(lo), key_int(hi));
}

static void axis_add_ifname(Space *sp, Dim d, const char *name, bool wild)
{
	if (sp->sealed)
		BUG("atom added after space_seal");
	vec_push(sp->arena, &sp->ax[d].ifatoms,
		 ((IfAtom){ arena_strdup(sp->arena, name), wild }));
}

static void axis_add_prefix(Space *sp, Dim d, const Prefix *pfx)
{
	Key lo, hi = key_prefix(pfx, &lo);

	axis_add(sp, d, lo, hi);
}

static int cmp_key(const void *a, const void *b)
{
	return key_cmp(a, b);
}

/* "" < names; equal names: the pattern before the exact name. */
static int cmp_ifatom(const void *a, const void *b)
{
	const IfAtom *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	if (c)
		return c;
	return (int)y->wild - (int)x->wild;
}

/* Sort and deduplicate the atoms into classes. */
static void axis_seal(Axis *ax)
{
	int k = 0;

	if (ax->ifname) {
		IfAtom *v = ax->ifatoms.v;

		if (ax->ifatoms.n)
			qsort(v, (size_t)ax->ifatoms.n, sizeof *v, cmp_ifatom);
		for (int i = 0; i < ax->ifatoms.n; i++) {
			if (!v[i].name[0])
				continue;	/* "" is class 0; "*" all */
			if (k && !cmp_ifatom(&v[k - 1], &v[i]))
				continue;
			v[k++] = v[i];
		}
		ax->ifs = v;
		ax->n_ifs = k;
		ax->n = k + 2;
		return;
	}
	qsort(ax->atoms.v, (size_t)ax->atoms.n, sizeof(Key), cmp_key);
	for (int i = 0; i < ax->atoms.n; i++)
		if (!k || key_cmp(&ax->atoms.v[k - 1], &ax->atoms.v[i]))
			ax->atoms.v[k++] = ax->atoms.v[i];
	ax->bounds = ax->atoms.v;
	ax->n = k;
}

/* The class holding key k. */
static int axis_class(const Axis *ax, const Key *k)
{
	int lo = 0, hi = ax->n;	/* first bound > k */

	while (lo < hi) {
		int mid = (lo + hi) / 2;

		if (key_cmp(&ax->bounds[mid], k) <= 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		BUG("key below the domain");
	return lo - 1;
}

/* Index of the first ifname atom >= (name, wild) in atom order. */
static int if_lower(const Axis *ax, const char *name, bool wild)
{
	IfAtom key = { name, wild };
	int lo = 0, hi = ax->n_ifs;

	while (lo < hi) {
		int mid = (lo + hi) / 2;

		if (cmp_ifatom(&ax->ifs[mid], &key) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The classes an exact name or a pattern of the ifname axis matches. */
static IRange if_range(const Axis *ax, const char *name, bool wild)
{
	size_t len = strlen(name);
	int i, j;

	if (!wild && !name[0])
		return (IRange){ 0, 0 };
	if (wild && !name[0])
		return (IRange){ 0, ax->n - 1 };
	i = if_lower(ax, name, wild);
	if (i == ax->n_ifs || strcmp(ax->ifs[i].name, name) ||
	    ax->ifs[i].wild != wild)
		BUG("interface atom '%s' not registered", name);
	if (!wild)
		return (IRange){ 1 + i, 1 + i };
	for (j = i; j + 1 < ax->n_ifs &&
	     !strncmp(ax->ifs[j + 1].name, name, len); j++)
		;
	return (IRange){ 1 + i, 1 + j };
}

/* The class of a concrete interface name. */
static int if_class(const Axis *ax, const char *name)
{
	int best = -1;
	size_t best_len = 0;
	int i;

	if (!name[0])
		return 0;
	i = if_lower(ax, name, false);
	if (i < ax->n_ifs && !strcmp(ax->ifs[i].name, name) && !ax->ifs[i].wild)
		return 1 + i;
	for (i = 0; i < ax->n_ifs; i++) {
		size_t l = strlen(ax->ifs[i].name);

		if (ax->ifs[i].wild && l >= best_len &&
		    !strncmp(ax->ifs[i].name, name, l)) {
			best = i;
			best_len = l;
		}
	}
	return best >= 0 ? 1 + best : ax->n - 1;
}

/* A name of class c that no other class claims. */
static const char *if_repr(Space *sp, Axis *ax, int c)
{
	static const char *const others[] = { "eth0", "ens3", "enp1s0", "if" };
	char buf[64];

	if (!ax->repr)
		ax->repr = arena_alloc(sp->arena, (size_t)ax->n * sizeof(char *));
	if (ax->repr[c])
		return ax->repr[c];
	if (c == 0) {
		ax->repr[c] = "";
	} else if (c <= ax->n_ifs && !ax->ifs[c - 1].wild) {
		ax->repr[c] = ax->ifs[c - 1].name;
	} else {
		const char *base = c <= ax->n_ifs ? ax->ifs[c - 1].name : NULL;

		for (int k = 0; k < 100000 && !ax->repr[c]; k++) {
			if (base && k == 10)
				snprintf(buf, sizeof buf, "%s", base);
			else if (base)
				snprintf(buf, sizeof buf, "%s%d", base, k < 10 ? k : k - 1);
			else if (k < 3)
				snprintf(buf, sizeof buf, "%s", others[k]);
			else
				snprintf(buf, sizeof buf, "if%d", k - 3);
			if (if_class(ax, buf) == c)
				ax->repr[c] = arena_strdup(sp->arena, buf);
		}
		if (!ax->repr[c])
			ax->repr[c] = "?";
	}
	return ax->repr[c];
}

/* ---- names of users and groups ---- */

static NameId *name_find(Space *sp, const char *name, bool group)
{
	for (int i = 0; i < sp->names.n; i++)
		if (sp->names.v[i].group == group &&
		    !strcmp(sp->names.v[i].name, name))
			return &sp->names.v[i];
	return NULL;
}

/* The id of a user or group name: pinned, else the host's, else a
 * placeholder that no real id uses. */
static long name_id(Space *sp, const char *name, bool group)
{
	NameId *n = name_find(sp, name, group);
	long id = -1;

	if (n)
		return n->id;
	if (group) {
		struct group *g = getgrnam(name);

		if (g)
			id = (long)g->gr_gid;
	} else {
		struct passwd *pw = getpwnam(name);

		if (pw)
			id = (long)pw->pw_uid;
	}
	if (id < 0)
		id = 0xfffe0000L + sp->placeholders++;
	vec_push(sp->arena, &sp->names,
		 ((NameId){ arena_strdup(sp->arena, name), id, group }));
	return id;
}

/* Pin name to id (a policy said so). */
static void name_pin(Space *sp, const char *name, long id, bool group)
{
	if (!name || id < 0 || name_find(sp, name, group))
		return;
	vec_push(sp->arena, &sp->names,
		 ((NameId){ arena_strdup(sp->arena, name), id, group }));
}

/* A name for an id, or NULL. */
static const char *id_name(Space *sp, long id, bool group)
{
	for (int i = 0; i < sp->names.n; i++)
		if (sp->names.v[i].group == group && sp->names.v[i].id == id)
			return sp->names.v[i].name;
	return NULL;
}

long space_uid_of(Space *sp, const char *user)
{
	return name_id(sp, user, false);
}

/* ---- building the space ---- */

static const uint64_t ID_ABSENT = 1ULL << 32;

Space *space_new(void)
{
	Space *sp = xcalloc(1, sizeof *sp);
	uint8_t ones[16], zero[16] = { 0 };
	static const int8_t ct_bits[] = { 0, 1, 2, 3, 6 };

	memset(ones, 0xff, sizeof ones);
	sp->arena = arena_new();
	sp->ax[D_IIF].ifname = sp->ax[D_OIF].ifname = true;
	sp->ax[D_NFPROTO].max = key_int(255);
	sp->ax[D_L4PROTO].max = key_int(255);
	sp->ax[D_SADDR].max = sp->ax[D_DADDR].max = key_addr(FAM_IP6, ones);
	sp->ax[D_SPORT].max = sp->ax[D_DPORT].max = key_int(65535);
	sp->ax[D_SKUID].max = sp->ax[D_SKGID].max = key_int(ID_ABSENT);
	sp->ax[D_CTSTATE].max = key_int(7);
	for (int d = 0; d < D_N; d++)
		if (!sp->ax[d].ifname)
			axis_add_int(sp, d, 0, 0);
	for (int d = D_SADDR; d <= D_DADDR; d++) {
		axis_add(sp, d, key_addr(FAM_IP4, zero), key_addr(FAM_IP4, ones));
		axis_add(sp, d, key_addr(FAM_IP6, zero), key_addr(FAM_IP6, zero));
	}
	axis_add_int(sp, D_NFPROTO, 2, 2);
	axis_add_int(sp, D_NFPROTO, 10, 10);
	axis_add_int(sp, D_L4PROTO, 6, 6);
	axis_add_int(sp, D_L4PROTO, 17, 17);
	axis_add_int(sp, D_SKUID, ID_ABSENT, ID_ABSENT);
	axis_add_int(sp, D_SKGID, ID_ABSENT, ID_ABSENT);
	for (size_t i = 0; i < sizeof ct_bits; i++)
		axis_add_int(sp, D_CTSTATE, (uint64_t)ct_bits[i],
			     (uint64_t)ct_bits[i]);
	axis_add_ifname(sp, D_IIF, "lo", false);
	axis_add_ifname(sp, D_OIF, "lo", false);
	return sp;
}

void space_free(Space *sp)
{
	if (!sp)
		return;
	pool_free(&sp->pool);
	arena_free(sp->arena);
	free(sp);
}

static Dim key_dim(RsKey k)
{
	switch (k) {
	case KEY_IIFNAME: return D_IIF;
	case KEY_OIFNAME: return D_OIF;
	case KEY_NFPROTO: return D_NFPROTO;
	case KEY_L4PROTO: return D_L4PROTO;
	case KEY_SADDR: return D_SADDR;
	case KEY_DADDR: return D_DADDR;
	case KEY_SPORT: return D_SPORT;
	case KEY_DPORT: return D_DPORT;
	case KEY_SKUID: return D_SKUID;
	case KEY_SKGID: return D_SKGID;
	case KEY_CTSTATE: return D_CTSTATE;
	case KEY_UNKNOWN: return D_N;
	default: BUG("ruleset key %d", (int)k);
	}
}

/* The key range of a non-name value v of field d. */
static void value_keys(Space *sp, Dim d, const RsValue *v, Key *lo, Key *hi)
{
	switch (v->kind) {
	case VAL_INT:
		*lo = key_int(v->lo);
		*hi = key_int(v->hi);
		break;
	case VAL_ADDR:
		*lo = key_addr(v->fam, v->addr_lo);
		*hi = key_addr(v->fam, v->addr_hi);
		break;
	case VAL_USER:
		*lo = *hi = key_int((uint64_t)name_id(sp, v->name, d == D_SKGID));
		break;
	case VAL_IFNAME:
	default:
		BUG("value kind %d for field %d", (int)v->kind, (int)d);
	}
}

static void add_match(Space *sp, const RsMatch *m)
{
	Dim d = key_dim(m->key);

	if (d == D_N || d == D_CTSTATE)
		return;
	for (int i = 0; i < m->n_vals; i++) {
		const RsValue *v = &m->vals[i];
		Key lo, hi;

		if (sp->ax[d].ifname) {
			if (v->kind != VAL_IFNAME)
				BUG("value kind %d for an interface", (int)v->kind);
			axis_add_ifname(sp, d, v->name, v->wildcard);
			continue;
		}
		value_keys(sp, d, v, &lo, &hi);
		if (key_cmp(&lo, &hi) <= 0)
			axis_add(sp, d, lo, hi);
	}
}

void space_add_ruleset(Space *sp, const Ruleset *rs)
{
	for (int t = 0; t < rs->n_tables; t++)
		for (int c = 0; c < rs->tables[t].n_chains; c++) {
			const RsChain *ch = &rs->tables[t].chains[c];

			for (int r = 0; r < ch->n_rules; r++)
				for (int m = 0; m < ch->rules[r].n_matches; m++)
					add_match(sp, &ch->rules[r].matches[m]);
		}
}

void space_add_policy(Space *sp, const Policy *p)
{
	if (p->container.user)
		name_pin(sp, p->container.user, p->container.uid, false);
	for (int s = 0; s < p->n_sources; s++)
		for (int v = 0; v < p->sources[s]->n_vias; v++) {
			const Via *via = &p->sources[s]->vias[v];

			for (int i = 0; i < via->n_ifaces; i++)
				axis_add_ifname(sp, D_IIF, via->ifaces[i].name,
						via->ifaces[i].wildcard);
			for (int i = 0; i < via->n_addrs; i++)
				axis_add_prefix(sp, D_SADDR, &via->addrs[i]);
			if (via->kind == VIA_USER)
				name_pin(sp, via->user, via->uid, false);
		}
	for (int s = 0; s < p->n_sources; s++)
		for (int v = 0; v < p->sources[s]->n_vias; v++) {
			const Via *via = &p->sources[s]->vias[v];

			if (via->kind == VIA_USER) {
				long uid = name_id(sp, via->user, false);

				axis_add_int(sp, D_SKUID, (uint64_t)uid, (uint64_t)uid);
			}
		}
	for (int i = 0; i < p->n_services; i++) {
		const Service *v = p->services[i];

		if (!service_is_network(v))
			continue;
		axis_add_int(sp, D_DPORT, (uint64_t)v->port_lo, (uint64_t)v->port_hi);
		if (v->has_listen)
			axis_add_prefix(sp, D_DADDR, &v->listen);
	}
}

void space_add_packet(Space *sp, const Packet *pkt)
{
	if (pkt->iifname && pkt->iifname[0])
		axis_add_ifname(sp, D_IIF, pkt->iifname, false);
	if (pkt->oifname && pkt->oifname[0])
		axis_add_ifname(sp, D_OIF, pkt->oifname, false);
	axis_add(sp, D_SADDR, key_addr(pkt->fam, pkt->saddr),
		 key_addr(pkt->fam, pkt->saddr));
	axis_add(sp, D_DADDR, key_addr(pkt->fam, pkt->daddr),
		 key_addr(pkt->fam, pkt->daddr));
	axis_add_int(sp, D_L4PROTO, (uint64_t)pkt->l4proto, (uint64_t)pkt->l4proto);
	axis_add_int(sp, D_SPORT, (uint64_t)pkt->sport, (uint64_t)pkt->sport);
	axis_add_int(sp, D_DPORT, (uint64_t)pkt->dport, (uint64_t)pkt->dport);
	if (pkt->uid >= 0)
		axis_add_int(sp, D_SKUID, (uint64_t)pkt->uid, (uint64_t)pkt->uid);
	if (pkt->gid >= 0)
		axis_add_int(sp, D_SKGID, (uint64_t)pkt->gid, (uint64_t)pkt->gid);
	if (pkt->user && pkt->uid >= 0)
		name_pin(sp, pkt->user, pkt->uid, false);
	if (pkt->group && pkt->gid >= 0)
		name_pin(sp, pkt->group, pkt->gid, true);
}

void space_seal(Space *sp)
{
	for (int d = 0; d < D_N; d++)
		axis_seal(&sp->ax[d]);
	sp->sealed = true;
	sp->fix_empty = 0;
	sp->fix_lo = if_class(&sp->ax[D_IIF], "lo");
}

/* ---- class sets of a field ---- */

static int key_class(Space *sp, Dim d, Key k)
{
	return axis_class(&sp->ax[d], &k);
}

/* Classes of the key range lo..hi (both registered as atoms). */
static IRange key_range(Space *sp, Dim d, Key lo, Key hi)
{
	return (IRange){ key_class(sp, d, lo), key_class(sp, d, hi) };
}

const ISet *sp_int(Space *sp, Dim d, uint64_t lo, uint64_t hi)
{
	return iset_range(sp, key_class(sp, d, key_int(lo)),
			  key_class(sp, d, key_int(hi)));
}

const ISet *sp_family(Space *sp, Dim d, AddrFamily fam)
{
	uint8_t zero[16] = { 0 }, ones[16];

	memset(ones, 0xff, sizeof ones);
	return iset_range(sp, key_class(sp, d, key_addr(fam, zero)),
			  key_class(sp, d, key_addr(fam, ones)));
}

const ISet *sp_all(Space *sp, Dim d)
{
	const Axis *ax = &sp->ax[d];

	switch (d) {
	case D_IIF:
	case D_OIF:
		return iset_range(sp, 1, ax->n - 1);
	case D_SADDR:
	case D_DADDR: {
		IRange r[2];
		const ISet *a = sp_family(sp, d, FAM_IP4);
		const ISet *b = sp_family(sp, d, FAM_IP6);

		r[0] = a->r[0];
		r[1] = b->r[0];
		return iset_from(sp, r, 2);
	}
	case D_SKUID:
	case D_SKGID:
		return iset_range(sp, 0, ax->n - 2);
	case D_NFPROTO:
	case D_L4PROTO:
	case D_SPORT:
	case D_DPORT:
	case D_CTSTATE:
		return iset_range(sp, 0, ax->n - 1);
	default:
		BUG("field %d", (int)d);
	}
}

const ISet *sp_absent(Space *sp, Dim d)
{
	if (d != D_SKUID && d != D_SKGID)
		BUG("field %d has no absent value", (int)d);
	return iset_range(sp, sp->ax[d].n - 1, sp->ax[d].n - 1);
}

const ISet *sp_prefixes(Space *sp, Dim d, const Prefix *pfx, int n,
			AddrFamily fam)
{
	IRange *r = arena_alloc(sp->arena, (size_t)(n + 1) * sizeof *r);
	int k = 0;

	for (int i = 0; i < n; i++) {
		Key lo, hi;

		if (pfx[i].fam != fam)
			continue;
		hi = key_prefix(&pfx[i], &lo);
		r[k++] = key_range(sp, d, lo, hi);
	}
	return iset_from(sp, r, k);
}

const ISet *sp_addr(Space *sp, Dim d, AddrFamily fam, const uint8_t *addr)
{
	int c = key_class(sp, d, key_addr(fam, addr));

	return iset_range(sp, c, c);
}

const ISet *sp_ifpatterns(Space *sp, Dim d, const IfPattern *ifs, int n)
{
	IRange *r = arena_alloc(sp->arena, (size_t)(n + 1) * sizeof *r);

	for (int i = 0; i < n; i++)
		r[i] = if_range(&sp->ax[d], ifs[i].name, ifs[i].wildcard);
	return iset_from(sp, r, n);
}

const ISet *sp_ifname(Space *sp, Dim d, const char *name)
{
	int c = if_class(&sp->ax[d], name ? name : "");

	return iset_range(sp, c, c);
}

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
static const Dim home_dims[] = { D_SADDR, D_IIF, D_SKUID, D_OIF, D_DPORT };
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
	b->d[D_OIF] = sp_ifname(sp, D_OIF, local ? pkt->oifname : "");
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
	k = box_key(sp, b, D_L4PROTO);
	pkt->l4proto = (int)key_to_int(&k);
	pref = key_int(40000);
	k = box_key_pref(sp, b, D_SPORT, &pref);
	pkt->sport = (int)key_to_int(&k);
	k = box_key(sp, b, D_DPORT);
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
	else
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

typedef enum { VIEW_NETIN, VIEW_OUT, VIEW_LOIN } View;

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
	int fix[3][D_N];	/* per view: the class a field is fixed to, or -1 */
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
	const Stage *path = it->b.path == PKT_NET ? net_path : local_path;
	int n_stages = it->b.path == PKT_NET ? 2 : 4;

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
	for (int v = 0; v < 3; v++)
		for (int d = 0; d < D_N; d++)
			e.fix[v][d] = -1;
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
