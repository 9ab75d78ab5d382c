/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * lookup.c: rules in nftables' lookup shape, and back (see ruleset.h).
 *
 * A policy of one row per peer lowers to one rule per row that differ in
 * one value (the peer's address). nftables looks a value up in a set in
 * one step, where it walks rules one by one, so lookup_merge joins such a
 * run into one rule matching a set of the values; each value keeps the
 * provenance of its rule and nft holds it as the element's comment
 * (`10.0.0.2 comment "default.fp:30 laptop->api"`).
 *
 * Why a merge keeps the decision: the rules of a run are consecutive,
 * equal but for the values of one positive match, and end in the same
 * terminal verdict, so a packet that matches one of them meets that
 * verdict at the first it matches, and the merged rule (which matches
 * exactly the packets that match one of them) gives it at the same place.
 * The values are sorted as nft lists them (they are alternatives of one
 * verdict, so their order decides nothing) and kept pairwise disjoint (a
 * set holds no duplicates) and, when
 * one is a range, never adjacent (nft joins adjacent intervals of an
 * anonymous set, which would lose an element's comment).
 */
#include "back.h"

/* ---- what may merge ---- */

/* Is m a match whose values a merged set may hold? */
static bool mergeable_match(const RsMatch *m)
{
	if (m->neg || m->set || m->n_vals < 1)
		return false;
	switch (m->key) {
	case KEY_IIFNAME:
	case KEY_OIFNAME:
		for (int i = 0; i < m->n_vals; i++)
			if (m->vals[i].kind != VAL_IFNAME || m->vals[i].wildcard)
				return false;
		return true;
	case KEY_SADDR:
	case KEY_DADDR:
		for (int i = 0; i < m->n_vals; i++)
			if (m->vals[i].kind != VAL_ADDR ||
			    m->vals[i].fam != m->vals[0].fam)
				return false;
		return true;
	case KEY_SPORT:
	case KEY_DPORT:
	case KEY_CTSTATE:
		for (int i = 0; i < m->n_vals; i++)
			if (m->vals[i].kind != VAL_INT)
				return false;
		return true;
	default:
		return false;
	}
}

/* Are values a and b the same value? */
static bool value_eq(const RsValue *a, const RsValue *b)
{
	if (a->kind != b->kind)
		return false;
	switch (a->kind) {
	case VAL_INT:
		return a->lo == b->lo && a->hi == b->hi;
	case VAL_ADDR:
		return a->fam == b->fam && !memcmp(a->addr_lo, b->addr_lo, 16) &&
		       !memcmp(a->addr_hi, b->addr_hi, 16);
	case VAL_IFNAME:
	case VAL_USER:
		return a->wildcard == b->wildcard && !strcmp(a->name, b->name);
	default:
		BUG("value kind %d", a->kind);
	}
}

/* Do matches a and b test the same key with the same values? */
static bool match_eq(const RsMatch *a, const RsMatch *b)
{
	if (a->key != b->key || a->neg != b->neg || a->n_vals != b->n_vals ||
	    (a->set == NULL) != (b->set == NULL) ||
	    (a->set && strcmp(a->set, b->set)))
		return false;
	if (a->key == KEY_UNKNOWN)
		return false;
	for (int i = 0; i < a->n_vals; i++)
		if (!value_eq(&a->vals[i], &b->vals[i]))
			return false;
	return true;
}

/* May rule r stand in a merged run at all? */
static bool mergeable_rule(const RsRule *r)
{
	return (r->verdict == VERDICT_ACCEPT || r->verdict == VERDICT_DROP ||
		r->verdict == VERDICT_REJECT) && r->n_matches > 0 && !r->elem;
}

/* May rules of verdicts a and b (with counter or not) share a lookup: the
 * same verdict (a set), or accept and drop (a verdict map)? */
static bool verdicts_join(const RsRule *a, const RsRule *b)
{
	if (a->verdict == b->verdict)
		return a->verdict != VERDICT_REJECT || a->reject == b->reject;
	return a->verdict != VERDICT_REJECT && b->verdict != VERDICT_REJECT &&
	       !a->counter;
}

/* The one match index where a and b differ (the same everywhere else,
 * verdicts that join), or -1. */
static int differ_at(const RsRule *a, const RsRule *b)
{
	int d = -1;

	if (!mergeable_rule(a) || !mergeable_rule(b) || !verdicts_join(a, b) ||
	    a->counter != b->counter || a->n_matches != b->n_matches)
		return -1;
	for (int i = 0; i < a->n_matches; i++) {
		if (match_eq(&a->matches[i], &b->matches[i]))
			continue;
		if (d >= 0 || a->matches[i].key != b->matches[i].key ||
		    !mergeable_match(&a->matches[i]) ||
		    !mergeable_match(&b->matches[i]))
			return -1;
		d = i;
	}
	if (d >= 0 && (a->matches[d].key == KEY_SADDR || a->matches[d].key == KEY_DADDR) &&
	    a->matches[d].vals[0].fam != b->matches[d].vals[0].fam)
		return -1;
	return d;
}

/* ---- disjoint values ---- */

/* A value as an interval of comparable big-endian bytes. */
typedef struct Span {
	uint8_t lo[16], hi[16];
} Span;

/* v as a Span (ints as 8 bytes, addresses as 16, names as 16 bytes). */
static void value_span(const RsValue *v, Span *s)
{
	memset(s, 0, sizeof *s);
	switch (v->kind) {
	case VAL_INT:
		for (int i = 0; i < 8; i++) {
			s->lo[8 + i] = (uint8_t)(v->lo >> (56 - 8 * i));
			s->hi[8 + i] = (uint8_t)(v->hi >> (56 - 8 * i));
		}
		break;
	case VAL_ADDR:
		memcpy(s->lo, v->addr_lo, 16);
		memcpy(s->hi, v->addr_hi, 16);
		break;
	case VAL_IFNAME:
		memcpy(s->lo, v->name, strnlen(v->name, 16));
		memcpy(s->hi, s->lo, 16);
		break;
	default:
		BUG("value kind %d in a merge", v->kind);
	}
}

static int span_cmp(const void *a, const void *b)
{
	return memcmp(((const Span *)a)->lo, ((const Span *)b)->lo, 16);
}

/* Is x + 1 == y (16-byte big-endian numbers)? */
static bool span_next(const uint8_t *x, const uint8_t *y)
{
	uint8_t n[16];
	int i = 15;

	memcpy(n, x, 16);
	while (i >= 0 && ++n[i] == 0)
		i--;
	return i >= 0 && !memcmp(n, y, 16);
}

/* Are the ct state masks of match d of rules[0..n) disjoint? */
static bool states_apart(const RsRule *rules, int n, int d)
{
	uint64_t seen = 0;

	for (int r = 0; r < n; r++)
		for (int i = 0; i < rules[r].matches[d].n_vals; i++) {
			uint64_t m = rules[r].matches[d].vals[i].lo;

			if (seen & m)
				return false;
			seen |= m;
		}
	return true;
}

/* Are the values of match d of rules[0..n) pairwise disjoint, and apart
 * when any is a range? */
static bool values_apart(const RsRule *rules, int n, int d)
{
	int total = 0, k = 0;
	bool range = false;
	Span *s;
	bool ok = true;

	if (rules[0].matches[d].key == KEY_CTSTATE)
		return states_apart(rules, n, d);

	for (int r = 0; r < n; r++)
		total += rules[r].matches[d].n_vals;
	s = xcalloc((size_t)total + 1, sizeof *s);
	for (int r = 0; r < n; r++)
		for (int i = 0; i < rules[r].matches[d].n_vals; i++) {
			value_span(&rules[r].matches[d].vals[i], &s[k]);
			range |= memcmp(s[k].lo, s[k].hi, 16) != 0;
			k++;
		}
	qsort(s, (size_t)total, sizeof *s, span_cmp);
	for (int i = 1; i < total && ok; i++)
		ok = memcmp(s[i - 1].hi, s[i].lo, 16) < 0 &&
		     !(range && span_next(s[i - 1].hi, s[i].lo));
	free(s);
	return ok;
}

/* ---- merging ---- */

/* Can match d of rule r be a verdict map's key: a positive match whose
 * protocol context (the match before it) no other match of r needs? */
static bool map_key(const RsRule *r, int d)
{
	RsKey k = r->matches[d].key;
	bool port = k == KEY_SPORT || k == KEY_DPORT;
	bool addr = k == KEY_SADDR || k == KEY_DADDR;

	for (int i = 0; i < r->n_matches; i++)
		if (i != d && ((port && (r->matches[i].key == KEY_SPORT ||
					 r->matches[i].key == KEY_DPORT)) ||
			       (addr && (r->matches[i].key == KEY_SADDR ||
					 r->matches[i].key == KEY_DADDR))))
			return false;
	return true;
}

/* How many of rules[0..n) from the first end in its verdict. */
static int same_verdicts(const RsRule *rules, int n)
{
	int i = 1;

	while (i < n && rules[i].verdict == rules[0].verdict)
		i++;
	return i;
}

/* Do rules[0..n) all end in the same verdict? */
static bool one_verdict(const RsRule *rules, int n)
{
	return same_verdicts(rules, n) == n;
}

/* The length of the run of rules starting at rules[0] (of n) that merge,
 * and its differing match in *d; 1 when none does. A run of several
 * verdicts needs its key to be a map's; ct state merges as a map only. */
static int run_length(const RsRule *rules, int n, int *d)
{
	int len = 1, lo, hi;

	*d = n > 1 ? differ_at(&rules[0], &rules[1]) : -1;
	if (*d < 0)
		return 1;
	/* verdicts that join rules[0]'s join each other (verdicts_join) */
	while (len < n && differ_at(&rules[0], &rules[len]) == *d)
		len++;
	if (!one_verdict(rules, len) && !map_key(&rules[0], *d))
		len = same_verdicts(rules, len);	/* a set of the first ones */
	if (one_verdict(rules, len) && rules[0].matches[*d].key == KEY_CTSTATE)
		return 1;	/* ct state: flags, a map's key only */
	if (len < 2)
		return 1;
	if (values_apart(rules, len, *d))
		return len;
	/* the longest prefix whose values are apart: lo is, hi is not */
	lo = 1;
	hi = len;
	while (hi - lo > 1) {
		int mid = (lo + hi) / 2;

		if (values_apart(rules, mid, *d))
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

/* One element of a merged lookup: its value and its verdict. */
typedef struct Elt {
	RsValue v;
	RsVerdictKind verdict;
} Elt;

static int elt_cmp(const void *a, const void *b)
{
	Span x, y;

	value_span(&((const Elt *)a)->v, &x);
	value_span(&((const Elt *)b)->v, &y);
	return span_cmp(&x, &y);
}

/* The elements of match d of rules[0..n) (in arena a), each with its
 * rule's provenance and verdict, ct state masks one element per state;
 * *total: how many. */
static Elt *collect(Arena *a, const RsRule *rules, int n, int d, int *total)
{
	int cap = 0, k = 0;
	Elt *e;

	for (int r = 0; r < n; r++)
		cap += rules[r].matches[d].n_vals * (rules[0].matches[d].key == KEY_CTSTATE ? 64 : 1);
	e = xcalloc((size_t)cap + 1, sizeof *e);
	for (int r = 0; r < n; r++) {
		const RsMatch *src = &rules[r].matches[d];
		RsProv *pv = arena_alloc(a, sizeof *pv);

		*pv = (RsProv){ rules[r].comment, rules[r].origin, rules[r].origin_what };
		for (int i = 0; i < src->n_vals; i++) {
			RsValue v = src->vals[i];

			v.prov = pv;
			if (src->key != KEY_CTSTATE) {
				e[k++] = (Elt){ v, rules[r].verdict };
				continue;
			}
			for (int b = 0; b < 64; b++)
				if (src->vals[i].lo >> b & 1) {
					v.lo = v.hi = 1ull << b;
					e[k++] = (Elt){ v, rules[r].verdict };
				}
		}
	}
	*total = k;
	return e;
}

/* Move match d of m (and the protocol match before it that states its
 * context, `tcp` of `tcp dport`) to the end: a verdict map is the rule's
 * last statement. The matches are a conjunction: their order decides
 * nothing. */
static void key_last(RsRule *m, int d)
{
	int from = d, n = m->n_matches;
	RsKey k = m->matches[d].key, ctx = k == KEY_SPORT || k == KEY_DPORT ? KEY_L4PROTO :
		k == KEY_SADDR || k == KEY_DADDR ? KEY_NFPROTO : KEY_UNKNOWN;
	RsMatch moved[2];
	int nm;

	if (d > 0 && m->matches[d - 1].key == ctx && ctx != KEY_UNKNOWN &&
	    m->matches[d - 1].n_vals == 1 && !m->matches[d - 1].neg)
		from = d - 1;
	nm = d - from + 1;
	memcpy(moved, &m->matches[from], (size_t)nm * sizeof *moved);
	memmove(&m->matches[from], &m->matches[d + 1],
		(size_t)(n - d - 1) * sizeof *m->matches);
	memcpy(&m->matches[n - nm], moved, (size_t)nm * sizeof *moved);
}

/* The rule rules[0..n) merge into on match d (in arena a): a set of every
 * value when they share one verdict, else a verdict map; the elements in
 * the order nft lists them (they are disjoint: the order decides nothing). */
static RsRule merge_run(Arena *a, const RsRule *rules, int n, int d)
{
	RsRule m = rules[0];
	int total;
	Elt *e = collect(a, rules, n, d, &total);
	RsValue *vals = arena_alloc(a, (size_t)total * sizeof *vals);
	bool map = !one_verdict(rules, n);
	RsVerdictKind *vm = map ? arena_alloc(a, (size_t)total * sizeof *vm) : NULL;

	qsort(e, (size_t)total, sizeof *e, elt_cmp);
	for (int i = 0; i < total; i++) {
		vals[i] = e[i].v;
		if (vm)
			vm[i] = e[i].verdict;
	}
	free(e);
	m.matches = arena_alloc(a, (size_t)m.n_matches * sizeof *m.matches);
	memcpy(m.matches, rules[0].matches, (size_t)m.n_matches * sizeof *m.matches);
	m.matches[d].vals = vals;
	m.matches[d].n_vals = total;
	m.comment = NULL;	/* each element says where it came from */
	if (map) {
		m.matches[d].vmap = vm;
		m.verdict = VERDICT_CONTINUE;
		key_last(&m, d);
	}
	return m;
}

/* Merge the runs of chain c (in arena a). */
static void merge_chain(Arena *a, RsChain *c)
{
	RsRule *out = arena_alloc(a, (size_t)(c->n_rules + 1) * sizeof *out);
	int n = 0;

	for (int i = 0; i < c->n_rules;) {
		int d, len = run_length(&c->rules[i], c->n_rules - i, &d);

		out[n++] = len > 1 ? merge_run(a, &c->rules[i], len, d) : c->rules[i];
		i += len;
	}
	c->rules = out;
	c->n_rules = n;
}

void lookup_merge(Ruleset *rs)
{
	for (int t = 0; t < rs->n_tables; t++)
		for (int c = 0; c < rs->tables[t].n_chains; c++)
			merge_chain(rs->arena, &rs->tables[t].chains[c]);
}

/* ---- expanding ---- */

/* The match of r that splits it into the rules it stands for, or -1: a
 * verdict map, or a positive match of an anonymous set whose values carry
 * provenance (a set holds disjoint elements, so a packet meets at most
 * one of them). */
static int expand_match(const RsRule *r)
{
	for (int i = 0; i < r->n_matches; i++) {
		const RsMatch *m = &r->matches[i];

		if (m->vmap || (m->n_vals > 0 && m->vals[0].prov && !m->neg && !m->set))
			return i;
	}
	return -1;
}

/* Append the rules r's elements stand for to out (arena a): one per run
 * of values with the same provenance and verdict. */
static void expand_rule(Arena *a, const RsRule *r, int d, RsRule *out, int *n)
{
	const RsMatch *m = &r->matches[d];
	int elem = 0;

	for (int i = 0; i < m->n_vals;) {
		const RsProv *pv = m->vals[i].prov;
		int j = i;
		RsRule x = *r;

		while (j < m->n_vals && m->vals[j].prov == pv &&
		       (!m->vmap || m->vmap[j] == m->vmap[i]))
			j++;
		x.matches = arena_alloc(a, (size_t)r->n_matches * sizeof *x.matches);
		memcpy(x.matches, r->matches, (size_t)r->n_matches * sizeof *x.matches);
		x.matches[d].vals = &m->vals[i];
		x.matches[d].n_vals = j - i;
		x.matches[d].vmap = NULL;
		if (m->vmap)
			x.verdict = m->vmap[i];
		if (pv) {
			x.comment = pv->comment;
			x.origin = pv->origin;
			x.origin_what = pv->origin_what;
		}
		x.elem = ++elem;
		out[(*n)++] = x;
		i = j;
	}
}

/* How many rules c expands to; 0 when none of its rules expands. */
static int expanded_count(const RsChain *c)
{
	int n = 0;
	bool any = false;

	for (int r = 0; r < c->n_rules; r++) {
		int d = expand_match(&c->rules[r]);

		n += d < 0 ? 1 : c->rules[r].matches[d].n_vals;
		any |= d >= 0;
	}
	return any ? n : 0;
}

const Ruleset *lookup_expand(const Ruleset *rs)
{
	Ruleset *x;
	bool any = false;

	for (int t = 0; t < rs->n_tables && !any; t++)
		for (int c = 0; c < rs->tables[t].n_chains && !any; c++)
			any = expanded_count(&rs->tables[t].chains[c]) > 0;
	if (!any)
		return rs;
	x = arena_alloc(rs->arena, sizeof *x);
	*x = *rs;
	x->tables = arena_alloc(rs->arena, (size_t)rs->n_tables * sizeof *x->tables);
	for (int t = 0; t < rs->n_tables; t++) {
		RsTable *tb = &x->tables[t];

		*tb = rs->tables[t];
		tb->chains = arena_alloc(rs->arena, (size_t)(tb->n_chains + 1) *
					 sizeof *tb->chains);
		for (int c = 0; c < tb->n_chains; c++) {
			const RsChain *src = &rs->tables[t].chains[c];
			RsChain *ch = &tb->chains[c];
			int cap = expanded_count(src), n = 0;

			*ch = *src;
			if (!cap)
				continue;
			ch->rules = arena_alloc(rs->arena, (size_t)cap * sizeof *ch->rules);
			for (int r = 0; r < src->n_rules; r++) {
				int d = expand_match(&src->rules[r]);

				if (d < 0)
					ch->rules[n++] = src->rules[r];
				else
					expand_rule(rs->arena, &src->rules[r], d,
						    ch->rules, &n);
			}
			ch->n_rules = n;
		}
	}
	return x;
}
