/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * import_json.c: a Ruleset from what `nft -j list ruleset` prints.
 *
 * Every table, chain, set, map and rule is read (jansson). Matches on
 * meta iifname/oifname/iif/oif/skuid/skgid/l4proto/nfproto, ip/ip6
 * saddr/daddr/protocol/nexthdr, tcp/udp/sctp/dccp/udplite/th sport/dport
 * and ct state become Ruleset matches, with values from literals, anonymous
 * and named sets, ranges and prefixes, and with their protocol dependency
 * made explicit (`ip saddr` adds NFPROTO ipv4, `tcp dport` L4PROTO tcp).
 * A verdict map becomes one rule per element. counter, log, comment and
 * mangling statements do not change a verdict and are dropped (a comment
 * "FILE:LINE what", as fpc writes, becomes the rule's origin). Anything
 * else becomes a KEY_UNKNOWN match ("may match either way") that keeps the
 * expression's text for the report; statements that end the rule in a way
 * the prover does not follow (nat, queue) become an unknown match before
 * an accept.
 *
 * Structural errors (not JSON, no "nftables" array, a rule of an unknown
 * chain, a jump to a missing chain) fail the import with one line in err.
 */
#include "prove.h"

#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <netdb.h>

typedef VEC(RsRule) Rules;
typedef VEC(RsMatch) Matches;
typedef VEC(RsValue) Values;

typedef struct ITable {
	RsFamily family;
	const char *name;
	VEC(RsChain) chains;
	VEC(Rules) rules;	/* per chain */
	VEC(RsSet) sets;
	VEC(json_t *) set_elems;	/* per set: its "elem" array (or NULL) */
	VEC(const char *) set_names;	/* sets and maps by name */
} ITable;

typedef struct Imp {
	Arena *a;
	Buf *err;
	bool failed;
	VEC(ITable) tables;
} Imp;

/* Record the first structural error. */
static void fail(Imp *im, const char *fmt, const char *arg)
{
	if (im->failed)
		return;
	im->failed = true;
	buf_printf(im->err, fmt, arg ? arg : "");
}

static const char *jstr(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

/* ---- names of things ---- */

static bool family_of(const char *s, RsFamily *f)
{
	static const struct { const char *n; RsFamily f; } t[] = {
		{ "inet", RS_INET }, { "ip", RS_IP }, { "ip6", RS_IP6 },
		{ "arp", RS_ARP }, { "bridge", RS_BRIDGE }, { "netdev", RS_NETDEV },
	};

	for (size_t i = 0; s && i < sizeof t / sizeof *t; i++)
		if (!strcmp(s, t[i].n)) {
			*f = t[i].f;
			return true;
		}
	return false;
}

static RsHook hook_of(const char *s)
{
	static const struct { const char *n; RsHook h; } t[] = {
		{ "prerouting", HOOK_PREROUTING }, { "input", HOOK_INPUT },
		{ "forward", HOOK_FORWARD }, { "output", HOOK_OUTPUT },
		{ "postrouting", HOOK_POSTROUTING }, { "ingress", HOOK_INGRESS },
	};

	for (size_t i = 0; s && i < sizeof t / sizeof *t; i++)
		if (!strcmp(s, t[i].n))
			return t[i].h;
	return HOOK_NONE;
}

/* An IP protocol number from a name or number; -1 if unknown. */
static int proto_of(json_t *v)
{
	static const struct { const char *n; int p; } t[] = {
		{ "icmp", 1 }, { "igmp", 2 }, { "tcp", 6 }, { "udp", 17 },
		{ "dccp", 33 }, { "ipv6", 41 }, { "gre", 47 }, { "esp", 50 },
		{ "ah", 51 }, { "icmpv6", 58 }, { "ipv6-icmp", 58 },
		{ "sctp", 132 }, { "udplite", 136 },
	};
	const char *s;

	if (json_is_integer(v))
		return json_integer_value(v) >= 0 && json_integer_value(v) <= 255 ?
			(int)json_integer_value(v) : -1;
	s = json_is_string(v) ? json_string_value(v) : NULL;
	for (size_t i = 0; s && i < sizeof t / sizeof *t; i++)
		if (!strcmp(s, t[i].n))
			return t[i].p;
	return -1;
}

/* A ct state bit from its name; 0 if unknown. */
static int ctstate_of(const char *s)
{
	static const struct { const char *n; int bit; } t[] = {
		{ "invalid", 1 }, { "established", 2 }, { "related", 4 },
		{ "new", 8 }, { "untracked", 64 },
	};

	for (size_t i = 0; s && i < sizeof t / sizeof *t; i++)
		if (!strcmp(s, t[i].n))
			return t[i].bit;
	return 0;
}

/* ---- the text of an expression, for reports ---- */

static void render(json_t *e, Buf *out, int depth);

static void render_list(json_t *arr, const char *sep, Buf *out, int depth)
{
	size_t i;
	json_t *v;

	json_array_foreach(arr, i, v) {
		if (i)
			buf_puts(out, sep);
		render(v, out, depth + 1);
	}
}

/* nft-like text of an expression or value; compact JSON when unsure. */
static void render(json_t *e, Buf *out, int depth)
{
	json_t *v;
	const char *k;

	if (depth > 8) {
		buf_puts(out, "...");
		return;
	}
	if (json_is_string(e)) {
		buf_puts(out, json_string_value(e));
		return;
	}
	if (json_is_integer(e)) {
		buf_printf(out, "%lld", (long long)json_integer_value(e));
		return;
	}
	if (json_is_true(e) || json_is_false(e)) {
		buf_puts(out, json_is_true(e) ? "exists" : "missing");
		return;
	}
	if (json_is_array(e)) {
		render_list(e, ",", out, depth);
		return;
	}
	if (json_is_object(e) && json_object_size(e) == 1) {
		k = json_object_iter_key(json_object_iter(e));
		v = json_object_iter_value(json_object_iter(e));
		if (!strcmp(k, "meta") || !strcmp(k, "ct")) {
			buf_printf(out, "%s %s", k, jstr(v, "key") ? jstr(v, "key") : "?");
			return;
		}
		if (!strcmp(k, "payload") && jstr(v, "protocol")) {
			buf_printf(out, "%s %s", jstr(v, "protocol"),
				   jstr(v, "field") ? jstr(v, "field") : "?");
			return;
		}
		if (!strcmp(k, "set") && json_is_array(v)) {
			buf_puts(out, "{ ");
			render_list(v, ", ", out, depth);
			buf_puts(out, " }");
			return;
		}
		if (!strcmp(k, "concat") && json_is_array(v)) {
			render_list(v, " . ", out, depth);
			return;
		}
		if (!strcmp(k, "range") && json_is_array(v) && json_array_size(v) == 2) {
			render_list(v, "-", out, depth);
			return;
		}
		if (!strcmp(k, "prefix")) {
			render(json_object_get(v, "addr"), out, depth + 1);
			buf_printf(out, "/%lld", (long long)json_integer_value(json_object_get(v, "len")));
			return;
		}
		if (!strcmp(k, "&") && json_is_array(v)) {
			render_list(v, " & ", out, depth);
			return;
		}
		if (!strcmp(k, "fib")) {
			buf_puts(out, "fib ");
			render_list(json_object_get(v, "flags"), " . ", out, depth);
			buf_printf(out, " %s", jstr(v, "result") ? jstr(v, "result") : "?");
			return;
		}
		if (!strcmp(k, "limit") && json_is_object(v)) {
			buf_printf(out, "limit rate %lld/%s",
				   (long long)json_integer_value(json_object_get(v, "rate")),
				   jstr(v, "per") ? jstr(v, "per") : "?");
			return;
		}
		if ((!strcmp(k, "dnat") || !strcmp(k, "snat") || !strcmp(k, "redirect") ||
		     !strcmp(k, "masquerade") || !strcmp(k, "tproxy")) &&
		    (json_is_object(v) || json_is_null(v))) {
			buf_puts(out, k);
			if (json_object_get(v, "addr") || json_object_get(v, "port"))
				buf_puts(out, " to ");
			if (json_object_get(v, "addr"))
				render(json_object_get(v, "addr"), out, depth + 1);
			if (json_object_get(v, "port")) {
				buf_puts(out, ":");
				render(json_object_get(v, "port"), out, depth + 1);
			}
			return;
		}
		if (!strcmp(k, "match")) {
			const char *op = jstr(v, "op");

			render(json_object_get(v, "left"), out, depth + 1);
			if (op && strcmp(op, "==") && strcmp(op, "in"))
				buf_printf(out, " %s", op);
			buf_puts(out, " ");
			render(json_object_get(v, "right"), out, depth + 1);
			return;
		}
	}
	{
		char *s = json_dumps(e, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);

		if (s && strlen(s) > 200)
			strcpy(s + 190, "...");
		buf_puts(out, s ? s : "?");
		free(s);
	}
}

static const char *render_str(Imp *im, json_t *e)
{
	Buf b = { 0 };
	const char *s;

	render(e, &b, 0);
	s = arena_strdup(im->a, b.data ? b.data : "");
	buf_free(&b);
	return s;
}

/* ---- fields and values ---- */

typedef enum {
	FK_IFNAME, FK_INT, FK_ADDR, FK_PROTO, FK_NFPROTO, FK_CTSTATE, FK_ID,
} FieldKind;

/* What a match's left side is. */
typedef struct Field {
	bool known;
	RsKey key;
	FieldKind kind;
	AddrFamily fam;		/* FK_ADDR */
	uint64_t max;		/* FK_INT, FK_ID */
	int nfproto_dep, l4proto_dep;	/* 0: none */
} Field;

static bool is_port_proto(const char *p, int *num)
{
	static const struct { const char *n; int p; } t[] = {
		{ "tcp", 6 }, { "udp", 17 }, { "dccp", 33 }, { "sctp", 132 },
		{ "udplite", 136 },
	};

	for (size_t i = 0; i < sizeof t / sizeof *t; i++)
		if (!strcmp(p, t[i].n)) {
			*num = t[i].p;
			return true;
		}
	return false;
}

/* Decode a left-hand side; unknown ones still carry the protocol
 * dependency their payload header implies. */
static Field field_of(json_t *l)
{
	Field f = { 0 };
	json_t *v;
	const char *k, *p, *fl;
	int num;

	if (!json_is_object(l))
		return f;
	if ((v = json_object_get(l, "meta"))) {
		k = jstr(v, "key");
		if (!k)
			return f;
		f.known = true;
		if (!strcmp(k, "iifname") || !strcmp(k, "iif"))
			f.key = KEY_IIFNAME, f.kind = FK_IFNAME;
		else if (!strcmp(k, "oifname") || !strcmp(k, "oif"))
			f.key = KEY_OIFNAME, f.kind = FK_IFNAME;
		else if (!strcmp(k, "l4proto"))
			f.key = KEY_L4PROTO, f.kind = FK_PROTO;
		else if (!strcmp(k, "nfproto"))
			f.key = KEY_NFPROTO, f.kind = FK_NFPROTO;
		else if (!strcmp(k, "skuid"))
			f.key = KEY_SKUID, f.kind = FK_ID, f.max = 0xffffffffu;
		else if (!strcmp(k, "skgid"))
			f.key = KEY_SKGID, f.kind = FK_ID, f.max = 0xffffffffu;
		else
			f.known = false;
		return f;
	}
	if ((v = json_object_get(l, "ct"))) {
		k = jstr(v, "key");
		if (k && !strcmp(k, "state") && !json_object_get(v, "dir"))
			f.known = true, f.key = KEY_CTSTATE, f.kind = FK_CTSTATE;
		return f;
	}
	if (!(v = json_object_get(l, "payload")) || !(p = jstr(v, "protocol")))
		return f;
	fl = jstr(v, "field");
	if (!strcmp(p, "ip") || !strcmp(p, "ip6")) {
		bool v6 = p[2] == '6';

		f.nfproto_dep = v6 ? 10 : 2;
		if (fl && (!strcmp(fl, "saddr") || !strcmp(fl, "daddr"))) {
			f.known = true;
			f.key = fl[0] == 's' ? KEY_SADDR : KEY_DADDR;
			f.kind = FK_ADDR;
			f.fam = v6 ? FAM_IP6 : FAM_IP4;
		} else if (fl && !strcmp(fl, v6 ? "nexthdr" : "protocol")) {
			f.known = true;
			f.key = KEY_L4PROTO;
			f.kind = FK_PROTO;
		}
		return f;
	}
	if (!strcmp(p, "icmp") || !strcmp(p, "icmpv6")) {
		f.nfproto_dep = p[4] ? 10 : 2;
		f.l4proto_dep = p[4] ? 58 : 1;
		return f;
	}
	if (!strcmp(p, "th") || is_port_proto(p, &num)) {
		if (strcmp(p, "th"))
			f.l4proto_dep = num;
		if (fl && (!strcmp(fl, "sport") || !strcmp(fl, "dport"))) {
			f.known = true;
			f.key = fl[0] == 's' ? KEY_SPORT : KEY_DPORT;
			f.kind = FK_INT;
			f.max = 65535;
		}
	}
	return f;
}

static bool parse_addr(const char *s, AddrFamily fam, uint8_t *a)
{
	memset(a, 0, 16);
	return s && inet_pton(fam == FAM_IP4 ? AF_INET : AF_INET6, s, a) == 1;
}

/* Decode one scalar of field f into v; false if it cannot be. */
static bool scalar(Imp *im, const Field *f, json_t *j, RsValue *v)
{
	const char *s = json_is_string(j) ? json_string_value(j) : NULL;

	memset(v, 0, sizeof *v);
	switch (f->kind) {
	case FK_IFNAME: {
		size_t n;

		if (!s || (n = strlen(s)) >= 64)
			return false;
		v->kind = VAL_IFNAME;
		if (n >= 2 && s[n - 2] == '\\' && s[n - 1] == '*') {
			char *c = arena_strndup(im->a, s, n - 2);

			v->name = arena_printf(im->a, "%s*", c);
		} else if (n && s[n - 1] == '*') {
			v->name = arena_strndup(im->a, s, n - 1);
			v->wildcard = true;
		} else {
			v->name = arena_strdup(im->a, s);
		}
		return true;
	}
	case FK_INT:
	case FK_ID:
		v->kind = VAL_INT;
		if (s && f->kind == FK_ID && s[0]) {
			v->kind = VAL_USER;
			v->name = arena_strdup(im->a, s);
			return true;
		}
		if (!json_is_integer(j) || json_integer_value(j) < 0 ||
		    (uint64_t)json_integer_value(j) > f->max)
			return false;
		v->lo = v->hi = (uint64_t)json_integer_value(j);
		return true;
	case FK_PROTO: {
		int p = proto_of(j);

		v->kind = VAL_INT;
		v->lo = v->hi = (uint64_t)p;
		return p >= 0;
	}
	case FK_NFPROTO:
		v->kind = VAL_INT;
		if (s && !strcmp(s, "ipv4"))
			v->lo = v->hi = 2;
		else if (s && !strcmp(s, "ipv6"))
			v->lo = v->hi = 10;
		else if (json_is_integer(j) && json_integer_value(j) >= 0 &&
			 json_integer_value(j) <= 255)
			v->lo = v->hi = (uint64_t)json_integer_value(j);
		else
			return false;
		return true;
	case FK_CTSTATE:
		v->kind = VAL_INT;
		v->lo = v->hi = (uint64_t)ctstate_of(s);
		return v->lo != 0;
	case FK_ADDR:
		v->kind = VAL_ADDR;
		v->fam = f->fam;
		if (!parse_addr(s, f->fam, v->addr_lo))
			return false;
		memcpy(v->addr_hi, v->addr_lo, 16);
		return true;
	default:
		BUG("field kind %d", (int)f->kind);
	}
}

static const char *set_lookup(Imp *im, ITable *t, const char *name, json_t **elems);

/* Decode a right-hand side into values (appended); false if any part
 * cannot be decoded. *set gets a named set's name. */
static void comment_origin(Imp *im, RsRule *r, const char *c);

/* Values out[from..) are one set element with comment c (fpc writes the
 * provenance of a merged rule there): give them that provenance. */
static void elem_prov(Imp *im, const char *c, Values *out, int from)
{
	RsRule r = { 0 };
	RsProv *pv = arena_alloc(im->a, sizeof *pv);

	comment_origin(im, &r, c);
	*pv = (RsProv){ r.comment, r.origin, r.origin_what };
	for (int i = from; i < out->n; i++)
		out->v[i].prov = pv;
}

/* When some of vals carry provenance, give the others an empty one, so
 * each element stands for a rule of its own (lookup_expand). */
static void provs_complete(Imp *im, Values *vals)
{
	bool any = false;

	for (int i = 0; i < vals->n && !any; i++)
		any = vals->v[i].prov != NULL;
	for (int i = 0; any && i < vals->n; i++)
		if (!vals->v[i].prov) {
			RsProv *pv = arena_alloc(im->a, sizeof *pv);

			memset(pv, 0, sizeof *pv);
			vals->v[i].prov = pv;
		}
}

static bool values(Imp *im, ITable *t, const Field *f, json_t *j, Values *out,
		   const char **set, int depth)
{
	json_t *v, *e;
	size_t i;

	if (depth > 4)
		return false;
	if (json_is_string(j) && json_string_value(j)[0] == '@' && set) {
		json_t *elems;

		*set = set_lookup(im, t, json_string_value(j) + 1, &elems);
		if (!*set || !json_is_array(elems))
			return false;
		return values(im, t, f, elems, out, NULL, depth + 1);
	}
	if (json_is_array(j)) {
		if (f->kind == FK_CTSTATE) {
			RsValue m = { .kind = VAL_INT };

			json_array_foreach(j, i, e) {
				RsValue one;

				if (!scalar(im, f, e, &one))
					return false;
				m.lo |= one.lo;
			}
			m.hi = m.lo;
			vec_push(im->a, out, m);
			return true;
		}
		json_array_foreach(j, i, e)
			if (!values(im, t, f, e, out, NULL, depth + 1))
				return false;
		return true;
	}
	if (json_is_object(j) && (v = json_object_get(j, "set")))
		return json_is_array(v) && values(im, t, f, v, out, NULL, depth + 1);
	if (json_is_object(j) && (v = json_object_get(j, "elem"))) {
		int from = out->n;

		if (!values(im, t, f, json_object_get(v, "val"), out, NULL, depth + 1))
			return false;
		if (json_is_string(json_object_get(v, "comment")))
			elem_prov(im, jstr(v, "comment"), out, from);
		return true;
	}
	if (json_is_object(j) && (v = json_object_get(j, "range"))) {
		RsValue lo, hi;

		if (!json_is_array(v) || json_array_size(v) != 2 || f->kind == FK_IFNAME ||
		    f->kind == FK_CTSTATE ||
		    !scalar(im, f, json_array_get(v, 0), &lo) ||
		    !scalar(im, f, json_array_get(v, 1), &hi) || lo.kind == VAL_USER ||
		    hi.kind == VAL_USER)
			return false;
		lo.hi = hi.lo;
		memcpy(lo.addr_hi, hi.addr_lo, 16);
		vec_push(im->a, out, lo);
		return true;
	}
	if (json_is_object(j) && (v = json_object_get(j, "prefix"))) {
		RsValue a;
		json_t *len = json_object_get(v, "len");
		int bits = f->fam == FAM_IP4 ? 32 : 128;

		if (f->kind != FK_ADDR || !json_is_integer(len) ||
		    json_integer_value(len) < 0 || json_integer_value(len) > bits ||
		    !scalar(im, f, json_object_get(v, "addr"), &a))
			return false;
		for (int b = 0; b < bits; b++) {
			uint8_t bit = (uint8_t)(0x80 >> (b % 8));

			if (b < json_integer_value(len))
				continue;
			a.addr_lo[b / 8] &= (uint8_t)~bit;
			a.addr_hi[b / 8] |= bit;
		}
		vec_push(im->a, out, a);
		return true;
	}
	{
		RsValue one;

		if (!scalar(im, f, j, &one))
			return false;
		vec_push(im->a, out, one);
		return true;
	}
}

/* The values for a relational op (<, >, <=, >=) on an integer field. */
static bool relational(const Field *f, const char *op, json_t *j, RsValue *v)
{
	uint64_t x;

	if ((f->kind != FK_INT && f->kind != FK_ID) || !json_is_integer(j) ||
	    json_integer_value(j) < 0 || (uint64_t)json_integer_value(j) > f->max)
		return false;
	x = (uint64_t)json_integer_value(j);
	memset(v, 0, sizeof *v);
	v->kind = VAL_INT;
	if (!strcmp(op, "<") && x > 0)
		v->lo = 0, v->hi = x - 1;
	else if (!strcmp(op, "<="))
		v->lo = 0, v->hi = x;
	else if (!strcmp(op, ">") && x < f->max)
		v->lo = x + 1, v->hi = f->max;
	else if (!strcmp(op, ">="))
		v->lo = x, v->hi = f->max;
	else
		return false;
	return true;
}

/* ---- rules ---- */

static void add_match(Imp *im, Matches *ms, RsKey key, bool neg, Values *vals,
		      const char *set)
{
	RsMatch m = { .key = key, .neg = neg, .vals = vals->v, .n_vals = vals->n,
		      .set = set ? arena_strdup(im->a, set) : NULL };

	vec_push(im->a, ms, m);
}

static void add_int_match(Imp *im, Matches *ms, RsKey key, uint64_t x)
{
	Values v = { 0 };

	for (int i = 0; i < ms->n; i++)	/* a dependency already there */
		if (ms->v[i].key == key && !ms->v[i].neg && ms->v[i].n_vals == 1 &&
		    ms->v[i].vals[0].lo == x && ms->v[i].vals[0].hi == x)
			return;

	vec_push(im->a, &v, ((RsValue){ .kind = VAL_INT, .lo = x, .hi = x }));
	add_match(im, ms, key, false, &v, NULL);
}

static void add_unknown(Imp *im, Matches *ms, json_t *expr)
{
	RsMatch m = { .key = KEY_UNKNOWN, .unknown = render_str(im, expr) };

	vec_push(im->a, ms, m);
}

/* The dependencies field f implies, as explicit matches. */
static void add_deps(Imp *im, Matches *ms, const Field *f)
{
	if (f->nfproto_dep)
		add_int_match(im, ms, KEY_NFPROTO, (uint64_t)f->nfproto_dep);
	if (f->l4proto_dep)
		add_int_match(im, ms, KEY_L4PROTO, (uint64_t)f->l4proto_dep);
}

enum { CAT_MAX = 16 };

/* The keys of a concatenation `{"concat": [...]}` into fs[] (their
 * protocol dependencies into ms); how many, or 0 when one is not known. */
static int concat_fields(Imp *im, json_t *left, Field *fs, Matches *ms)
{
	json_t *c, *arr = json_object_get(left, "concat");
	size_t i;
	int n = 0;

	if (!json_is_array(arr) || json_array_size(arr) < 2 ||
	    json_array_size(arr) > CAT_MAX)
		return 0;
	json_array_foreach(arr, i, c) {
		fs[n] = field_of(c);
		add_deps(im, ms, &fs[n]);
		if (!fs[n].known || fs[n].kind == FK_CTSTATE)
			return 0;
		n++;
	}
	return n;
}

/* One element of a concatenation of the n keys fs[] (`{"concat": [..]}`,
 * maybe inside `{"elem": {"val": .., "comment": ..}}`) into out[0..n), one
 * value each, the comment as their provenance; false if it is not one. */
static bool concat_tuple(Imp *im, ITable *t, const Field *fs, int n, json_t *j,
			 RsValue *out)
{
	json_t *val = j, *e = json_is_object(j) ? json_object_get(j, "elem") : NULL;
	json_t *arr;
	Values one = { 0 };

	if (e)
		val = json_object_get(e, "val");
	arr = json_is_object(val) ? json_object_get(val, "concat") : NULL;
	if (!json_is_array(arr) || json_array_size(arr) != (size_t)n)
		return false;
	for (int k = 0; k < n; k++) {
		one.n = 0;
		if (!values(im, t, &fs[k], json_array_get(arr, (size_t)k), &one, NULL, 0) ||
		    one.n != 1)
			return false;
		out[k] = one.v[0];
	}
	if (e && json_is_string(json_object_get(e, "comment"))) {
		Values tup = { out, n, n };

		elem_prov(im, jstr(e, "comment"), &tup, 0);
	}
	return true;
}

/* A match of a concatenation against a set of its tuples (`iifname . ip
 * saddr { "wg0" . 10.0.0.1, ... }`) into ms, as one concatenation match;
 * false if it is not one (the caller adds it as unknown). */
static bool import_concat_match(Imp *im, ITable *t, json_t *m, Matches *ms)
{
	Field fs[CAT_MAX];
	int n = concat_fields(im, json_object_get(m, "left"), fs, ms);
	json_t *right = json_object_get(m, "right"), *set, *e;
	const char *op = jstr(m, "op");
	RsKey *cat;
	RsValue *vals;
	RsMatch x = { 0 };
	size_t i;

	if (!n || !op || (strcmp(op, "==") && strcmp(op, "in")) || !right)
		return false;
	set = json_is_object(right) ? json_object_get(right, "set") : NULL;
	if (!json_is_array(set)) {
		set = json_array();	/* one tuple */
		json_array_append(set, right);
	} else {
		json_incref(set);
	}
	cat = arena_alloc(im->a, (size_t)n * sizeof *cat);
	vals = arena_alloc(im->a, (json_array_size(set) + 1) * (size_t)n * sizeof *vals);
	for (int k = 0; k < n; k++)
		cat[k] = fs[k].key;
	json_array_foreach(set, i, e)
		if (!concat_tuple(im, t, fs, n, e, &vals[i * (size_t)n])) {
			json_decref(set);
			return false;
		}
	x = (RsMatch){ .key = cat[0], .vals = vals, .n_vals = (int)json_array_size(set),
		       .cat = cat, .n_cat = n };
	json_decref(set);
	vec_push(im->a, ms, x);
	return true;
}

/* A `match` statement into ms. */
static void import_match(Imp *im, ITable *t, json_t *stmt, json_t *m, Matches *ms)
{
	const char *op = jstr(m, "op");
	json_t *right = json_object_get(m, "right");
	Field f = field_of(json_object_get(m, "left"));
	Values vals = { 0 };
	const char *set = NULL;
	bool neg = op && !strcmp(op, "!=");

	add_deps(im, ms, &f);
	if (json_is_array(json_object_get(json_object_get(m, "left"), "concat"))) {
		if (!import_concat_match(im, t, m, ms))
			add_unknown(im, ms, stmt);
		return;
	}
	if (!f.known || !op || !right) {
		add_unknown(im, ms, stmt);
		return;
	}
	if (!strcmp(op, "==") || !strcmp(op, "!=") || !strcmp(op, "in")) {
		if (!values(im, t, &f, right, &vals, &set, 0) || vals.n == 0) {
			add_unknown(im, ms, stmt);
			return;
		}
	} else {
		RsValue v;

		if (!relational(&f, op, right, &v)) {
			add_unknown(im, ms, stmt);
			return;
		}
		vec_push(im->a, &vals, v);
	}
	provs_complete(im, &vals);
	if (f.kind == FK_ADDR)
		for (int i = 0; i < vals.n; i++)
			if (memcmp(vals.v[i].addr_lo, vals.v[i].addr_hi, 16) > 0) {
				add_unknown(im, ms, stmt);
				return;
			}
	add_match(im, ms, f.key, neg, &vals, set);
}

/* A verdict statement's kind and target; false if stmt is none. */
static bool verdict_of(Imp *im, json_t *stmt, RsVerdictKind *v, const char **target)
{
	static const struct { const char *n; RsVerdictKind v; } t[] = {
		{ "accept", VERDICT_ACCEPT }, { "drop", VERDICT_DROP },
		{ "reject", VERDICT_REJECT }, { "continue", VERDICT_CONTINUE },
		{ "return", VERDICT_RETURN }, { "jump", VERDICT_JUMP },
		{ "goto", VERDICT_GOTO },
	};

	for (size_t i = 0; i < sizeof t / sizeof *t; i++) {
		json_t *x = json_object_get(stmt, t[i].n);

		if (!x)
			continue;
		*v = t[i].v;
		*target = NULL;
		if (t[i].v == VERDICT_JUMP || t[i].v == VERDICT_GOTO) {
			const char *tg = jstr(x, "target");

			if (!tg) {
				fail(im, "a %s without a target", t[i].n);
				return false;
			}
			*target = arena_strdup(im->a, tg);
		}
		return true;
	}
	return false;
}

/* "default.fp:31 laptop->api" -> origin and origin_what. */
static void comment_origin(Imp *im, RsRule *r, const char *c)
{
	const char *colon = strchr(c, ':'), *p;
	long line;

	r->comment = arena_strdup(im->a, c);
	if (!colon || colon == c || memchr(c, ' ', (size_t)(colon - c)))
		return;
	errno = 0;
	line = strtol(colon + 1, (char **)&p, 10);
	if (p == colon + 1 || errno || line <= 0 || line > 10000000 ||
	    (*p && *p != ' '))
		return;
	r->origin = (Loc){ arena_strndup(im->a, c, (size_t)(colon - c)),
			   (int)line, 1, (int)line, 1 };
	if (*p == ' ')
		r->origin_what = arena_strdup(im->a, p + 1);
}

static void push_rule(Imp *im, Rules *out, Matches *ms, RsVerdictKind v,
		      const char *target, bool counter, json_t *rule)
{
	RsRule r = { .matches = ms->v, .n_matches = ms->n, .verdict = v,
		     .target = target, .counter = counter };
	json_t *h = json_object_get(rule, "handle");

	if (jstr(rule, "comment"))
		comment_origin(im, &r, jstr(rule, "comment"));
	if (json_is_integer(h) && json_integer_value(h) > 0)
		r.handle = (uint64_t)json_integer_value(h);
	vec_push(im->a, out, r);
}

/* Copy the matches so far (rules made from one vmap share a prefix). */
static Matches copy_matches(Imp *im, const Matches *ms)
{
	Matches c = { 0 };

	for (int i = 0; i < ms->n; i++)
		vec_push(im->a, &c, ms->v[i]);
	return c;
}

/* A verdict map: one rule per element, the key matched against it. */
static void import_vmap(Imp *im, ITable *t, json_t *stmt, json_t *vm, Matches *ms,
			bool counter, json_t *rule, Rules *out)
{
	json_t *key = json_object_get(vm, "key"), *data = json_object_get(vm, "data");
	json_t *elems = NULL, *e;
	Field f = field_of(key);
	size_t i;

	if (json_is_string(data) && json_string_value(data)[0] == '@')
		set_lookup(im, t, json_string_value(data) + 1, &elems);
	else if (json_is_object(data))
		elems = json_object_get(data, "set");
	if (!json_is_array(elems)) {
		Matches m = copy_matches(im, ms);

		add_unknown(im, &m, stmt);
		push_rule(im, out, &m, VERDICT_DROP, NULL, counter, rule);
		m = copy_matches(im, ms);
		add_unknown(im, &m, stmt);
		push_rule(im, out, &m, VERDICT_ACCEPT, NULL, counter, rule);
		return;
	}
	json_array_foreach(elems, i, e) {
		Matches m = copy_matches(im, ms);
		Values vals = { 0 };
		RsVerdictKind v;
		const char *target;
		Field fs[CAT_MAX];
		RsValue tup[CAT_MAX];
		int n;

		if (!json_is_array(e) || json_array_size(e) != 2 ||
		    !verdict_of(im, json_array_get(e, 1), &v, &target)) {
			if (!im->failed)
				fail(im, "a verdict map element is not [key, verdict]%s", NULL);
			return;
		}
		add_deps(im, &m, &f);
		if ((n = concat_fields(im, key, fs, &m)) > 0) {	/* one rule per tuple */
			if (concat_tuple(im, t, fs, n, json_array_get(e, 0), tup)) {
				for (int k = 0; k < n; k++) {
					Values one = { 0 };

					vec_push(im->a, &one, tup[k]);
					add_match(im, &m, fs[k].key, false, &one, NULL);
				}
			} else {
				add_unknown(im, &m, stmt);
			}
		} else if (f.known && values(im, t, &f, json_array_get(e, 0), &vals, NULL, 0) &&
		    vals.n > 0) {
			provs_complete(im, &vals);
			add_match(im, &m, f.key, false, &vals, NULL);
		} else {
			json_t *x = json_pack("{s:{s:s,s:O,s:O}}", "match", "op", "==",
					      "left", key, "right", json_array_get(e, 0));

			add_unknown(im, &m, x ? x : stmt);
			json_decref(x);
		}
		push_rule(im, out, &m, v, target, counter, rule);
	}
}

/* Statements that end a rule in a way not modelled (the packet is
 * rewritten or handed elsewhere). */
static bool is_terminal_unknown(const char *k)
{
	static const char *const t[] = { "dnat", "snat", "masquerade",
		"redirect", "tproxy", "queue", "synproxy", "fwd", "dup" };

	for (size_t i = 0; i < sizeof t / sizeof *t; i++)
		if (!strcmp(k, t[i]))
			return true;
	return false;
}

/* Statements that never change a verdict. */
static bool is_neutral(const char *k)
{
	static const char *const t[] = { "counter", "log", "mangle", "notrack",
		"set", "map", "ct helper", "ct timeout", "ct expectation",
		"meter", "secmark", "flow" };

	for (size_t i = 0; i < sizeof t / sizeof *t; i++)
		if (!strcmp(k, t[i]))
			return true;
	return false;
}

/* One rule object: its expr list into rules of its chain. */
static void import_rule(Imp *im, ITable *t, Rules *out, json_t *rule)
{
	json_t *expr = json_object_get(rule, "expr"), *stmt;
	Matches ms = { 0 };
	bool counter = false;
	size_t i;

	if (!json_is_array(expr)) {
		fail(im, "a rule without an \"expr\" list%s", NULL);
		return;
	}
	json_array_foreach(expr, i, stmt) {
		RsVerdictKind v;
		const char *target, *k;
		json_t *x;

		if (!json_is_object(stmt) || json_object_size(stmt) != 1) {
			add_unknown(im, &ms, stmt);
			continue;
		}
		k = json_object_iter_key(json_object_iter(stmt));
		x = json_object_iter_value(json_object_iter(stmt));
		if (!strcmp(k, "match")) {
			import_match(im, t, stmt, x, &ms);
		} else if (verdict_of(im, stmt, &v, &target)) {
			const char *how = jstr(x, "type");	/* NULL unless an object has it */

			push_rule(im, out, &ms, v, target, counter, rule);
			if (v == VERDICT_REJECT && how && !strcmp(how, "tcp reset"))
				out->v[out->n - 1].reject = REJECT_TCP_RESET;
			return;
		} else if (!strcmp(k, "vmap")) {
			import_vmap(im, t, stmt, x, &ms, counter, rule, out);
			return;
		} else if (!strcmp(k, "counter")) {
			counter = true;
		} else if (is_terminal_unknown(k)) {
			add_unknown(im, &ms, stmt);
			push_rule(im, out, &ms, VERDICT_ACCEPT, NULL, counter, rule);
			return;
		} else if (!is_neutral(k)) {
			add_unknown(im, &ms, stmt);	/* limit, quota, xt, ... */
		}
		if (im->failed)
			return;
	}
	push_rule(im, out, &ms, VERDICT_CONTINUE, NULL, counter, rule);
}

/* ---- tables, chains, sets ---- */

static ITable *find_table(Imp *im, json_t *o)
{
	RsFamily f;
	const char *name = jstr(o, "table") ? jstr(o, "table") : jstr(o, "name");

	if (!family_of(jstr(o, "family"), &f) || !name)
		return NULL;
	for (int i = 0; i < im->tables.n; i++)
		if (im->tables.v[i].family == f && !strcmp(im->tables.v[i].name, name))
			return &im->tables.v[i];
	return NULL;
}

static const char *set_lookup(Imp *im, ITable *t, const char *name, json_t **elems)
{
	(void)im;
	for (int i = 0; i < t->set_names.n; i++)
		if (!strcmp(t->set_names.v[i], name)) {
			*elems = t->set_elems.v[i];
			return t->set_names.v[i];
		}
	*elems = NULL;
	return NULL;
}

static RsSetType set_type(const char *s)
{
	if (s && !strcmp(s, "ipv4_addr"))
		return SETTYPE_IPV4;
	if (s && !strcmp(s, "ipv6_addr"))
		return SETTYPE_IPV6;
	if (s && !strcmp(s, "ifname"))
		return SETTYPE_IFNAME;
	if (s && !strcmp(s, "uid"))
		return SETTYPE_UID;
	return SETTYPE_SERVICE;
}

static FieldKind set_field(RsSetType t, Field *f)
{
	memset(f, 0, sizeof *f);
	f->known = true;
	switch (t) {
	case SETTYPE_IPV4: f->kind = FK_ADDR; f->fam = FAM_IP4; break;
	case SETTYPE_IPV6: f->kind = FK_ADDR; f->fam = FAM_IP6; break;
	case SETTYPE_IFNAME: f->kind = FK_IFNAME; break;
	case SETTYPE_UID: f->kind = FK_ID; f->max = 0xffffffffu; break;
	case SETTYPE_SERVICE: f->kind = FK_INT; f->max = 65535; break;
	default: BUG("set type %d", (int)t);
	}
	return f->kind;
}

/* A set or map object: kept by name; sets of a known type also go into
 * the table's RsSet list with their decoded elements. */
static void import_set(Imp *im, ITable *t, json_t *o, bool is_map)
{
	const char *name = jstr(o, "name"), *type = jstr(o, "type");
	json_t *elems = json_object_get(o, "elem"), *flags = json_object_get(o, "flags");
	RsSet s = { 0 };
	Values vals = { 0 };
	Field f;

	if (!name) {
		fail(im, "a set without a name%s", NULL);
		return;
	}
	vec_push(im->a, &t->set_names, arena_strdup(im->a, name));
	vec_push(im->a, &t->set_elems, elems);
	if (is_map || !type)
		return;
	s.name = arena_strdup(im->a, name);
	s.type = set_type(type);
	if (json_is_array(flags)) {
		size_t i;
		json_t *fl;

		json_array_foreach(flags, i, fl)
			if (json_is_string(fl) && !strcmp(json_string_value(fl), "interval"))
				s.interval = true;
	}
	set_field(s.type, &f);
	if (json_is_array(elems) && values(im, t, &f, elems, &vals, NULL, 0)) {
		s.elems = vals.v;
		s.n_elems = vals.n;
	}
	vec_push(im->a, &t->sets, s);
}

static void import_chain(Imp *im, ITable *t, json_t *o)
{
	RsChain c = { 0 };
	const char *name = jstr(o, "name"), *hook = jstr(o, "hook");
	const char *pol = jstr(o, "policy");
	json_t *prio = json_object_get(o, "prio");
	Rules none = { 0 };

	if (!name) {
		fail(im, "a chain without a name%s", NULL);
		return;
	}
	c.name = arena_strdup(im->a, name);
	c.type = jstr(o, "type") ? arena_strdup(im->a, jstr(o, "type")) : NULL;
	c.hook = hook_of(hook);
	/* a netdev egress chain: no hook of the IR, but a base chain (its
	 * type says so) that the prover names as not modelled */
	if (hook && c.hook == HOOK_NONE &&
	    !(t->family == RS_NETDEV && !strcmp(hook, "egress"))) {
		fail(im, "unknown hook '%s'", hook);
		return;
	}
	if (json_is_integer(prio) && json_integer_value(prio) > -100000000 &&
	    json_integer_value(prio) < 100000000)
		c.priority = (int)json_integer_value(prio);
	c.policy = pol && !strcmp(pol, "drop") ? VERDICT_DROP : VERDICT_ACCEPT;
	if (jstr(o, "comment"))
		c.comment = arena_strdup(im->a, jstr(o, "comment"));
	vec_push(im->a, &t->chains, c);
	vec_push(im->a, &t->rules, none);
}

static void import_table(Imp *im, json_t *o)
{
	ITable t = { 0 };
	const char *name = jstr(o, "name");

	if (!family_of(jstr(o, "family"), &t.family) || !name) {
		fail(im, "a table without a known family and a name%s", NULL);
		return;
	}
	if (find_table(im, o)) {
		fail(im, "table %s listed twice", name);
		return;
	}
	t.name = arena_strdup(im->a, name);
	vec_push(im->a, &im->tables, t);
}

/* Rules of rule object o go to its chain. */
static void place_rule(Imp *im, json_t *o)
{
	ITable *t = find_table(im, o);
	const char *chain = jstr(o, "chain");

	if (!t || !chain) {
		fail(im, "a rule of an unknown table or chain '%s'", chain);
		return;
	}
	for (int i = 0; i < t->chains.n; i++)
		if (!strcmp(t->chains.v[i].name, chain)) {
			import_rule(im, t, &t->rules.v[i], o);
			return;
		}
	fail(im, "a rule of unknown chain '%s'", chain);
}

/* Walk the list in three passes: tables, then sets and chains, then rules. */
static void import_all(Imp *im, json_t *list)
{
	for (int pass = 0; pass < 3 && !im->failed; pass++) {
		size_t i;
		json_t *it;

		json_array_foreach(list, i, it) {
			json_t *o;
			ITable *t;

			if (!json_is_object(it)) {
				fail(im, "an element of \"nftables\" is not an object%s", NULL);
				return;
			}
			if (pass == 0 && (o = json_object_get(it, "table")))
				import_table(im, o);
			if (pass == 1 && (o = json_object_get(it, "chain"))) {
				if ((t = find_table(im, o)))
					import_chain(im, t, o);
				else
					fail(im, "chain of an unknown table '%s'", jstr(o, "table"));
			}
			if (pass == 1 && ((o = json_object_get(it, "set")) ||
					  (o = json_object_get(it, "map")))) {
				if ((t = find_table(im, o)))
					import_set(im, t, o, json_object_get(it, "map") != NULL);
				else
					fail(im, "set of an unknown table '%s'", jstr(o, "table"));
			}
			if (pass == 2 && (o = json_object_get(it, "rule")))
				place_rule(im, o);
			if (im->failed)
				return;
		}
	}
}

/* Does a jump or goto from chain c lead back to a chain on the path
 * (color 1)? color: 0 unseen, 1 on the path, 2 done. */
static bool has_loop(const RsTable *t, int c, char *color, int depth)
{
	const RsChain *ch = &t->chains[c];

	if (depth > 64)
		return true;
	color[c] = 1;
	for (int r = 0; r < ch->n_rules; r++) {
		const char *tg = ch->rules[r].target;
		int k;

		if (!tg)
			continue;
		k = (int)(rs_chain(t, tg) - t->chains);
		if (color[k] == 1 || (color[k] == 0 && has_loop(t, k, color, depth + 1)))
			return true;
	}
	color[c] = 2;
	return false;
}

/* Check jump targets and move everything into the Ruleset. */
static Ruleset *finish(Imp *im)
{
	Ruleset *rs = arena_alloc(im->a, sizeof *rs);

	rs->arena = im->a;
	rs->n_tables = im->tables.n;
	rs->tables = arena_alloc(im->a, (size_t)(im->tables.n + 1) * sizeof(RsTable));
	for (int i = 0; i < im->tables.n; i++) {
		ITable *t = &im->tables.v[i];
		RsTable *o = &rs->tables[i];

		o->family = t->family;
		o->name = t->name;
		o->sets = t->sets.v;
		o->n_sets = t->sets.n;
		o->chains = t->chains.v;
		o->n_chains = t->chains.n;
		for (int c = 0; c < t->chains.n; c++) {
			t->chains.v[c].rules = t->rules.v[c].v;
			t->chains.v[c].n_rules = t->rules.v[c].n;
		}
		for (int c = 0; c < t->chains.n; c++)
			for (int r = 0; r < t->chains.v[c].n_rules; r++) {
				const char *tg = t->chains.v[c].rules[r].target;

				if (tg && !rs_chain(o, tg)) {
					fail(im, "a jump to unknown chain '%s'", tg);
					return NULL;
				}
			}
		if (o->n_chains) {
			char *color = arena_alloc(im->a, (size_t)o->n_chains);

			for (int c = 0; c < o->n_chains; c++)
				if (!color[c] && has_loop(o, c, color, 0)) {
					fail(im, "chain '%s' can jump back into itself (a loop nft refuses)",
					     o->chains[c].name);
					return NULL;
				}
		}
	}
	return rs;
}

Ruleset *import_nft_json(Arena *a, const char *text, size_t len, Buf *err)
{
	Imp im = { .a = a, .err = err };
	json_error_t je;
	json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
	json_t *list;
	Ruleset *rs = NULL;

	if (!root) {
		buf_printf(err, "line %d column %d: %s", je.line, je.column, je.text);
		return NULL;
	}
	list = json_is_object(root) ? json_object_get(root, "nftables") : NULL;
	if (!json_is_array(list)) {
		buf_puts(err, "not `nft -j list ruleset` output: no \"nftables\" array");
		json_decref(root);
		return NULL;
	}
	import_all(&im, list);
	if (!im.failed)
		rs = finish(&im);
	json_decref(root);
	return im.failed ? NULL : rs;
}
