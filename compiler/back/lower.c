/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * lower.c: from the Policy IR to the Ruleset IR.
 *
 * One table (family and name from `policy { table ... }`), and up to three
 * base chains, all `type filter`, priority 0, policy accept (as the seed):
 *
 *   input    tcp/udp cells of interface/address rows and of the catch-all
 *            row, in trust-table row order: allow -> accept, deny -> drop.
 *   forward  egress cells of interface/address rows and of the catch-all
 *            row: deny -> drop, matching the service's destinations,
 *            protocol and ports when it has them.
 *   output   every cell of `via user` rows, keyed on `meta skuid`:
 *            tcp/udp cells only for traffic to this host (oifname "lo"),
 *            egress cells only for traffic leaving it (oifname != "lo").
 *            allow -> accept, deny -> reject: the local process gets an
 *            immediate error instead of a connect() that hangs, and there is
 *            nobody to hide the port from (the process runs on this host).
 *            tcp is rejected with a reset: a local IPv6 connect() ignores
 *            the ICMPv6 error and would retry for minutes.
 *            The user is named by the uid the container profile pins for
 *            it (`uid N`), so the ruleset loads where the user does not
 *            exist yet (a Nix build sandbox); else by name, which nft
 *            resolves when it loads the ruleset.
 *            Traffic to this host then also meets the input chain, on lo,
 *            where the socket owner is no longer known: a user row's allow
 *            cannot lift a deny of a row below that matches there (the
 *            catch-all); its denies are what the output chain adds.
 *            Egress cells of rows that cover lo (`via from ADDR`) go
 *            here too, for what local processes send out from ADDR.
 *            The catch-all row's egress cells apply to forwarded traffic
 *            only: the host's own processes keep their way out.
 *
 * A chain that drops or rejects anything begins with `ct state
 * established,related accept` (and forward with `ct state invalid drop`):
 * the rules below decide new connections, replies get back.
 *
 * A `-` cell adds nothing, so the packet meets the rules of the rows below.
 * A row's egress cells are emitted most specific first (policy_egress_cmp),
 * so `forge allow` and `internet deny` in one row mean the forge and nothing
 * else. An egress allow cell adds nothing (every chain accepts) unless a
 * deny follows in the same hook, in its row or a row below: then it is an
 * accept rule, so that specificity and row order keep their meaning.
 *
 * Rows with several interface patterns use an anonymous set; several
 * addresses of one family use a named set (SOURCE_v4, SOURCE_v6, SERVICE_dst_v4
 * ...), never a rule per address; an address row with both IPv4 and IPv6
 * gets one rule per family. Services of one row with the same protocol and
 * verdict share a rule with a port set, unless that would move a port ahead
 * of an overlapping one with the other verdict (sema already refuses
 * opposite verdicts on overlapping ports in one row; this keeps lower
 * correct on its own).
 *
 * Every value list is canonical: sorted, duplicates and values covered by
 * another (10.0.0.2 inside 10.0.0.0/24, "podman0" inside "podman*") removed,
 * as the kernel would hold it. Every rule keeps the trust cell it came from
 * (origin), "SOURCE->SERVICE[,SERVICE...]" (origin_what) and the comment
 * "FILE:LINE SOURCE->SERVICE" with the policy file's basename.
 */
#include "back.h"

#include <arpa/inet.h>

enum { NFPROTO_V4 = 2, NFPROTO_V6 = 10, PROTO_TCP = 6, PROTO_UDP = 17 };
enum { COMMENT_MAX = 128 };	/* nft's limit on a comment's length */

typedef VEC(RsMatch) Matches;
typedef VEC(RsRule) Rules;

/* One rule's worth of cells of a row: same protocol (or egress), same verdict. */
typedef struct Group {
	ServiceKind kind;
	CellKind cell;
	VEC(const Service *) svcs;
	const Cell *first;	/* the first cell, the rule's origin */
} Group;

typedef VEC(Group) Groups;

/* A named set already made for a list of addresses of one family. */
typedef struct SetRef {
	const Prefix *key;
	AddrFamily fam;
	const char *name;
} SetRef;

typedef struct Lower {
	const Policy *p;
	Arena *a;
	const char *file;	/* basename of the policy file, for comments */
	VEC(RsSet) sets;
	VEC(SetRef) setrefs;
	Rules input, forward, output;
} Lower;

/* ---- values ---- */

/* The value of one port range of a service. */
static RsValue val_ports(const Service *s)
{
	return (RsValue){ .kind = VAL_INT, .lo = (uint64_t)s->port_lo,
			  .hi = (uint64_t)s->port_hi };
}

/* One integer value. */
static RsValue val_int(uint64_t v)
{
	return (RsValue){ .kind = VAL_INT, .lo = v, .hi = v };
}

/* The address range a prefix covers: host bits all 0 .. all 1. */
static RsValue val_prefix(const Prefix *p)
{
	RsValue v = { .kind = VAL_ADDR, .fam = p->fam };
	int bytes = p->fam == FAM_IP4 ? 4 : 16;

	for (int i = 0; i < bytes; i++) {
		int bits = p->len - 8 * i;
		uint8_t mask = bits >= 8 ? 0xff : bits <= 0 ? 0 : (uint8_t)(0xff << (8 - bits));

		v.addr_lo[i] = p->addr[i] & mask;
		v.addr_hi[i] = p->addr[i] | (uint8_t)~mask;
	}
	return v;
}

/* An interface name, "name*" when wildcard. */
static RsValue val_ifname(const char *name, bool wildcard)
{
	return (RsValue){ .kind = VAL_IFNAME, .name = name, .wildcard = wildcard };
}

/* Order of values of one kind, a covering value before those it covers:
 * ints and addresses by range start, then longest first; names by name,
 * a wildcard before the exact name. */
static int val_cmp(const void *x, const void *y)
{
	const RsValue *a = x, *b = y;
	int c;

	switch (a->kind) {
	case VAL_INT:
		if (a->lo != b->lo)
			return a->lo < b->lo ? -1 : 1;
		return a->hi < b->hi ? 1 : a->hi > b->hi ? -1 : 0;
	case VAL_ADDR:
		c = memcmp(a->addr_lo, b->addr_lo, 16);
		return c ? c : -memcmp(a->addr_hi, b->addr_hi, 16);
	case VAL_IFNAME:
	case VAL_USER:
		c = strcmp(a->name, b->name);
		return c ? c : (int)b->wildcard - (int)a->wildcard;
	default:
		BUG("value kind %d", a->kind);
	}
}

/* Does value a cover all of b (same kind)? */
static bool val_covers(const RsValue *a, const RsValue *b)
{
	switch (a->kind) {
	case VAL_INT:
		return a->lo <= b->lo && b->hi <= a->hi;
	case VAL_ADDR:
		return memcmp(a->addr_lo, b->addr_lo, 16) <= 0 &&
		       memcmp(b->addr_hi, a->addr_hi, 16) <= 0;
	case VAL_IFNAME:
		if (!a->wildcard)
			return !b->wildcard && !strcmp(a->name, b->name);
		return !strncmp(a->name, b->name, strlen(a->name));
	case VAL_USER:
		return !strcmp(a->name, b->name);
	default:
		BUG("value kind %d", a->kind);
	}
}

/* Does a reach further than b (ints and addresses: a larger end)? */
static bool val_further(const RsValue *a, const RsValue *b)
{
	if (a->kind == VAL_INT)
		return a->hi > b->hi;
	if (a->kind == VAL_ADDR)
		return memcmp(a->addr_hi, b->addr_hi, 16) > 0;
	return true;	/* names: the last one kept is the only candidate */
}

/* Sort v[0..n) and drop the values another one covers; returns the new n.
 * Sorted, the only kept value that can cover the next one is the one that
 * reaches furthest (ranges) or the last kept (name prefixes). */
static int vals_canon(RsValue *v, int n)
{
	int k = 0, best = -1;

	qsort(v, (size_t)n, sizeof *v, val_cmp);
	for (int i = 0; i < n; i++) {
		if (best >= 0 && val_covers(&v[best], &v[i]))
			continue;
		v[k] = v[i];
		if (best < 0 || val_further(&v[k], &v[best]))
			best = k;
		k++;
	}
	return k;
}

/* ---- matches ---- */

/* Append a match on key with the n values at vals (copied into the arena). */
static void add_match(Lower *L, Matches *ms, RsKey key, bool neg,
		      const RsValue *vals, int n, const char *set)
{
	RsMatch m = { .key = key, .neg = neg, .n_vals = n, .set = set };

	m.vals = arena_alloc(L->a, (size_t)n * sizeof *m.vals);
	memcpy(m.vals, vals, (size_t)n * sizeof *vals);
	vec_push(L->a, ms, m);
}

/* Append a match on key with the one integer v (NFPROTO, L4PROTO). */
static void add_int(Lower *L, Matches *ms, RsKey key, uint64_t v)
{
	RsValue val = val_int(v);

	add_match(L, ms, key, false, &val, 1, NULL);
}

/* `tcp dport PORTS`: L4PROTO then DPORT over the group's services. */
static void match_service(Lower *L, Matches *ms, const Group *g)
{
	RsValue *v = arena_alloc(L->a, (size_t)g->svcs.n * sizeof *v);
	int n;

	for (int i = 0; i < g->svcs.n; i++)
		v[i] = val_ports(g->svcs.v[i]);
	n = vals_canon(v, g->svcs.n);
	add_int(L, ms, KEY_L4PROTO, g->kind == SVC_TCP ? PROTO_TCP : PROTO_UDP);
	add_match(L, ms, KEY_DPORT, false, v, n, NULL);
}

/* `iifname PATTERNS` of a via (nothing when it names no interface). */
static void match_ifaces(Lower *L, Matches *ms, const Via *via)
{
	RsValue *v;
	int n;

	if (via->n_ifaces == 0)
		return;
	v = arena_alloc(L->a, (size_t)via->n_ifaces * sizeof *v);
	for (int i = 0; i < via->n_ifaces; i++)
		v[i] = val_ifname(via->ifaces[i].name, via->ifaces[i].wildcard);
	n = vals_canon(v, via->n_ifaces);
	add_match(L, ms, KEY_IIFNAME, false, v, n, NULL);
}

/* The user a `via user` row is keyed on: the pinned uid, else the name. */
static void match_user(Lower *L, Matches *ms, const Via *via)
{
	RsValue v = { .kind = VAL_USER, .name = via->user };

	if (via->uid >= 0)
		v = val_int((uint64_t)via->uid);
	add_match(L, ms, KEY_SKUID, false, &v, 1, NULL);
}

/* `oifname "lo"` (traffic to this host), or `!=` (traffic leaving it). */
static void match_lo(Lower *L, Matches *ms, bool neg)
{
	RsValue v = val_ifname("lo", false);

	add_match(L, ms, KEY_OIFNAME, neg, &v, 1, NULL);
}

/* Does the list ps[0..n) hold an address of family fam? */
static bool has_family(const Prefix *ps, int n, AddrFamily fam)
{
	for (int i = 0; i < n; i++)
		if (ps[i].fam == fam)
			return true;
	return false;
}

/* A set name not yet used in the table, from base. */
static const char *set_name(Lower *L, const char *base)
{
	const char *name = base;

	for (int k = 2;; k++) {
		bool used = false;

		for (int i = 0; i < L->sets.n && !used; i++)
			used = !strcmp(L->sets.v[i].name, name);
		if (!used)
			return name;
		name = arena_printf(L->a, "%s_%d", base, k);
	}
}

/* The named set for the fam addresses of ps[0..n) (made on first use). */
static const char *named_set(Lower *L, const Prefix *ps, AddrFamily fam,
			     const RsValue *v, int n, const char *base,
			     const char *comment)
{
	RsSet set = { .type = fam == FAM_IP4 ? SETTYPE_IPV4 : SETTYPE_IPV6,
		      .interval = true, .n_elems = n, .comment = comment };
	SetRef ref = { .key = ps, .fam = fam };

	for (int i = 0; i < L->setrefs.n; i++)
		if (L->setrefs.v[i].key == ps && L->setrefs.v[i].fam == fam)
			return L->setrefs.v[i].name;
	set.name = set_name(L, arena_printf(L->a, "%s_%s", base,
					    fam == FAM_IP4 ? "v4" : "v6"));
	set.elems = arena_alloc(L->a, (size_t)n * sizeof *v);
	memcpy(set.elems, v, (size_t)n * sizeof *v);
	vec_push(L->a, &L->sets, set);
	ref.name = set.name;
	vec_push(L->a, &L->setrefs, ref);
	return set.name;
}

/* `ip saddr X` / `ip6 daddr @set`...: NFPROTO then key over the fam
 * addresses of ps[0..n); two or more go to a named set from base. */
static void match_addrs(Lower *L, Matches *ms, RsKey key, const Prefix *ps,
			int n, AddrFamily fam, const char *base,
			const char *comment)
{
	RsValue *v = arena_alloc(L->a, (size_t)n * sizeof *v);
	const char *set = NULL;
	int k = 0;

	for (int i = 0; i < n; i++)
		if (ps[i].fam == fam)
			v[k++] = val_prefix(&ps[i]);
	k = vals_canon(v, k);
	if (k > 1)
		set = named_set(L, ps, fam, v, k, base, comment);
	add_int(L, ms, KEY_NFPROTO, fam == FAM_IP4 ? NFPROTO_V4 : NFPROTO_V6);
	add_match(L, ms, key, false, v, k, set);
}

/* ---- rules ---- */

/* s with the characters nft cannot quote in a comment replaced by '_'. */
static char *comment_clean(char *s)
{
	for (char *c = s; *c; c++)
		if (*c == '"' || *c == '\\' || (unsigned char)*c < 0x20 ||
		    (unsigned char)*c >= 0x7f)
			*c = '_';
	return s;
}

/* "FILE:LINE what", cut to nft's limit on comments (what becomes
 * "SOURCE->N services" when it is too long). */
static const char *rule_comment(Lower *L, const Loc *loc, const char *src,
				const char *what, int n_svcs)
{
	char *c = arena_printf(L->a, "%s:%d %s", L->file, loc->first_line, what);

	if (strlen(c) >= COMMENT_MAX)
		c = arena_printf(L->a, "%s:%d %s->%d services", L->file,
				 loc->first_line, src, n_svcs);
	if (strlen(c) >= COMMENT_MAX)
		c[COMMENT_MAX - 1] = '\0';
	return comment_clean(c);
}

/* A set's comment "FILE:LINE what", cut to nft's limit. */
static const char *set_comment(Lower *L, const Loc *loc, const char *what)
{
	char *c = arena_printf(L->a, "%s:%d %s", L->file, loc->first_line, what);

	if (strlen(c) >= COMMENT_MAX)
		c[COMMENT_MAX - 1] = '\0';
	return comment_clean(c);
}

/* "laptop->api,rsync" */
static const char *group_what(Lower *L, const Source *src, const Group *g)
{
	Buf b = { 0 };
	const char *s;

	buf_printf(&b, "%s->", src->name);
	for (int i = 0; i < g->svcs.n; i++)
		buf_printf(&b, "%s%s", i ? "," : "", g->svcs.v[i]->name);
	s = arena_strdup(L->a, b.data);
	buf_free(&b);
	return s;
}

/* Append the rule ms -> verdict, from group g of source src, to chain. */
static void add_rule(Lower *L, Rules *chain, const Matches *ms,
		     RsVerdictKind verdict, const Source *src, const Group *g)
{
	RsRule r = { .matches = ms->v, .n_matches = ms->n, .verdict = verdict };

	r.origin = g->first->loc;
	r.origin_what = group_what(L, src, g);
	r.comment = rule_comment(L, &r.origin, src->name, r.origin_what, g->svcs.n);
	vec_push(L->a, chain, r);
}

/* A copy of the matches so far, to extend into one more rule. */
static Matches matches_copy(Lower *L, const Matches *ms)
{
	Matches c = { 0 };

	for (int i = 0; i < ms->n; i++)
		vec_push(L->a, &c, ms->v[i]);
	return c;
}

/* ---- cells to groups ---- */

/* Do the port ranges of s and of some service of g overlap? */
static bool group_overlaps(const Group *g, const Service *s)
{
	for (int i = 0; i < g->svcs.n; i++)
		if (g->svcs.v[i]->port_lo <= s->port_hi &&
		    s->port_lo <= g->svcs.v[i]->port_hi)
			return true;
	return false;
}

/* Put the tcp/udp cell c of service s into a group of gs: the first with
 * its protocol and verdict that no later group of the same protocol with
 * the other verdict overlaps (moving s ahead of it would change who wins);
 * else a new group at the end. */
static void group_cell(Lower *L, Groups *gs, const Service *s, const Cell *c)
{
	Group g = { .kind = s->kind, .cell = c->kind, .first = c };

	for (int i = 0; i < gs->n; i++) {
		bool blocked = false;

		if (gs->v[i].kind != s->kind || gs->v[i].cell != c->kind)
			continue;
		for (int j = i + 1; j < gs->n && !blocked; j++)
			blocked = gs->v[j].kind == s->kind &&
				  gs->v[j].cell != c->kind &&
				  group_overlaps(&gs->v[j], s);
		if (!blocked) {
			vec_push(L->a, &gs->v[i].svcs, s);
			return;
		}
	}
	vec_push(L->a, &g.svcs, s);
	vec_push(L->a, gs, g);
}

/* The tcp/udp cells of row r grouped into rules, in column order. */
static Groups row_groups(Lower *L, int r)
{
	Groups gs = { 0 };

	for (int s = 0; s < L->p->n_services; s++) {
		const Service *svc = L->p->services[s];
		const Cell *c = policy_cell(L->p, r, s);

		if (service_is_network(svc) && c->kind != CELL_NONE)
			group_cell(L, &gs, svc, c);
	}
	return gs;
}

/* Does via cover packets local processes send (an interface pattern lo
 * matches, or only addresses)? Its egress cells then also apply to what
 * those processes send out. */
static bool via_covers_lo(const Via *v)
{
	if (v->kind != VIA_NET || !v->n_ifaces)
		return v->kind == VIA_NET;
	for (int i = 0; i < v->n_ifaces; i++)
		if (!strncmp("lo", v->ifaces[i].name, v->ifaces[i].wildcard ?
			     strlen(v->ifaces[i].name) : 3))
			return true;
	return false;
}

/* Does via's egress lower into hook h? Forwarded traffic (forward) for
 * interface, address and catch-all rows; what local processes send out
 * (output) for user rows and rows that cover lo. */
static bool egress_in_hook(const Via *v, RsHook h)
{
	if (h == HOOK_OUTPUT)
		return v->kind == VIA_USER || via_covers_lo(v);
	return v->kind != VIA_USER;
}

/* Does row r or a row below it deny an egress service through a via of
 * hook h? Then an egress allow of row r needs an accept rule, so that the
 * more specific cell and the upper row keep deciding first. */
static bool egress_denied_from(Lower *L, int r, RsHook h)
{
	for (int r2 = r; r2 < L->p->n_sources; r2++) {
		const Source *src = L->p->sources[r2];
		bool deny = false;

		for (int s = 0; s < L->p->n_services && !deny; s++)
			deny = L->p->services[s]->kind == SVC_EGRESS &&
				policy_cell(L->p, r2, s)->kind == CELL_DENY;
		if (!deny)
			continue;
		for (int i = 0; i < src->n_vias; i++)
			if (egress_in_hook(&src->vias[i], h))
				return true;
	}
	return false;
}

/* ---- one via ---- */

/* Input rules of a VIA_NET or VIA_ANY clause for the groups gs: one per
 * group and address family of the clause. */
static void lower_input(Lower *L, const Source *src, const Via *via,
			const Groups *gs)
{
	static const AddrFamily fams[] = { FAM_IP4, FAM_IP6 };

	for (int i = 0; i < gs->n; i++) {
		const Group *g = &gs->v[i];
		RsVerdictKind verdict = g->cell == CELL_ALLOW ? VERDICT_ACCEPT : VERDICT_DROP;
		Matches base = { 0 };

		if (via->kind == VIA_NET)
			match_ifaces(L, &base, via);
		match_service(L, &base, g);
		if (via->kind != VIA_NET || via->n_addrs == 0) {
			add_rule(L, &L->input, &base, verdict, src, g);
			continue;
		}
		for (int f = 0; f < 2; f++) {
			Matches ms;

			if (!has_family(via->addrs, via->n_addrs, fams[f]))
				continue;
			ms = matches_copy(L, &base);
			match_addrs(L, &ms, KEY_SADDR, via->addrs, via->n_addrs,
				    fams[f], src->name,
				    set_comment(L, &via->loc, src->name));
			add_rule(L, &L->input, &ms, verdict, src, g);
		}
	}
}

/* Output rules of a VIA_USER clause for the groups gs: traffic of the user
 * to this host (it leaves through lo). A tcp deny answers with a reset. */
static void lower_user(Lower *L, const Source *src, const Via *via,
		       const Groups *gs)
{
	for (int i = 0; i < gs->n; i++) {
		const Group *g = &gs->v[i];
		Matches ms = { 0 };

		match_user(L, &ms, via);
		match_lo(L, &ms, false);
		match_service(L, &ms, g);
		add_rule(L, &L->output, &ms,
			 g->cell == CELL_ALLOW ? VERDICT_ACCEPT : VERDICT_REJECT,
			 src, g);
		if (g->kind == SVC_TCP && g->cell == CELL_DENY)
			L->output.v[L->output.n - 1].reject = REJECT_TCP_RESET;
	}
}

/* One egress rule of via for service s with cell c into hook h: matches
 * so far in base, then the source family fam (0: none), the destinations,
 * the service's protocol and ports. tcp: the rule matches tcp only and a
 * reject answers with a reset. */
static void egress_rule(Lower *L, const Source *src, const Via *via,
			const Service *s, const Cell *c, const Matches *base,
			AddrFamily fam, bool tcp, RsHook h)
{
	bool out = h == HOOK_OUTPUT;
	RsVerdictKind verdict = c->kind == CELL_ALLOW ? VERDICT_ACCEPT :
				out ? VERDICT_REJECT : VERDICT_DROP;
	Group g = { .kind = s->kind, .cell = c->kind, .first = c };
	Matches ms = matches_copy(L, base);
	Rules *chain = out ? &L->output : &L->forward;

	vec_push(L->a, &g.svcs, s);
	if (fam && via->kind == VIA_NET && via->n_addrs > 0)
		match_addrs(L, &ms, KEY_SADDR, via->addrs, via->n_addrs, fam,
			    src->name, set_comment(L, &via->loc, src->name));
	if (fam && s->n_dests > 0)
		match_addrs(L, &ms, KEY_DADDR, s->dests, s->n_dests, fam,
			    arena_printf(L->a, "%s_dst", s->name),
			    set_comment(L, &s->loc,
					arena_printf(L->a, "%s destinations", s->name)));
	if (s->eproto) {
		RsValue v = val_ports(s);

		add_int(L, &ms, KEY_L4PROTO, (uint64_t)s->eproto);
		add_match(L, &ms, KEY_DPORT, false, &v, 1, NULL);
	} else if (tcp) {
		add_int(L, &ms, KEY_L4PROTO, PROTO_TCP);
	}
	add_rule(L, chain, &ms, verdict, src, &g);
	if (verdict == VERDICT_REJECT && (tcp || s->eproto == PROTO_TCP))
		chain->v[chain->n - 1].reject = REJECT_TCP_RESET;
}

/* egress_rule for one family; a reject of any protocol first gets a tcp
 * rule that answers with a reset, then the rule for the rest. */
static void egress_rules(Lower *L, const Source *src, const Via *via,
			 const Service *s, const Cell *c, const Matches *base,
			 AddrFamily fam, RsHook h)
{
	if (h == HOOK_OUTPUT && c->kind == CELL_DENY && !s->eproto)
		egress_rule(L, src, via, s, c, base, fam, true, h);
	egress_rule(L, src, via, s, c, base, fam, false, h);
}

/* The egress rules of one via for egress service s (cell c, row r) in
 * hook h: one per address family the source and destinations have in
 * common. An allow is an accept only when a deny follows in the hook. */
static void lower_egress(Lower *L, int r, const Source *src, const Via *via,
			 const Service *s, const Cell *c, RsHook h)
{
	static const AddrFamily fams[] = { FAM_IP4, FAM_IP6 };
	bool srcaddrs = via->kind == VIA_NET && via->n_addrs > 0;
	Matches base = { 0 };

	if (c->kind == CELL_NONE || !egress_in_hook(via, h) ||
	    (c->kind == CELL_ALLOW && !egress_denied_from(L, r, h)))
		return;
	if (via->kind == VIA_USER)
		match_user(L, &base, via);
	else if (via->kind == VIA_NET && h == HOOK_FORWARD)
		match_ifaces(L, &base, via);
	if (h == HOOK_OUTPUT)
		match_lo(L, &base, true);
	if (!srcaddrs && s->n_dests == 0) {
		egress_rules(L, src, via, s, c, &base, 0, h);
		return;
	}
	for (int f = 0; f < 2; f++) {
		if (srcaddrs && !has_family(via->addrs, via->n_addrs, fams[f]))
			continue;
		if (s->n_dests > 0 && !has_family(s->dests, s->n_dests, fams[f]))
			continue;
		egress_rules(L, src, via, s, c, &base, fams[f], h);
	}
}

/* The egress services of the policy in the order a row's cells decide
 * (policy_egress_cmp); returns how many. */
static int egress_order(Lower *L, const Service **out)
{
	int n = 0;

	for (int s = 0; s < L->p->n_services; s++) {
		const Service *v = L->p->services[s];
		int k = n++;

		if (v->kind != SVC_EGRESS) {
			n--;
			continue;
		}
		while (k > 0 && policy_egress_cmp(v, out[k - 1]) < 0) {
			out[k] = out[k - 1];
			k--;
		}
		out[k] = v;
	}
	return n;
}

/* Every rule of row r, in via order. */
static void lower_row(Lower *L, int r)
{
	static const RsHook hooks[] = { HOOK_FORWARD, HOOK_OUTPUT };
	const Source *src = L->p->sources[r];
	Groups gs = row_groups(L, r);
	const Service **eg = arena_alloc(L->a, (size_t)(L->p->n_services + 1) *
					 sizeof *eg);
	int n_eg = egress_order(L, eg);

	for (int i = 0; i < src->n_vias; i++) {
		const Via *via = &src->vias[i];

		switch (via->kind) {
		case VIA_NET:
		case VIA_ANY:
			lower_input(L, src, via, &gs);
			break;
		case VIA_USER:
			lower_user(L, src, via, &gs);
			break;
		default:
			BUG("via kind %d", via->kind);
		}
		for (int h = 0; h < 2; h++)
			for (int k = 0; k < n_eg; k++)
				lower_egress(L, r, src, via, eg[k],
					     policy_cell(L->p, r, eg[k]->index),
					     hooks[h]);
	}
}

/* Does the chain drop or reject anything? */
static bool rules_block(const Rules *rs)
{
	for (int i = 0; i < rs->n; i++)
		if (rs->v[i].verdict == VERDICT_DROP || rs->v[i].verdict == VERDICT_REJECT)
			return true;
	return false;
}

/* The rules of a chain that drops or rejects anything begin with `ct
 * state established,related accept` (the replies of the connections it
 * let through, and their ICMP errors, get back whatever the rules below
 * say about their ports), and in forward `ct state invalid drop` (a
 * routed packet conntrack cannot place belongs to no allowed connection). */
static Rules with_conntrack(Lower *L, const Rules *rs, bool invalid)
{
	Rules out = { 0 };
	RsValue v = val_int(2 | 4);
	Matches ms = { 0 };
	RsRule r = { .verdict = VERDICT_ACCEPT, .origin_what = "conntrack" };

	if (!rules_block(rs))
		return *rs;
	add_match(L, &ms, KEY_CTSTATE, false, &v, 1, NULL);
	r.matches = ms.v;
	r.n_matches = ms.n;
	r.comment = "replies of allowed connections";
	vec_push(L->a, &out, r);
	if (invalid) {
		Matches mi = { 0 };

		v = val_int(1);
		add_match(L, &mi, KEY_CTSTATE, false, &v, 1, NULL);
		r.matches = mi.v;
		r.n_matches = mi.n;
		r.verdict = VERDICT_DROP;
		r.comment = "packets of no connection";
		vec_push(L->a, &out, r);
	}
	for (int i = 0; i < rs->n; i++)
		vec_push(L->a, &out, rs->v[i]);
	return out;
}

/* ---- the table ---- */

/* The RsFamily of a table family name sema accepted. */
static RsFamily table_family(const char *name)
{
	static const struct { const char *name; RsFamily f; } fams[] = {
		{ "inet", RS_INET }, { "ip", RS_IP }, { "ip6", RS_IP6 },
		{ "arp", RS_ARP }, { "bridge", RS_BRIDGE }, { "netdev", RS_NETDEV },
	};

	for (size_t i = 0; i < sizeof fams / sizeof *fams; i++)
		if (name && !strcmp(name, fams[i].name))
			return fams[i].f;
	BUG("table family '%s' passed sema", name ? name : "(null)");
}

/* A base chain named after its hook: filter, priority 0, policy accept. */
static RsChain base_chain(RsHook hook, const Rules *rules)
{
	return (RsChain){ .name = rs_hook_name(hook), .hook = hook,
			  .type = "filter", .priority = 0,
			  .policy = VERDICT_ACCEPT, .rules = rules->v,
			  .n_rules = rules->n };
}

Ruleset *lower(const Policy *p)
{
	Lower L = { .p = p, .a = p->arena };
	Ruleset *rs = arena_alloc(p->arena, sizeof *rs);
	RsTable *t = arena_alloc(p->arena, sizeof *t);
	VEC(RsChain) chains = { 0 };
	const char *slash = p->file ? strrchr(p->file, '/') : NULL;
	RsChain c;

	L.file = slash ? slash + 1 : p->file ? p->file : "policy";
	for (int r = 0; r < p->n_sources; r++)
		lower_row(&L, r);
	L.input = with_conntrack(&L, &L.input, false);
	L.forward = with_conntrack(&L, &L.forward, true);
	L.output = with_conntrack(&L, &L.output, false);
	c = base_chain(HOOK_INPUT, &L.input);
	vec_push(L.a, &chains, c);
	if (L.forward.n) {
		c = base_chain(HOOK_FORWARD, &L.forward);
		vec_push(L.a, &chains, c);
	}
	if (L.output.n) {
		c = base_chain(HOOK_OUTPUT, &L.output);
		vec_push(L.a, &chains, c);
	}
	t->family = table_family(p->table_family);
	t->name = p->table_name;
	t->sets = L.sets.v;
	t->n_sets = L.sets.n;
	t->chains = chains.v;
	t->n_chains = chains.n;
	rs->arena = p->arena;
	rs->tables = t;
	rs->n_tables = 1;
	lookup_merge(rs);
	return rs;
}

/* ---- ruleset.h helpers ---- */

const char *rs_family_name(RsFamily f)
{
	switch (f) {
	case RS_INET: return "inet";
	case RS_IP: return "ip";
	case RS_IP6: return "ip6";
	case RS_ARP: return "arp";
	case RS_BRIDGE: return "bridge";
	case RS_NETDEV: return "netdev";
	default: BUG("table family %d", f);
	}
}

const char *rs_hook_name(RsHook h)
{
	switch (h) {
	case HOOK_NONE: return "none";
	case HOOK_PREROUTING: return "prerouting";
	case HOOK_INPUT: return "input";
	case HOOK_FORWARD: return "forward";
	case HOOK_OUTPUT: return "output";
	case HOOK_POSTROUTING: return "postrouting";
	case HOOK_INGRESS: return "ingress";
	default: BUG("hook %d", h);
	}
}

RsChain *rs_chain(const RsTable *t, const char *name)
{
	for (int i = 0; i < t->n_chains; i++)
		if (!strcmp(t->chains[i].name, name))
			return &t->chains[i];
	return NULL;
}

RsSet *rs_set(const RsTable *t, const char *name)
{
	for (int i = 0; i < t->n_sets; i++)
		if (!strcmp(t->sets[i].name, name))
			return &t->sets[i];
	return NULL;
}

/* see ruleset.h */
int ruleset_rule_count(const Ruleset *rs)
{
	int n = 0;

	for (int t = 0; t < rs->n_tables; t++)
		for (int c = 0; c < rs->tables[t].n_chains; c++)
			n += rs->tables[t].chains[c].n_rules;
	return n;
}
