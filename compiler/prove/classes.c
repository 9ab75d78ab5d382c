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
#include "classes_int.h"

#include <grp.h>
#include <limits.h>
#include <pwd.h>

/* ---- a stack allocator for evaluation temporaries ---- */

enum { POOL_CHUNK = 1 << 20 };

/* n bytes (uninitialised) from the pool's current chunk or the next one. */
void *pool_alloc(Pool *p, size_t n)
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

PoolMark pool_mark(Pool *p)
{
	return (PoolMark){ p->cur, p->cur ? p->cur->used : 0 };
}

/* Forget everything allocated since m. */
void pool_release(Pool *p, PoolMark m)
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

int key_cmp(const Key *a, const Key *b)
{
	return memcmp(a->b, b->b, sizeof a->b);
}

Key key_int(uint64_t v)
{
	Key k = { { 0 } };

	for (int i = 0; i < 8; i++)
		k.b[16 - i] = (uint8_t)(v >> (8 * i));
	return k;
}

uint64_t key_to_int(const Key *k)
{
	uint64_t v = 0;

	for (int i = 9; i < 17; i++)
		v = v << 8 | k->b[i];
	return v;
}

Key key_addr(AddrFamily fam, const uint8_t *a)
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

void key_to_addr(const Key *k, AddrFamily *fam, uint8_t *a)
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

/* ---- the space ---- */

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
const ISet *iset_from(Space *sp, IRange *r, int n)
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

const ISet *iset_range(Space *sp, int lo, int hi)
{
	IRange r = { lo, hi };

	return iset_make(sp, &r, lo <= hi ? 1 : 0);
}

bool iset_empty(const ISet *s)
{
	return s->n == 0;
}

int64_t iset_size(const ISet *s)
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

bool iset_has(const ISet *s, int x)
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
int64_t iset_meas_inter(const ISet *a, const ISet *b)
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

const ISet *iset_inter(Space *sp, const ISet *a, const ISet *b)
{
	return iset_combine(sp, a, b, false);
}

const ISet *iset_meet(Space *sp, const ISet *a, const ISet *b)
{
	return iset_combine(sp, a, b, false);
}

const ISet *iset_minus(Space *sp, const ISet *a, const ISet *b)
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
int axis_class(const Axis *ax, const Key *k)
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
IRange if_range(const Axis *ax, const char *name, bool wild)
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
const char *if_repr(Space *sp, Axis *ax, int c)
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
const char *id_name(Space *sp, long id, bool group)
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

Dim key_dim(RsKey k)
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
void value_keys(Space *sp, Dim d, const RsValue *v, Key *lo, Key *hi)
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

	if (m->n_cat) {	/* a concatenation: each tuple's values by their keys */
		for (int i = 0; i < m->n_vals * m->n_cat; i++) {
			RsMatch one = { .key = m->cat[i % m->n_cat], .vals = &m->vals[i],
					.n_vals = 1 };

			add_match(sp, &one);
		}
		return;
	}
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

		if (v->kind == SVC_EGRESS) {
			for (int k = 0; k < v->n_dests; k++)
				axis_add_prefix(sp, D_DADDR, &v->dests[k]);
			if (v->eproto) {
				axis_add_int(sp, D_L4PROTO, (uint64_t)v->eproto,
					     (uint64_t)v->eproto);
				axis_add_int(sp, D_DPORT, (uint64_t)v->port_lo,
					     (uint64_t)v->port_hi);
			}
			continue;
		}
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

/* Give the fields of a pair (source and destination, in and out) the same
 * atoms, so that their classes are the same and a reply's box is the
 * original's with the pair swapped (prove.c, reply_box). */
static void axis_mirror(Space *sp, Dim a, Dim b)
{
	Axis *x = &sp->ax[a], *y = &sp->ax[b];
	int nx = x->atoms.n, ny = y->atoms.n, ix = x->ifatoms.n, iy = y->ifatoms.n;

	for (int i = 0; i < ny; i++)
		vec_push(sp->arena, &x->atoms, y->atoms.v[i]);
	for (int i = 0; i < nx; i++)
		vec_push(sp->arena, &y->atoms, x->atoms.v[i]);
	for (int i = 0; i < iy; i++)
		vec_push(sp->arena, &x->ifatoms, y->ifatoms.v[i]);
	for (int i = 0; i < ix; i++)
		vec_push(sp->arena, &y->ifatoms, x->ifatoms.v[i]);
}

void space_seal(Space *sp)
{
	axis_mirror(sp, D_IIF, D_OIF);
	axis_mirror(sp, D_SADDR, D_DADDR);
	axis_mirror(sp, D_SPORT, D_DPORT);
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
IRange key_range(Space *sp, Dim d, Key lo, Key hi)
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

const ISet *sp_ifs_but_lo(Space *sp, Dim d)
{
	return iset_minus(sp, sp_all(sp, d), sp_ifname(sp, d, "lo"));
}

const ISet *sp_any_owner(Space *sp, Dim d)
{
	return sp_int(sp, d, 0, ID_ABSENT);
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

