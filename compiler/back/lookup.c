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
 * The same for rules whose verdicts differ (accept and drop: a verdict map,
 * `tcp dport vmap { 22 : accept, 6000-6010 : drop }`) and for rules that
 * differ in several keys (a concatenation, `iifname . ip saddr . tcp dport
 * { ... }`), as `nft -o` would merge them; the common matches stay in front.
 *
 * Why a merge keeps the decision: the rules of a run are consecutive,
 * equal but for the values of some positive matches, and end in terminal
 * verdicts, and their elements (the tuples of those values) are pairwise
 * disjoint; so a packet matches at most one rule of the run, the merged
 * rule matches exactly the packets that match one of them, and gives that
 * rule's verdict at the same place. The elements are sorted as nft lists
 * them (disjoint, their order decides nothing) and, for one key with a
 * range among them, never adjacent (nft joins adjacent intervals of an
 * anonymous set, which would lose an element's comment).
 *
 * lookup_expand reads a lookup back as the rules it stands for, for the
 * prover (its traces name the element's policy line); a map or
 * concatenation whose elements overlap is marked there as proving nothing.
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
			if (m->vals[i].kind != VAL_IFNAME)
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

enum { MAX_MATCHES = 64 };

/* Do a and b have one shape (the same keys in the same order, verdicts
 * that join, the same counter), differing only in the values of matches
 * a set may hold? *diff: the matches whose values differ, a bit each. */
static bool same_shape(const RsRule *a, const RsRule *b, uint64_t *diff)
{
	*diff = 0;
	if (!mergeable_rule(a) || !mergeable_rule(b) || !verdicts_join(a, b) ||
	    a->counter != b->counter || a->n_matches != b->n_matches ||
	    a->n_matches > MAX_MATCHES)
		return false;
	for (int i = 0; i < a->n_matches; i++) {
		const RsMatch *x = &a->matches[i], *y = &b->matches[i];

		if (match_eq(x, y))
			continue;
		if (x->key != y->key || !mergeable_match(x) || !mergeable_match(y))
			return false;
		if ((x->key == KEY_SADDR || x->key == KEY_DADDR) &&
		    x->vals[0].fam != y->vals[0].fam)
			return false;
		*diff |= 1ull << i;
	}
	return true;
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
	case VAL_IFNAME:	/* "wg*": every name that starts so */
		memcpy(s->lo, v->name, strnlen(v->name, 16));
		memcpy(s->hi, s->lo, 16);
		if (v->wildcard)
			memset(s->hi + strnlen(v->name, 16), 0xff, 16 - strnlen(v->name, 16));
		break;
	default:
		BUG("value kind %d in a merge", v->kind);
	}
}

/* qsort order of Spans: by lower bound. */
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

/* The positions of the bits of diff, in pos[]; returns how many. */
static int positions(uint64_t diff, int *pos)
{
	int n = 0;

	for (int i = 0; i < MAX_MATCHES; i++)
		if (diff >> i & 1)
			pos[n++] = i;
	return n;
}

/* How many tuples the matches pos[0..nd) of r make (their product). */
static long tuples_of(const RsRule *r, const int *pos, int nd)
{
	long t = 1;

	for (int k = 0; k < nd; k++)
		t *= r->matches[pos[k]].n_vals;
	return t;
}

/* Tuple t of r on the matches pos[0..nd): value index of component k. */
static int tuple_index(const RsRule *r, const int *pos, int nd, long t, int k)
{
	for (int j = nd - 1; j > k; j--)
		t /= r->matches[pos[j]].n_vals;
	return (int)(t % r->matches[pos[k]].n_vals);
}

static int sweep_dim, sweep_nd;
/* qsort order of tuples (nd Spans each): by component sweep_dim. */
static int tuple_cmp(const void *a, const void *b)
{
	const Span *x = a, *y = b;
	int c = memcmp(x[sweep_dim].lo, y[sweep_dim].lo, 16);

	for (int k = 0; !c && k < sweep_nd; k++)
		c = memcmp(x[k].lo, y[k].lo, 16);
	return c;
}

/* Do tuples x and y (nd Spans) meet: overlap in every component? */
static bool tuples_meet(const Span *x, const Span *y, int nd)
{
	for (int k = 0; k < nd; k++)
		if (memcmp(x[k].hi, y[k].lo, 16) < 0 || memcmp(y[k].hi, x[k].lo, 16) < 0)
			return false;
	return true;
}

/* Are the tuples t[0..total) (nd Spans each; reordered) pairwise
 * disjoint, and, with adjacent, not adjacent either (one key)? A sweep
 * over the component with the most distinct values: a tuple is compared
 * with those whose interval there it meets. */
static bool spans_apart(Span *t, long total, int nd, bool adjacent)
{
	int best = 0;
	long best_distinct = -1;
	bool ok = true;

	sweep_nd = nd;
	for (int c = 0; c < nd && nd > 1; c++) {
		long distinct = 0;

		sweep_dim = c;
		qsort(t, (size_t)total, (size_t)nd * sizeof *t, tuple_cmp);
		for (long i = 0; i < total; i++)
			distinct += !i || memcmp(t[i * nd + c].lo, t[(i - 1) * nd + c].lo, 16);
		if (distinct > best_distinct) {
			best_distinct = distinct;
			best = c;
		}
	}
	sweep_dim = best;
	qsort(t, (size_t)total, (size_t)nd * sizeof *t, tuple_cmp);
	for (long i = 0; i < total && ok; i++) {
		const Span *x = &t[i * nd];

		for (long j = i + 1; j < total && ok; j++) {
			const Span *y = &t[j * nd];

			if (memcmp(y[best].lo, x[best].hi, 16) > 0 &&
			    !(adjacent && span_next(x[best].hi, y[best].lo)))
				break;	/* sorted by lo there: no later one meets x */
			ok = !tuples_meet(x, y, nd) &&
			     !(adjacent && span_next(x[0].hi, y[0].lo));
		}
	}
	return ok;
}

/* Are the tuples of the matches pos[0..nd) of rules[0..n) pairwise
 * disjoint (each tuple one element of the lookup), and, for one key with
 * a range among them, apart (nft joins adjacent intervals of a one-key
 * anonymous set)? */
static bool tuples_apart(const RsRule *rules, int n, const int *pos, int nd)
{
	long total = 0, k = 0;
	bool range = false, ok;
	Span *t;

	if (nd == 1 && rules[0].matches[pos[0]].key == KEY_CTSTATE)
		return states_apart(rules, n, pos[0]);
	for (int r = 0; r < n; r++)
		total += tuples_of(&rules[r], pos, nd);
	if (total > (1l << 22))
		return false;
	t = xcalloc((size_t)(total * nd) + 1, sizeof *t);
	for (int r = 0; r < n; r++)
		for (long x = 0; x < tuples_of(&rules[r], pos, nd); x++, k++)
			for (int c = 0; c < nd; c++) {
				Span *sp = &t[k * nd + c];

				value_span(&rules[r].matches[pos[c]].vals[tuple_index(&rules[r], pos, nd, x, c)], sp);
				range |= memcmp(sp->lo, sp->hi, 16) != 0;
			}
	ok = spans_apart(t, total, nd, nd == 1 && range);
	free(t);
	return ok;
}

/* ---- merging ---- */

/* Is k a key whose match needs a protocol match before it (`tcp` of
 * `tcp dport`, ipv4 of `ip saddr`), and which: KEY_L4PROTO, KEY_NFPROTO,
 * or KEY_UNKNOWN for none? */
static RsKey context_key(RsKey k)
{
	return k == KEY_SPORT || k == KEY_DPORT ? KEY_L4PROTO :
	       k == KEY_SADDR || k == KEY_DADDR ? KEY_NFPROTO : KEY_UNKNOWN;
}

/* The matches of r a lookup on the matches in diff moves to the end: those
 * and the protocol match right before each that states its context. */
static uint64_t moved_of(const RsRule *r, uint64_t diff)
{
	uint64_t moved = diff;

	for (int i = 1; i < r->n_matches; i++) {
		const RsMatch *c = &r->matches[i - 1];

		if ((diff >> i & 1) && c->key == context_key(r->matches[i].key) &&
		    c->key != KEY_UNKNOWN && c->n_vals == 1 && !c->neg && !c->set)
			moved |= 1ull << (i - 1);
	}
	return moved;
}

/* Can the matches in diff of r be a lookup at the end of the rule (a map,
 * a concatenation): does no match staying in place need a protocol match
 * that moves (a port of `tcp` when a port moves, an address of ipv4 when
 * an address moves)? */
static bool keys_last_ok(const RsRule *r, uint64_t diff)
{
	uint64_t moved = moved_of(r, diff);

	for (int i = 0; i < r->n_matches; i++) {
		RsKey ctx = context_key(r->matches[i].key);

		if (moved >> i & 1 || ctx == KEY_UNKNOWN)
			continue;
		for (int j = 0; j < r->n_matches; j++)
			if ((moved >> j & 1) && r->matches[j].key == ctx && !(diff >> j & 1))
				return false;
	}
	for (int i = 0; i < r->n_matches; i++)	/* ct state: one key only */
		if ((diff >> i & 1) && r->matches[i].key == KEY_CTSTATE && diff != 1ull << i)
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

/* Is an interface pattern ("wg*") among the matches pos[0..nd) of
 * rules[0..n)? */
static bool wildcard_in(const RsRule *rules, int n, const int *pos, int nd)
{
	for (int r = 0; r < n; r++)
		for (int k = 0; k < nd; k++) {
			const RsMatch *m = &rules[r].matches[pos[k]];

			for (int i = 0; i < m->n_vals; i++)
				if (m->vals[i].kind == VAL_IFNAME && m->vals[i].wildcard)
					return true;
		}
	return false;
}

/* Are the lookup's elements of rules[0..len) disjoint (diff[len - 1]: the
 * matches that differ among them)? */
static bool run_apart(const RsRule *rules, int len, const uint64_t *diff)
{
	int pos[MAX_MATCHES], nd = positions(diff[len - 1], pos);

	return tuples_apart(rules, len, pos, nd);
}

/* The length of the run of rules starting at rules[0] (of n) that merge
 * into one lookup, 1 when none does; *diff its differing matches. The
 * longest run of one shape, cut to the longest prefix whose elements are
 * disjoint; a map (several verdicts) or a concatenation (several keys)
 * needs its keys last (keys_last_ok), else its first verdict's rules make
 * a set; ct state is a map's key only. */
static int run_length(const RsRule *rules, int n, uint64_t *diff)
{
	uint64_t *cum = xcalloc((size_t)n + 1, sizeof *cum);
	int len = 1;

	while (len < n && same_shape(&rules[0], &rules[len], &cum[len]))
		len++;
	for (int i = 1; i < len; i++)
		cum[i] |= cum[i - 1];
	for (;;) {
		uint64_t d = cum[len - 1];
		int pos[MAX_MATCHES], nd = positions(d, pos);
		bool one = one_verdict(rules, len);

		if (len < 2)
			break;
		if (!d) {	/* the same rule again (another row's): no lookup */
			len = 1;
			break;
		}
		if (!run_apart(rules, len, cum)) {
			int lo = 1, hi = len;	/* lo's prefix is apart, hi's not */

			while (hi - lo > 1) {
				int mid = (lo + hi) / 2;

				if (run_apart(rules, mid, cum))
					lo = mid;
				else
					hi = mid;
			}
			len = lo;
			continue;
		}
		if (nd > 1 && wildcard_in(rules, len, pos, nd)) {
			len = 1;	/* "wg*" in a concatenation: not written */
			break;
		}
		if ((!one || nd > 1) && !keys_last_ok(&rules[0], d)) {
			if (one || same_verdicts(rules, len) < 2) {
				len = 1;
				break;
			}
			len = same_verdicts(rules, len);
			continue;
		}
		if (one && nd == 1 && rules[0].matches[pos[0]].key == KEY_CTSTATE) {
			len = 1;	/* flags: `ct state a,b` is one match */
			break;
		}
		break;
	}
	*diff = len > 1 ? cum[len - 1] : 0;
	free(cum);
	return len;
}

/* One element of a merged lookup: its values (one per key) and verdict. */
typedef struct Elt {
	RsValue *v;
	RsVerdictKind verdict;
} Elt;

static int elt_nd;
/* qsort order of elements: by their keys' values (nft lists them so). */
static int elt_cmp(const void *a, const void *b)
{
	const Elt *x = a, *y = b;

	for (int k = 0; k < elt_nd; k++) {
		Span p, q;
		int c;

		value_span(&x->v[k], &p);
		value_span(&y->v[k], &q);
		c = span_cmp(&p, &q);
		if (c)
			return c;
	}
	return 0;
}

/* The elements of the matches pos[0..nd) of rules[0..n) (in arena a),
 * each with its rule's provenance and verdict, a ct state mask one
 * element per state; *total: how many. */
static Elt *collect(Arena *a, const RsRule *rules, int n, const int *pos, int nd,
		    int *total)
{
	long cap = 0, k = 0;
	bool ct = rules[0].matches[pos[0]].key == KEY_CTSTATE;
	Elt *e;

	for (int r = 0; r < n; r++)
		cap += tuples_of(&rules[r], pos, nd) * (ct ? 64 : 1);
	e = xcalloc((size_t)cap + 1, sizeof *e);
	for (int r = 0; r < n; r++) {
		RsProv *pv = arena_alloc(a, sizeof *pv);

		*pv = (RsProv){ rules[r].comment, rules[r].origin, rules[r].origin_what };
		for (long x = 0; x < tuples_of(&rules[r], pos, nd); x++) {
			RsValue *v = arena_alloc(a, (size_t)nd * sizeof *v);

			for (int c = 0; c < nd; c++) {
				v[c] = rules[r].matches[pos[c]].vals[tuple_index(&rules[r], pos, nd, x, c)];
				v[c].prov = pv;
			}
			if (!ct) {
				e[k++] = (Elt){ v, rules[r].verdict };
				continue;
			}
			for (int b = 0; b < 64; b++)
				if (v[0].lo >> b & 1) {
					RsValue *one = arena_alloc(a, sizeof *one);

					*one = v[0];
					one->lo = one->hi = 1ull << b;
					e[k++] = (Elt){ one, rules[r].verdict };
				}
		}
	}
	*total = (int)k;
	return e;
}

/* The matches of m reordered: those staying first (in order), then the
 * moved protocol matches, then the lookup match made of the matches in
 * diff (at the first of them; the others dropped). The matches are a
 * conjunction: their order decides nothing. */
static void keys_last(RsRule *m, uint64_t diff, const RsMatch *lookup)
{
	uint64_t moved = moved_of(m, diff);
	RsMatch *out = m->matches;
	RsMatch *old = xcalloc((size_t)m->n_matches + 1, sizeof *old);
	int n = 0;

	memcpy(old, m->matches, (size_t)m->n_matches * sizeof *old);
	for (int i = 0; i < m->n_matches; i++)
		if (!(moved >> i & 1))
			out[n++] = old[i];
	for (int i = 0; i < m->n_matches; i++)
		if ((moved >> i & 1) && !(diff >> i & 1))
			out[n++] = old[i];
	out[n++] = *lookup;
	m->n_matches = n;
	free(old);
}

/* The rule rules[0..n) merge into on the matches in diff (in arena a): a
 * set of every value (or tuple) when they share one verdict, else a
 * verdict map; several keys make a concatenation. The elements are in the
 * order nft lists them (they are disjoint: the order decides nothing). */
static RsRule merge_run(Arena *a, const RsRule *rules, int n, uint64_t diff)
{
	RsRule m = rules[0];
	int pos[MAX_MATCHES], nd = positions(diff, pos), total;
	Elt *e = collect(a, rules, n, pos, nd, &total);
	RsValue *vals = arena_alloc(a, (size_t)total * (size_t)nd * sizeof *vals);
	bool map = !one_verdict(rules, n);
	RsVerdictKind *vm = map ? arena_alloc(a, (size_t)total * sizeof *vm) : NULL;
	RsMatch lk = rules[0].matches[pos[0]];

	elt_nd = nd;
	qsort(e, (size_t)total, sizeof *e, elt_cmp);
	for (int i = 0; i < total; i++) {
		memcpy(&vals[i * nd], e[i].v, (size_t)nd * sizeof *vals);
		if (vm)
			vm[i] = e[i].verdict;
	}
	free(e);
	lk.vals = vals;
	lk.n_vals = total;
	lk.vmap = vm;
	if (nd > 1) {
		RsKey *cat = arena_alloc(a, (size_t)nd * sizeof *cat);

		for (int k = 0; k < nd; k++)
			cat[k] = rules[0].matches[pos[k]].key;
		lk.cat = cat;
		lk.n_cat = nd;
	}
	m.matches = arena_alloc(a, (size_t)m.n_matches * sizeof *m.matches);
	memcpy(m.matches, rules[0].matches, (size_t)m.n_matches * sizeof *m.matches);
	m.comment = NULL;	/* each element says where it came from */
	if (map)
		m.verdict = VERDICT_CONTINUE;
	if (map || nd > 1)
		keys_last(&m, diff, &lk);
	else
		m.matches[pos[0]] = lk;
	return m;
}

/* Is rule b dead after rule a: the same matches, a's verdict terminal,
 * so b never meets a packet a did not decide? */
static bool same_again(const RsRule *a, const RsRule *b)
{
	uint64_t diff;

	return same_shape(a, b, &diff) && !diff;
}

/* Merge the runs of chain c (in arena a), and drop a rule that only
 * repeats the one before it (another row's, which decides first). */
static void merge_chain(Arena *a, RsChain *c)
{
	RsRule *out = arena_alloc(a, (size_t)(c->n_rules + 1) * sizeof *out);
	int n = 0;

	for (int i = 0; i < c->n_rules;) {
		uint64_t diff;
		int len;

		if (n > 0 && out[n - 1].n_matches == c->rules[i].n_matches &&
		    same_again(&out[n - 1], &c->rules[i])) {
			i++;
			continue;
		}
		len = run_length(&c->rules[i], c->n_rules - i, &diff);
		out[n++] = len > 1 ? merge_run(a, &c->rules[i], len, diff) : c->rules[i];
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

		if (m->vmap || m->n_cat ||
		    (m->n_vals > 0 && m->vals[0].prov && !m->neg && !m->set))
			return i;
	}
	return -1;
}

/* Append the rule element i of concatenation r->matches[d] stands for
 * to out (arena a): one match per key in its place. */
static void expand_tuple(Arena *a, const RsRule *r, int d, int i, RsRule *out,
			 int *n)
{
	const RsMatch *m = &r->matches[d];
	const RsProv *pv = m->vals[i * m->n_cat].prov;
	RsRule x = *r;
	int k = 0;

	x.n_matches = r->n_matches + m->n_cat - 1;
	x.matches = arena_alloc(a, (size_t)x.n_matches * sizeof *x.matches);
	for (int j = 0; j < r->n_matches; j++) {
		if (j != d) {
			x.matches[k++] = r->matches[j];
			continue;
		}
		for (int c = 0; c < m->n_cat; c++)
			x.matches[k++] = (RsMatch){ .key = m->cat[c],
				.vals = &m->vals[i * m->n_cat + c], .n_vals = 1 };
	}
	if (m->vmap)
		x.verdict = m->vmap[i];
	if (pv) {
		x.comment = pv->comment;
		x.origin = pv->origin;
		x.origin_what = pv->origin_what;
	}
	x.elem = i + 1;
	out[(*n)++] = x;
}

/* expand_rule without the overlap check. */
static void expand_plain(Arena *a, const RsRule *r, int d, RsRule *out, int *n)
{
	const RsMatch *m = &r->matches[d];
	int elem = 0;

	if (m->n_cat) {
		for (int i = 0; i < m->n_vals; i++)
			expand_tuple(a, r, d, i, out, n);
		return;
	}
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

/* Are the elements of lookup m (a map's, a concatenation's) disjoint, so
 * that a packet meets at most one of them? The kernel holds no others, but
 * a ruleset made another way may claim them. */
static bool elements_apart(const RsMatch *m)
{
	int nd = m->n_cat ? m->n_cat : 1;
	Span *t;
	bool ok;

	if (m->key == KEY_CTSTATE && !m->n_cat) {
		uint64_t seen = 0;

		for (int i = 0; i < m->n_vals; i++) {
			if (seen & m->vals[i].lo)
				return false;
			seen |= m->vals[i].lo;
		}
		return true;
	}
	t = xcalloc((size_t)m->n_vals * (size_t)nd + 1, sizeof *t);
	for (int i = 0; i < m->n_vals * nd; i++)
		value_span(&m->vals[i], &t[i]);
	ok = spans_apart(t, m->n_vals, nd, false);
	free(t);
	return ok;
}

/* A lookup whose elements overlap decides by an order it does not have:
 * every rule made of it also gets a match that may or may not hold, so
 * nothing is proved of the packets it meets. */
static void mark_overlap(Arena *a, RsRule *out, int from, int to)
{
	for (int i = from; i < to; i++) {
		RsMatch *ms = arena_alloc(a, (size_t)(out[i].n_matches + 1) * sizeof *ms);

		memcpy(ms, out[i].matches, (size_t)out[i].n_matches * sizeof *ms);
		ms[out[i].n_matches] = (RsMatch){ .key = KEY_UNKNOWN,
			.unknown = "an element of a lookup whose elements overlap" };
		out[i].matches = ms;
		out[i].n_matches++;
	}
}

/* Append the rules r's elements stand for to out (arena a): one per run
 * of values with the same provenance and verdict (per element of a
 * concatenation). */
static void expand_rule(Arena *a, const RsRule *r, int d, RsRule *out, int *n)
{
	const RsMatch *m = &r->matches[d];
	int from = *n;

	expand_plain(a, r, d, out, n);
	if ((m->vmap || m->n_cat) && !elements_apart(m))
		mark_overlap(a, out, from, *n);
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
