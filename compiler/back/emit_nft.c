/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * emit_nft.c: the Ruleset IR as nft text, for `nft -f`.
 *
 * The layout is the one `nft list ruleset` prints (tabs, a blank line
 * between sets and chains, `priority filter`, `tcp dport 8080` for an
 * L4PROTO match followed by a port match, `ip saddr` for an NFPROTO match
 * followed by an address match), so a listing of the loaded table reads
 * the same. Each table is preceded by an empty declaration and a delete,
 * which makes loading the file replace the table in one transaction
 * (loading it twice leaves one copy). Nothing depends on the time or the
 * machine: the same Ruleset gives the same bytes.
 */
#include "back.h"

#include <arpa/inet.h>

enum { NFPROTO_V4 = 2, NFPROTO_V6 = 10 };

/* ---- values ---- */

/* A quoted nft string; the characters nft cannot quote become '_'. */
/* s with every byte nft cannot hold in a quoted string or a comment line
 * (quote, backslash, control bytes, non-ASCII) replaced by '_'. */
static void emit_safe_text(const char *s, Buf *out)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		buf_printf(out, "%c", c == '"' || c == '\\' || c < 0x20 || c >= 0x7f ? '_' : c);
	}
}

/* s as an nft quoted string. */
static void emit_string(const char *s, Buf *out)
{
	buf_puts(out, "\"");
	emit_safe_text(s, out);
	buf_puts(out, "\"");
}

/* see fpc.h */
void emit_nft_addr(AddrFamily fam, const uint8_t *a, Buf *out)
{
	char s[INET6_ADDRSTRLEN];

	if (!inet_ntop(fam == FAM_IP4 ? AF_INET : AF_INET6, a, s, sizeof s))
		BUG("inet_ntop failed");
	buf_puts(out, s);
}

/* The prefix length lo..hi spans, or -1 when it is not a prefix. */
static int range_prefix_len(const RsValue *v)
{
	int bytes = v->fam == FAM_IP4 ? 4 : 16, len = 0;

	while (len < 8 * bytes) {
		int i = len / 8, bit = 0x80 >> (len % 8);

		if ((v->addr_lo[i] & bit) != (v->addr_hi[i] & bit))
			break;
		len++;
	}
	for (int b = len; b < 8 * bytes; b++) {
		int i = b / 8, bit = 0x80 >> (b % 8);

		if ((v->addr_lo[i] & bit) || !(v->addr_hi[i] & bit))
			return -1;
	}
	return len;
}

/* An address value: "a", "a/len" or "lo-hi". */
static void emit_addr_value(const RsValue *v, Buf *out)
{
	int len = range_prefix_len(v);

	emit_nft_addr(v->fam, v->addr_lo, out);
	if (len < 0) {
		buf_puts(out, "-");
		emit_nft_addr(v->fam, v->addr_hi, out);
	} else if (len < (v->fam == FAM_IP4 ? 32 : 128)) {
		buf_printf(out, "/%d", len);
	}
}

/* see fpc.h */
const char *emit_nft_l4proto_name(uint64_t p)
{
	switch (p) {
	case 1: return "icmp";
	case 6: return "tcp";
	case 17: return "udp";
	case 58: return "ipv6-icmp";
	default: return NULL;
	}
}

/* `ct state` bit names, in nft's order. */
static void emit_ctstate(uint64_t mask, Buf *out)
{
	static const struct { uint64_t bit; const char *name; } bits[] = {
		{ 1, "invalid" }, { 2, "established" }, { 4, "related" },
		{ 8, "new" }, { 64, "untracked" },
	};
	bool first = true;

	for (size_t i = 0; i < sizeof bits / sizeof *bits; i++) {
		if (!(mask & bits[i].bit))
			continue;
		buf_printf(out, "%s%s", first ? "" : ",", bits[i].name);
		first = false;
		mask &= ~bits[i].bit;
	}
	if (mask || first)
		buf_printf(out, "%s0x%llx", first ? "" : ",", (unsigned long long)mask);
}

/* see fpc.h */
void emit_nft_value(RsKey key, const RsValue *v, Buf *out)
{
	switch (v->kind) {
	case VAL_INT:
		if (key == KEY_CTSTATE) {
			emit_ctstate(v->lo, out);
		} else if (key == KEY_NFPROTO && v->lo == v->hi &&
			   (v->lo == NFPROTO_V4 || v->lo == NFPROTO_V6)) {
			buf_puts(out, v->lo == NFPROTO_V4 ? "ipv4" : "ipv6");
		} else if (key == KEY_L4PROTO && v->lo == v->hi && emit_nft_l4proto_name(v->lo)) {
			buf_puts(out, emit_nft_l4proto_name(v->lo));
		} else {
			buf_printf(out, "%llu", (unsigned long long)v->lo);
			if (v->hi != v->lo)
				buf_printf(out, "-%llu", (unsigned long long)v->hi);
		}
		break;
	case VAL_ADDR:
		emit_addr_value(v, out);
		break;
	case VAL_IFNAME:
		buf_printf(out, "\"%s%s\"", v->name, v->wildcard ? "*" : "");
		break;
	case VAL_USER:	/* quoted: a user may be named like a keyword (list) */
		emit_string(v->name, out);
		break;
	default:
		BUG("value kind %d", v->kind);
	}
}

/* A value's element comment (a merged rule's provenance), if any. */
static void emit_elem_comment(const RsValue *v, Buf *out)
{
	if (v->prov && v->prov->comment) {
		buf_puts(out, " comment ");
		emit_string(v->prov->comment, out);
	}
}

/* Element i of a lookup match: its value (a concatenation's `a . b . c`),
 * its comment, and a map's verdict. */
static void emit_elem(const RsMatch *m, int i, Buf *out)
{
	int n = m->n_cat ? m->n_cat : 1;

	for (int k = 0; k < n; k++) {
		if (k)
			buf_puts(out, " . ");
		emit_nft_value(m->n_cat ? m->cat[k] : m->key, &m->vals[i * n + k], out);
	}
	emit_elem_comment(&m->vals[i * n], out);
	if (m->vmap)
		buf_printf(out, " : %s", emit_nft_verdict_name(m->vmap[i]));
}

/* A lookup's elements: `{ a comment "...", b }`, a verdict map's
 * `vmap { a comment "..." : accept, b : drop }`. */
static void emit_lookup(const RsMatch *m, Buf *out)
{
	buf_puts(out, m->vmap ? "vmap { " : "{ ");
	for (int i = 0; i < m->n_vals; i++) {
		if (i)
			buf_puts(out, ", ");
		emit_elem(m, i, out);
	}
	buf_puts(out, " }");
}

/* The values of a match: `@set`, one value, `{ a, b }` or a verdict map. */
static void emit_values(const RsMatch *m, Buf *out)
{
	if (m->vmap || m->n_cat) {
		emit_lookup(m, out);
		return;
	}
	if (m->set) {
		buf_printf(out, "@%s", m->set);
		return;
	}
	if (m->n_vals == 1) {
		emit_nft_value(m->key, &m->vals[0], out);
		return;
	}
	buf_puts(out, "{ ");
	for (int i = 0; i < m->n_vals; i++) {
		if (i)
			buf_puts(out, ", ");
		emit_nft_value(m->key, &m->vals[i], out);
		emit_elem_comment(&m->vals[i], out);
	}
	buf_puts(out, " }");
}

/* ---- matches ---- */

/* The single, positive int value of m, or -1. */
static long single_int(const RsMatch *m)
{
	if (m->neg || m->set || m->n_vals != 1 || m->vals[0].kind != VAL_INT ||
	    m->vals[0].lo != m->vals[0].hi)
		return -1;
	return (long)m->vals[0].lo;
}

/* Are all values of m addresses of family fam? */
static bool addrs_of(const RsMatch *m, AddrFamily fam)
{
	for (int i = 0; i < m->n_vals; i++)
		if (m->vals[i].kind != VAL_ADDR || m->vals[i].fam != fam)
			return false;
	return m->n_vals > 0;
}

/* Does concatenation c (from its values) have a key that states
 * protocol match p by itself (`tcp dport` states tcp, `ip saddr` ipv4)? */
static bool cat_implies(const RsMatch *c, const RsMatch *p)
{
	long v = single_int(p);

	for (int k = 0; k < c->n_cat; k++) {
		RsKey key = c->cat[k];
		const RsValue *x = c->n_vals ? &c->vals[k] : NULL;

		if (p->key == KEY_L4PROTO && (v == 6 || v == 17) &&
		    (key == KEY_SPORT || key == KEY_DPORT))
			return true;
		if (p->key == KEY_NFPROTO && x && x->kind == VAL_ADDR &&
		    (key == KEY_SADDR || key == KEY_DADDR) &&
		    (int)x->fam == (v == NFPROTO_V4 ? (int)FAM_IP4 : v == NFPROTO_V6 ? (int)FAM_IP6 : -1))
			return true;
	}
	return false;
}

/* Is ms[i] a protocol match that the next match (ports, addresses)
 * states by itself, as `tcp dport` and `ip saddr` do (the protocol matches
 * right before a concatenation, when one of its keys states them)? */
static bool implied_by_next(const RsMatch *ms, int n, int i)
{
	const RsMatch *next = i + 1 < n ? &ms[i + 1] : NULL;
	long v = single_int(&ms[i]);

	if (!next)
		return false;
	for (int j = i + 1; j < n; j++) {
		if (ms[j].n_cat)
			return v >= 0 && cat_implies(&ms[j], &ms[i]);
		if (ms[j].key != KEY_L4PROTO && ms[j].key != KEY_NFPROTO)
			break;
	}
	if (ms[i].key == KEY_L4PROTO)
		return (v == 6 || v == 17) &&
		       (next->key == KEY_SPORT || next->key == KEY_DPORT);
	if (ms[i].key == KEY_NFPROTO)
		return (next->key == KEY_SADDR || next->key == KEY_DADDR) &&
		       ((v == NFPROTO_V4 && addrs_of(next, FAM_IP4)) ||
			(v == NFPROTO_V6 && addrs_of(next, FAM_IP6)));
	return false;
}

/* The protocol of the last L4PROTO match before ms[i]: "tcp", "udp", or
 * "th" (transport header) when it is not one of them. */
static const char *port_proto(const RsMatch *ms, int i)
{
	while (--i >= 0) {
		if (ms[i].key != KEY_L4PROTO)
			continue;
		switch (single_int(&ms[i])) {
		case 6: return "tcp";
		case 17: return "udp";
		default: return "th";
		}
	}
	return "th";
}

/* see fpc.h */
const char *emit_nft_key_name(RsKey key, bool v6, const char *l4)
{
	bool tcp = !strcmp(l4, "tcp"), udp = !strcmp(l4, "udp");

	switch (key) {
	case KEY_IIFNAME: return "iifname";
	case KEY_OIFNAME: return "oifname";
	case KEY_NFPROTO: return "meta nfproto";
	case KEY_L4PROTO: return "meta l4proto";
	case KEY_SADDR: return v6 ? "ip6 saddr" : "ip saddr";
	case KEY_DADDR: return v6 ? "ip6 daddr" : "ip daddr";
	case KEY_SPORT: return tcp ? "tcp sport" : udp ? "udp sport" : "th sport";
	case KEY_DPORT: return tcp ? "tcp dport" : udp ? "udp dport" : "th dport";
	case KEY_SKUID: return "meta skuid";
	case KEY_SKGID: return "meta skgid";
	case KEY_CTSTATE: return "ct state";
	case KEY_UNKNOWN: return NULL;
	default: BUG("match key %d", key);
	}
}

/* Print ms[i] (nothing when the next match implies it), space first. */
static void emit_match(const RsMatch *ms, int n, int i, Buf *out)
{
	const char *lhs;

	if (implied_by_next(ms, n, i))
		return;
	if (ms[i].n_cat) {	/* `iifname . ip saddr . tcp dport` */
		for (int k = 0; k < ms[i].n_cat; k++) {
			const RsValue *x = &ms[i].vals[k];

			buf_printf(out, "%s%s", k ? " . " : " ",
				   emit_nft_key_name(ms[i].cat[k], x->kind == VAL_ADDR &&
						     x->fam == FAM_IP6, port_proto(ms, i)));
		}
		buf_puts(out, " ");
		emit_values(&ms[i], out);
		return;
	}
	lhs = emit_nft_key_name(ms[i].key, addrs_of(&ms[i], FAM_IP6),
				port_proto(ms, i));
	if (!lhs) {
		buf_printf(out, " %s", ms[i].unknown ? ms[i].unknown : "unknown");
		return;
	}
	buf_printf(out, " %s%s ", lhs, ms[i].neg ? " !=" : "");
	emit_values(&ms[i], out);
}

/* see fpc.h */
const char *emit_nft_verdict_name(RsVerdictKind v)
{
	switch (v) {
	case VERDICT_CONTINUE: return NULL;
	case VERDICT_ACCEPT: return "accept";
	case VERDICT_DROP: return "drop";
	case VERDICT_REJECT: return "reject";
	case VERDICT_JUMP: return "jump";
	case VERDICT_GOTO: return "goto";
	case VERDICT_RETURN: return "return";
	default: BUG("verdict %d", v);
	}
}

/* The address family a rule is limited to (an NFPROTO match, or the
 * addresses it matches), or 0. */
static int rule_family(const RsRule *r)
{
	for (int i = 0; i < r->n_matches; i++) {
		const RsMatch *m = &r->matches[i];
		long v = single_int(m);

		if (m->key == KEY_NFPROTO && (v == NFPROTO_V4 || v == NFPROTO_V6))
			return v == NFPROTO_V4 ? FAM_IP4 : FAM_IP6;
		if ((m->key == KEY_SADDR || m->key == KEY_DADDR) && !m->neg)
			return addrs_of(m, FAM_IP4) ? FAM_IP4 :
			       addrs_of(m, FAM_IP6) ? FAM_IP6 : 0;
	}
	return 0;
}

/* What a reject sends, as nft lists it: a plain `reject` in a rule limited
 * to one family is ICMP (ICMPv6) port unreachable, otherwise icmpx. */
static void emit_reject(const RsRule *r, Buf *out)
{
	switch (r->reject) {
	case REJECT_DEFAULT:
		switch (rule_family(r)) {
		case FAM_IP4: buf_puts(out, " with icmp port-unreachable"); break;
		case FAM_IP6: buf_puts(out, " with icmpv6 port-unreachable"); break;
		default: break;
		}
		break;
	case REJECT_TCP_RESET:
		buf_puts(out, " with tcp reset");
		break;
	default:
		BUG("reject kind %d", r->reject);
	}
}

/* One rule on one line: matches, counter, verdict, comment. */
static void emit_rule(const RsRule *r, Buf *out)
{
	const char *verdict = emit_nft_verdict_name(r->verdict);
	Buf line = { 0 };	/* every item is appended with a space before it */

	for (int i = 0; i < r->n_matches; i++)
		emit_match(r->matches, r->n_matches, i, &line);
	if (r->counter)
		buf_puts(&line, " counter");
	if (verdict)
		buf_printf(&line, " %s", verdict);
	if (r->verdict == VERDICT_REJECT)
		emit_reject(r, &line);
	if (r->verdict == VERDICT_JUMP || r->verdict == VERDICT_GOTO)
		buf_printf(&line, " %s", r->target);
	if (r->comment) {
		buf_puts(&line, " comment ");
		emit_string(r->comment, &line);
	}
	buf_printf(out, "\t\t%s\n", line.len ? line.data + 1 : "");
	buf_free(&line);
}

/* ---- sets, chains, tables ---- */

/* The nft type of a set's elements. */
static const char *settype_name(RsSetType t)
{
	switch (t) {
	case SETTYPE_IFNAME: return "ifname";
	case SETTYPE_IPV4: return "ipv4_addr";
	case SETTYPE_IPV6: return "ipv6_addr";
	case SETTYPE_SERVICE: return "inet_service";
	case SETTYPE_UID: return "uid";
	default: BUG("set type %d", t);
	}
}

/* The key whose values a set of type t holds (how ints print). */
static RsKey settype_key(RsSetType t)
{
	return t == SETTYPE_UID ? KEY_SKUID : t == SETTYPE_SERVICE ? KEY_DPORT :
	       t == SETTYPE_IFNAME ? KEY_IIFNAME : KEY_SADDR;
}

/* How many elements nft prints on one line of a set of type t (it goes by
 * the width of the type: 128 bits one, 32 bits two, 16 bits five). */
static int elements_per_line(RsSetType t)
{
	switch (t) {
	case SETTYPE_IFNAME:
	case SETTYPE_IPV6:
		return 1;
	case SETTYPE_IPV4:
	case SETTYPE_UID:
		return 2;
	case SETTYPE_SERVICE:
		return 5;
	default:
		BUG("set type %d", t);
	}
}

/* `elements = { a, b, ... }`, wrapped as `nft list` wraps it. */
static void emit_elements(const RsSet *s, Buf *out)
{
	int per_line = elements_per_line(s->type);

	buf_puts(out, "\t\telements = { ");
	for (int i = 0; i < s->n_elems; i++) {
		if (i > 0)
			buf_puts(out, i % per_line ? ", " : ",\n\t\t\t     ");
		emit_nft_value(settype_key(s->type), &s->elems[i], out);
	}
	buf_puts(out, " }\n");
}

/* A named set block: type, flags, comment, elements. */
static void emit_set(const RsSet *s, Buf *out)
{
	buf_printf(out, "\tset %s {\n\t\ttype %s\n", s->name, settype_name(s->type));
	if (s->interval)
		buf_puts(out, "\t\tflags interval\n");
	if (s->comment) {
		buf_puts(out, "\t\tcomment ");
		emit_string(s->comment, out);
		buf_puts(out, "\n");
	}
	if (s->n_elems > 0)
		emit_elements(s, out);
	buf_puts(out, "\t}\n");
}

/* nft's name for the filter priority 0, or the number. */
static void emit_priority(int prio, Buf *out)
{
	if (prio == 0)
		buf_puts(out, "filter");
	else
		buf_printf(out, "%d", prio);
}

/* A chain block: its hook line (base chains) and one line per rule. */
static void emit_chain(const RsChain *c, Buf *out)
{
	buf_printf(out, "\tchain %s {\n", c->name);
	if (c->comment) {
		buf_puts(out, "\t\tcomment ");
		emit_string(c->comment, out);
		buf_puts(out, "\n");
	}
	if (c->hook != HOOK_NONE) {
		buf_printf(out, "\t\ttype %s hook %s priority ",
			   c->type ? c->type : "filter", rs_hook_name(c->hook));
		emit_priority(c->priority, out);
		buf_printf(out, "; policy %s;\n", emit_nft_verdict_name(c->policy));
	}
	for (int i = 0; i < c->n_rules; i++)
		emit_rule(&c->rules[i], out);
	buf_puts(out, "\t}\n");
}

/* The lines between `table F NAME {` and its `}`. */
static void emit_table_body(const RsTable *t, Buf *out)
{
	bool first = true;

	for (int i = 0; i < t->n_sets; i++, first = false) {
		if (!first)
			buf_puts(out, "\n");
		emit_set(&t->sets[i], out);
	}
	for (int i = 0; i < t->n_chains; i++, first = false) {
		if (!first)
			buf_puts(out, "\n");
		emit_chain(&t->chains[i], out);
	}
}

/* The delete preamble, then the table block. */
static void emit_table(const RsTable *t, Buf *out)
{
	const char *fam = rs_family_name(t->family);

	buf_printf(out, "table %s %s\ndelete table %s %s\n", fam, t->name, fam,
		   t->name);
	buf_printf(out, "table %s %s {\n", fam, t->name);
	emit_table_body(t, out);
	buf_puts(out, "}\n");
}

void emit_nft(const Ruleset *rs, Buf *out)
{
	for (int i = 0; i < rs->n_tables; i++) {
		if (i)
			buf_puts(out, "\n");
		emit_table(&rs->tables[i], out);
	}
}

void emit_nft_body(const Ruleset *rs, Buf *out)
{
	if (rs->n_tables > 0)
		emit_table_body(&rs->tables[0], out);
}

/* The header names the policy and the compiler, never the time or host. */
int emit_nft_artifact(const Policy *p, const Ruleset *rs, Buf *out)
{
	const char *slash = strrchr(p->file, '/');

	buf_printf(out, "# Generated by fpc %s from ", FPC_VERSION);
	emit_safe_text(slash ? slash + 1 : p->file, out);
	buf_printf(out, " (policy %s). Do not edit.\n", p->name);
	buf_puts(out, "# Load with `nft -f`: the `table` and `delete table` lines before the\n"
		      "# table make the load replace it in one transaction.\n");
	emit_nft(rs, out);
	return 0;
}

int emit_nft_body_artifact(const Policy *p, const Ruleset *rs, Buf *out)
{
	(void)p;
	emit_nft_body(rs, out);
	return 0;
}
