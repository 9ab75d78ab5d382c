/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * prove.c: prove a policy's invariants and trust table on a Ruleset.
 *
 * The packets of a source to a tcp/udp service are boxes (classes.h): one
 * per via clause, address family and path. `via "wg0" from 10.0.0.2`
 * arrives from the network on wg0 from that address; `via user NAME` is
 * sent by a local process of that uid (output hook, oif lo) and comes back
 * on lo with no socket (input hook); `via any` is every packet of both
 * kinds. A `via from ADDR` with no interface (or with a pattern lo
 * matches) is both kinds too: from the network, and sent by any local
 * process from ADDR, since its input rule sees those on lo. A new connection (ct state new) to the service's port, and to its
 * `on` address when it has one, reaches the service when every hook on
 * its path accepts it.
 *
 * The packets of a source to an egress service leave the host: forwarded
 * (in on its interfaces, from its addresses; prerouting, forward,
 * postrouting), or sent out by its users' processes and, for clauses that
 * cover lo, by any local process from its addresses (output, postrouting).
 *
 * An invariant clause `S cannot reach X` holds when no packet of any via of
 * S is accepted; `S can reach X` when all are. An allow or deny cell (S, X)
 * claims the packets of S that no row above S with a cell in column X
 * claims (egress: in any egress column, and no more specific egress cell of
 * its own row): all of them accepted (allow) or none (deny), and for an
 * allow the replies of those connections (ct state established, the way
 * back) accepted too. `-` claims nothing. With a container block, the
 * block's source cannot reach the tcp service "api" fp-apid serves: an
 * invariant every policy has (prove_all_invariants).
 * A KEY_UNKNOWN expression may match or not: a proof that needs it to go
 * one way fails as "cannot be proved", naming it.
 */
#include "classes.h"

void packet_init(Packet *pkt)
{
	memset(pkt, 0, sizeof *pkt);
	pkt->path = PKT_NET;
	pkt->iifname = "";
	pkt->oifname = "";
	pkt->fam = FAM_IP4;
	pkt->l4proto = 6;
	pkt->sport = 40000;
	pkt->uid = pkt->gid = -1;
	pkt->ctstate = 8;
}

/* ---- printing ---- */

static const char *proto_name(uint64_t p)
{
	switch (p) {
	case 1: return "icmp";
	case 6: return "tcp";
	case 17: return "udp";
	case 58: return "icmpv6";
	case 132: return "sctp";
	default: return NULL;
	}
}

static void print_ctstate(Buf *out, int mask)
{
	static const char *const names[] = { "invalid", "established",
		"related", "new", "bit4", "bit5", "untracked", "bit7" };
	bool first = true;

	for (int b = 0; b < 8; b++)
		if (mask & (1 << b)) {
			buf_printf(out, "%s%s", first ? "" : ",", names[b]);
			first = false;
		}
}

/* "tcp 10.0.0.2:40000 -> 10.0.0.1:8080, ct state new, arriving on wg0" */
void prove_print_packet(const Packet *pkt, Buf *out)
{
	const char *pn = proto_name((uint64_t)pkt->l4proto);
	bool v6 = pkt->fam == FAM_IP6;
	bool ports = pkt->l4proto == 6 || pkt->l4proto == 17;

	if (pn)
		buf_printf(out, "%s ", pn);
	else
		buf_printf(out, "l4proto %d ", pkt->l4proto);
	buf_puts(out, v6 ? "[" : "");
	emit_nft_addr(pkt->fam, pkt->saddr, out);
	buf_puts(out, v6 ? "]" : "");
	if (ports)
		buf_printf(out, ":%d", pkt->sport);
	buf_puts(out, v6 ? " -> [" : " -> ");
	emit_nft_addr(pkt->fam, pkt->daddr, out);
	buf_puts(out, v6 ? "]" : "");
	if (ports)
		buf_printf(out, ":%d", pkt->dport);
	buf_puts(out, ", ct state ");
	print_ctstate(out, pkt->ctstate);
	if (pkt->path != PKT_LOCAL) {
		buf_printf(out, ", arriving on %s",
			   pkt->iifname && pkt->iifname[0] ? pkt->iifname : "(none)");
		if (pkt->path == PKT_FWD)
			buf_printf(out, ", forwarded out %s",
				   pkt->oifname && pkt->oifname[0] ? pkt->oifname : "(none)");
		return;
	}
	buf_puts(out, ", sent by a local process");
	if (pkt->uid >= 0)
		buf_printf(out, " of uid %ld%s%s%s", pkt->uid,
			   pkt->user ? " (" : "", pkt->user ? pkt->user : "",
			   pkt->user ? ")" : "");
	if (pkt->gid >= 0)
		buf_printf(out, " gid %ld%s%s%s", pkt->gid,
			   pkt->group ? " (" : "", pkt->group ? pkt->group : "",
			   pkt->group ? ")" : "");
	if (pkt->oifname && !strcmp(pkt->oifname, "lo"))
		buf_puts(out, ", out lo and arriving on lo");
	else
		buf_printf(out, ", out %s", pkt->oifname && pkt->oifname[0] ?
			   pkt->oifname : "(none)");
}

/* see classes.h */
void prove_print_prefix(const Prefix *p, Buf *out)
{
	emit_nft_addr(p->fam, p->addr, out);
	if (p->len != (p->fam == FAM_IP4 ? 32 : 128))
		buf_printf(out, "/%d", p->len);
}

/* see classes.h */
void prove_print_service(const Service *v, bool dests, Buf *out)
{
	switch (v->kind) {
	case SVC_TCP:
	case SVC_UDP:
		buf_printf(out, "%s %d", v->kind == SVC_TCP ? "tcp" : "udp", v->port_lo);
		if (v->port_hi != v->port_lo)
			buf_printf(out, "-%d", v->port_hi);
		if (v->has_listen) {
			buf_puts(out, " on ");
			prove_print_prefix(&v->listen, out);
		}
		break;
	case SVC_UNIX:
		buf_printf(out, "unix \"%s\" owner %s:%s mode %04o", v->path,
			   v->owner, v->group, v->mode);
		break;
	case SVC_EGRESS:
		buf_puts(out, "egress");
		if (v->eproto) {
			buf_printf(out, " %s %d", v->eproto == 6 ? "tcp" : "udp", v->port_lo);
			if (v->port_hi != v->port_lo)
				buf_printf(out, "-%d", v->port_hi);
		}
		for (int i = 0; dests && i < v->n_dests; i++) {
			buf_puts(out, i ? ", " : " to ");
			prove_print_prefix(&v->dests[i], out);
		}
		break;
	default:
		BUG("service kind %d", (int)v->kind);
	}
}

/* A value as emit_nft prints it, but for prove's ct state and protocol
 * names and users in quotes. */
static void print_value(Buf *out, RsKey k, const RsValue *v)
{
	const char *n;

	if (v->kind == VAL_INT && k == KEY_CTSTATE)
		print_ctstate(out, (int)v->lo);
	else if (v->kind == VAL_INT && k == KEY_L4PROTO && v->lo == v->hi &&
		 (n = proto_name(v->lo)))
		buf_puts(out, n);
	else if (v->kind == VAL_USER)
		buf_printf(out, "\"%s\"", v->name);
	else
		emit_nft_value(k, v, out);
}

/* The l4 protocol name a port match of r is qualified with. */
static const char *port_proto(const RsRule *r)
{
	for (int i = 0; i < r->n_matches; i++) {
		const RsMatch *m = &r->matches[i];

		if (m->key == KEY_L4PROTO && !m->neg && m->n_vals == 1 &&
		    m->vals[0].lo == m->vals[0].hi &&
		    (m->vals[0].lo == 6 || m->vals[0].lo == 17))
			return m->vals[0].lo == 6 ? "tcp" : "udp";
	}
	return "th";
}

/* Does the text of an undecodable expression name the protocol that
 * dependency m stands for ("udp sport . udp dport" implies l4proto udp)? */
static bool unknown_implies(const RsMatch *m, const char *text)
{
	static const struct { RsKey k; uint64_t v; const char *p; } t[] = {
		{ KEY_L4PROTO, 6, "tcp " }, { KEY_L4PROTO, 17, "udp " },
		{ KEY_L4PROTO, 1, "icmp " }, { KEY_L4PROTO, 58, "icmpv6 " },
		{ KEY_NFPROTO, 2, "ip " }, { KEY_NFPROTO, 2, "icmp " },
		{ KEY_NFPROTO, 10, "ip6 " }, { KEY_NFPROTO, 10, "icmpv6 " },
	};

	for (size_t i = 0; i < sizeof t / sizeof *t; i++)
		if (m->key == t[i].k && m->vals[0].lo == t[i].v &&
		    m->vals[0].hi == t[i].v && !strncmp(text, t[i].p, strlen(t[i].p)))
			return true;
	return false;
}

/* Is m a protocol dependency that a later match of r already implies? */
static bool implied(const RsRule *r, int i)
{
	const RsMatch *m = &r->matches[i];

	if (m->neg || m->n_vals != 1)
		return false;
	for (int j = i + 1; j < r->n_matches; j++) {
		RsKey k = r->matches[j].key;

		if (m->key == KEY_NFPROTO && (k == KEY_SADDR || k == KEY_DADDR))
			return true;
		if (m->key == KEY_L4PROTO && (k == KEY_DPORT || k == KEY_SPORT) &&
		    strcmp(port_proto(r), "th"))
			return true;
		if (k == KEY_UNKNOWN && r->matches[j].unknown &&
		    unknown_implies(m, r->matches[j].unknown))
			return true;
	}
	return false;
}

/* The nft expression of m in r ("tcp dport"), "?" for an unknown one. */
static const char *key_name(const RsRule *r, const RsMatch *m)
{
	bool v6 = m->n_vals > 0 && m->vals[0].kind == VAL_ADDR &&
		m->vals[0].fam == FAM_IP6;

	return m->key == KEY_UNKNOWN ? "?" :
		emit_nft_key_name(m->key, v6, port_proto(r));
}

/* A verdict's keyword, "continue" included. */
static const char *verdict_name(RsVerdictKind v)
{
	return v == VERDICT_CONTINUE ? "continue" : emit_nft_verdict_name(v);
}

/* One rule in nft syntax (sets by name, dependencies left implicit). */
void prove_print_rule(const RsRule *r, Buf *out)
{
	const char *sep = "";

	for (int i = 0; i < r->n_matches; i++) {
		const RsMatch *m = &r->matches[i];

		if (implied(r, i))
			continue;
		buf_puts(out, sep);
		sep = " ";
		if (m->key == KEY_UNKNOWN) {
			buf_puts(out, m->unknown ? m->unknown : "(unknown)");
			continue;
		}
		buf_printf(out, "%s %s", key_name(r, m), m->neg ? "!= " : "");
		if (m->set) {
			buf_printf(out, "@%s", m->set);
			continue;
		}
		if (m->n_vals != 1)
			buf_puts(out, "{ ");
		for (int v = 0; v < m->n_vals; v++) {
			if (v)
				buf_puts(out, ", ");
			if (v == 8 && m->n_vals > 10) {
				buf_printf(out, "... %d more", m->n_vals - v);
				break;
			}
			print_value(out, m->key, &m->vals[v]);
		}
		if (m->n_vals != 1)
			buf_puts(out, " }");
	}
	if (r->counter) {
		buf_puts(out, sep);
		buf_puts(out, "counter");
		sep = " ";
	}
	if (r->verdict != VERDICT_CONTINUE) {
		buf_printf(out, "%s%s", sep, verdict_name(r->verdict));
		if (r->verdict == VERDICT_REJECT && r->reject == REJECT_TCP_RESET)
			buf_puts(out, " with tcp reset");
		if (r->target)
			buf_printf(out, " %s", r->target);
	}
}

/* Line `line` of p's text (without its newline) into out. */
static void policy_line(const Policy *p, int line, Buf *out)
{
	const char *s = p->text, *end = p->text + p->text_len;

	for (int l = 1; l < line && s < end; l++) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));

		s = nl ? nl + 1 : end;
	}
	const char *nl = memchr(s, '\n', (size_t)(end - s));
	const char *e = nl ? nl : end;

	while (s < e && (*s == ' ' || *s == '\t'))
		s++;
	buf_append(out, s, (size_t)(e - s));
}

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? s + 1 : path;
}

/* Does loc name p's file (by path or basename, as nft comments do)? */
static bool loc_in_policy(const Policy *p, const Loc *loc)
{
	return p && p->text && loc->file && loc->first_line > 0 &&
		(!strcmp(loc->file, p->file) ||
		 !strcmp(base_name(loc->file), base_name(p->file)));
}

/* "policies/default.fp:31: laptop allow allow" */
static void print_origin(const Policy *p, const Loc *loc, Buf *out)
{
	buf_printf(out, "%s:%d", loc_in_policy(p, loc) ? p->file : loc->file,
		   loc->first_line);
	if (loc_in_policy(p, loc)) {
		buf_puts(out, ": ");
		policy_line(p, loc->first_line, out);
	}
}

/* Was rule k of c read from the same kernel rule as rule k - 1 (the
 * elements of one verdict map share its handle)? */
static bool same_kernel_rule(const RsChain *c, int k)
{
	return k > 0 && (c->rules[k].elem > 1 || (c->rules[k].handle &&
		c->rules[k].handle == c->rules[k - 1].handle));
}

/* The position of rule i of c as nft lists it (1 first): rules of one
 * kernel rule share its position. */
static int rule_pos(const RsChain *c, int i)
{
	int pos = 1;

	for (int k = 1; k <= i; k++)
		if (!same_kernel_rule(c, k))
			pos++;
	return pos;
}

void prove_print_step(const Policy *p, const TraceStep *s, const char *ind,
		      Buf *out)
{
	buf_printf(out, "%s%s %s %s", ind, rs_family_name(s->table->family),
		   s->table->name, s->chain->name);
	if (!s->rule) {
		buf_printf(out, ": no rule matched, chain policy %s\n",
			   verdict_name(s->verdict));
		return;
	}
	buf_printf(out, " rule %d: ", rule_pos(s->chain, s->rule_index));
	prove_print_rule(s->rule, out);
	if (s->rule->handle)
		buf_printf(out, " # handle %llu", (unsigned long long)s->rule->handle);
	if (s->assumed)
		buf_printf(out, "  (assuming `%s` %s)",
			   s->assumed->unknown ? s->assumed->unknown : "?",
			   s->verdict == VERDICT_CONTINUE && s->rule->verdict !=
			   VERDICT_CONTINUE ? "does not match" : "matches");
	buf_puts(out, "\n");
	if (s->rule->origin.file) {
		buf_printf(out, "%s    from ", ind);
		print_origin(p, &s->rule->origin, out);
		if (s->rule->origin_what)
			buf_printf(out, "  (%s)", s->rule->origin_what);
		buf_puts(out, "\n");
	}
}

void prove_print_trace(const Policy *p, const Trace *tr, Buf *out)
{
	for (int i = 0; i < tr->n_steps; i++)
		prove_print_step(p, &tr->steps[i], "    ", out);
	if (tr->truncated)
		buf_puts(out, "    ...\n");
}

/* ---- one packet ---- */

typedef struct PacketRes {
	int mask;
	Trace *tr;
	bool have_accept;
} PacketRes;

static int packet_leaf(void *ctx, const Box *b, int outcome, const TNode *t,
		       int assumed)
{
	PacketRes *r = ctx;

	(void)b;
	(void)assumed;
	r->mask |= outcome;
	if (r->tr && !r->have_accept && (outcome == PROVE_ACCEPT ||
					 r->tr->n_steps == 0)) {
		trace_from_nodes(t, outcome, r->tr);
		r->have_accept = outcome == PROVE_ACCEPT;
	}
	return 0;
}

int prove_packet(const Ruleset *rs, const Packet *pkt, Trace *tr)
{
	Space *sp = space_new();
	PacketRes r = { 0, tr, false };
	CRuleset *crs;
	Box b;

	if (tr)
		memset(tr, 0, sizeof *tr);
	space_add_ruleset(sp, rs);
	space_add_packet(sp, pkt);
	space_seal(sp);
	crs = space_compile(sp, rs);
	space_box_of_packet(sp, pkt, &b);
	space_eval(sp, crs, &b, NULL, 0, packet_leaf, &r);
	space_free(sp);
	return r.mask;
}

/* ---- the packets of a source ---- */


/* The fields every box of service v in family fam shares; false when v
 * cannot be reached in that family (it listens on the other one). */
static bool service_box(Space *sp, const Service *v, AddrFamily fam, Box *b)
{
	int nfp = fam == FAM_IP4 ? 2 : 10;

	if (v->has_listen && v->listen.fam != fam)
		return false;
	memset(b, 0, sizeof *b);
	b->d[D_IIF] = sp_all(sp, D_IIF);
	b->d[D_OIF] = sp_all(sp, D_OIF);
	b->d[D_NFPROTO] = sp_int(sp, D_NFPROTO, (uint64_t)nfp, (uint64_t)nfp);
	b->d[D_L4PROTO] = sp_int(sp, D_L4PROTO, v->kind == SVC_UDP ? 17 : 6,
				 v->kind == SVC_UDP ? 17 : 6);
	b->d[D_SADDR] = sp_family(sp, D_SADDR, fam);
	b->d[D_DADDR] = v->has_listen ?
		sp_prefixes(sp, D_DADDR, &v->listen, 1, fam) :
		sp_family(sp, D_DADDR, fam);
	b->d[D_SPORT] = sp_all(sp, D_SPORT);
	b->d[D_DPORT] = sp_int(sp, D_DPORT, (uint64_t)v->port_lo,
			       (uint64_t)v->port_hi);
	b->d[D_SKUID] = sp_absent(sp, D_SKUID);
	b->d[D_SKGID] = sp_absent(sp, D_SKGID);
	b->d[D_CTSTATE] = sp_int(sp, D_CTSTATE, 3, 3);
	return true;
}

/* The fields every box of egress service v in family fam shares: a new
 * connection to its destinations (every address without `to`) and its
 * protocol and ports (any without), out any interface but lo; false when
 * v has destinations, none of family fam. */
static bool egress_box(Space *sp, const Service *v, AddrFamily fam, Box *b)
{
	int nfp = fam == FAM_IP4 ? 2 : 10;

	memset(b, 0, sizeof *b);
	b->d[D_DADDR] = v->n_dests ?
		sp_prefixes(sp, D_DADDR, v->dests, v->n_dests, fam) :
		sp_family(sp, D_DADDR, fam);
	if (iset_empty(b->d[D_DADDR]))
		return false;
	b->d[D_IIF] = sp_all(sp, D_IIF);
	b->d[D_OIF] = sp_ifs_but_lo(sp, D_OIF);
	b->d[D_NFPROTO] = sp_int(sp, D_NFPROTO, (uint64_t)nfp, (uint64_t)nfp);
	b->d[D_L4PROTO] = v->eproto ?
		sp_int(sp, D_L4PROTO, (uint64_t)v->eproto, (uint64_t)v->eproto) :
		sp_all(sp, D_L4PROTO);
	b->d[D_SADDR] = sp_family(sp, D_SADDR, fam);
	b->d[D_SPORT] = sp_all(sp, D_SPORT);
	b->d[D_DPORT] = v->eproto ?
		sp_int(sp, D_DPORT, (uint64_t)v->port_lo, (uint64_t)v->port_hi) :
		sp_all(sp, D_DPORT);
	b->d[D_SKUID] = sp_absent(sp, D_SKUID);
	b->d[D_SKGID] = sp_absent(sp, D_SKGID);
	b->d[D_CTSTATE] = sp_int(sp, D_CTSTATE, 3, 3);
	return true;
}

/* see classes.h */
bool if_pattern_match(const IfPattern *pat, const char *name)
{
	if (pat->wildcard)
		return !strncmp(name, pat->name, strlen(pat->name));
	return !strcmp(name, pat->name);
}

/* Does some packet a local process sends to this host (back in on lo)
 * match via clause `via`? Every `via user` and `via any` packet; a `via
 * from ADDR` with no interface or with a pattern lo matches: the input
 * rule it lowers to (`ip saddr ADDR accept`) sees those packets too. */
static bool via_on_lo(const Via *via)
{
	if (via->kind != VIA_NET || !via->n_ifaces)
		return true;
	for (int i = 0; i < via->n_ifaces; i++)
		if (if_pattern_match(&via->ifaces[i], "lo"))
			return true;
	return false;
}

/* The boxes of service v in IPv4 and IPv6 (have[f]: v is reachable in
 * that family). */
typedef struct SvcBoxes {
	Box b[2];
	bool have[2];
	bool egress;	/* of an egress service: forward and output hooks */
} SvcBoxes;

static const AddrFamily fams[] = { FAM_IP4, FAM_IP6 };

static void svc_boxes(Space *sp, const Service *v, SvcBoxes *sb)
{
	sb->egress = v->kind == SVC_EGRESS;
	for (int f = 0; f < 2; f++)
		sb->have[f] = v->kind == SVC_EGRESS ?
			egress_box(sp, v, fams[f], &sb->b[f]) :
			service_box(sp, v, fams[f], &sb->b[f]);
}

/* Service box sb->b[f] into *b and the sources via admits in that family
 * into *saddr; false when the service has no box in family f or via
 * admits no source of it. */
static bool via_family_box(Space *sp, const Via *via, const SvcBoxes *sb, int f,
			   Box *b, const ISet **saddr)
{
	if (!sb->have[f])
		return false;
	*b = sb->b[f];
	*saddr = via->kind == VIA_NET && via->n_addrs ?
		sp_prefixes(sp, D_SADDR, via->addrs, via->n_addrs, fams[f]) :
		b->d[D_SADDR];
	return !iset_empty(*saddr);
}

/* The socket owner of via's local packets into l: the user's uid for a
 * user clause, any owner (or none) otherwise; any group. */
static void local_owner(Space *sp, const Via *via, Box *l)
{
	uint64_t uid = via->kind == VIA_USER ? (uint64_t)space_uid_of(sp, via->user) : 0;

	l->d[D_SKUID] = via->kind != VIA_USER ? sp_all(sp, D_SKUID) :
		sp_int(sp, D_SKUID, uid, uid);
	l->d[D_SKGID] = sp_all(sp, D_SKGID);
}

/* The packets of one via clause to egress service sb, appended to out:
 * forwarded ones (interface, address and catch-all clauses; they cannot
 * arrive on lo) and those local processes send out (user clauses, and
 * clauses that cover lo). */
static void egress_via_boxes(Space *sp, Arena *a, const Via *via,
			     const SvcBoxes *sb, Boxes *out, Vias *vias)
{
	for (int f = 0; f < 2; f++) {
		const ISet *saddr;
		Box b;

		if (!via_family_box(sp, via, sb, f, &b, &saddr))
			continue;
		b.d[D_SADDR] = saddr;
		if (via->kind != VIA_USER) {
			Box n = b;

			n.path = PKT_FWD;
			n.d[D_IIF] = sp_ifs_but_lo(sp, D_IIF);
			if (via->kind == VIA_NET && via->n_ifaces)
				n.d[D_IIF] = iset_meet(sp, n.d[D_IIF],
					sp_ifpatterns(sp, D_IIF, via->ifaces, via->n_ifaces));
			if (!iset_empty(n.d[D_IIF])) {
				vec_push(a, out, n);
				vec_push(a, vias, via);
			}
		}
		if (via->kind == VIA_USER || (via->kind == VIA_NET && via_on_lo(via))) {
			Box l = b;

			l.path = PKT_LOCAL;
			local_owner(sp, via, &l);
			vec_push(a, out, l);
			vec_push(a, vias, via);
		}
	}
}

/* The replies of the connections of box b: addresses, ports and
 * interfaces swapped, ct state established, on the way back (a reply to
 * a packet from the network leaves from a local socket of any owner, or
 * none; one to a local process's packet out of the host comes in from
 * the network; a forwarded one is forwarded back). */
static void reply_box(Space *sp, const Box *b, Box *r)
{
	*r = *b;
	r->d[D_SADDR] = b->d[D_DADDR];
	r->d[D_DADDR] = b->d[D_SADDR];
	r->d[D_SPORT] = b->d[D_DPORT];
	r->d[D_DPORT] = b->d[D_SPORT];
	r->d[D_CTSTATE] = sp_int(sp, D_CTSTATE, 1, 1);
	switch (b->path) {
	case PKT_NET:
		r->path = PKT_LOCAL;
		r->d[D_OIF] = b->d[D_IIF];
		r->d[D_IIF] = sp_all(sp, D_IIF);
		r->d[D_SKUID] = sp_any_owner(sp, D_SKUID);
		r->d[D_SKGID] = sp_any_owner(sp, D_SKGID);
		break;
	case PKT_LOCAL:
		if (iset_empty(iset_meet(sp, b->d[D_OIF], sp_ifname(sp, D_OIF, "lo")))) {
			r->path = PKT_NET;
			r->d[D_IIF] = b->d[D_OIF];
			r->d[D_OIF] = sp_all(sp, D_OIF);
			r->d[D_SKUID] = sp_absent(sp, D_SKUID);
			r->d[D_SKGID] = sp_absent(sp, D_SKGID);
		} else {
			r->d[D_SKUID] = sp_any_owner(sp, D_SKUID);
			r->d[D_SKGID] = sp_any_owner(sp, D_SKGID);
		}
		break;
	case PKT_FWD:
		r->d[D_IIF] = b->d[D_OIF];
		r->d[D_OIF] = b->d[D_IIF];
		break;
	default:
		BUG("path %d", (int)b->path);
	}
}

/* The packets of one via clause to the service of sb, appended to out
 * (with their via). */
static void via_boxes(Space *sp, Arena *a, const Via *via, const SvcBoxes *sb,
		      Boxes *out, Vias *vias)
{
	for (int f = 0; f < 2; f++) {
		const ISet *saddr;
		Box b;

		if (!via_family_box(sp, via, sb, f, &b, &saddr))
			continue;
		if (via->kind == VIA_NET || via->kind == VIA_ANY) {
			Box n = b;

			n.path = PKT_NET;
			if (via->kind == VIA_NET && via->n_ifaces)
				n.d[D_IIF] = sp_ifpatterns(sp, D_IIF, via->ifaces,
							   via->n_ifaces);
			n.d[D_SADDR] = saddr;
			vec_push(a, out, n);
			vec_push(a, vias, via);
		}
		if (via_on_lo(via)) {
			Box l = b;

			l.path = PKT_LOCAL;
			l.d[D_OIF] = sp_ifname(sp, D_OIF, "lo");
			l.d[D_SADDR] = saddr;
			local_owner(sp, via, &l);
			vec_push(a, out, l);
			vec_push(a, vias, via);
		}
	}
}

/* ---- queries ---- */

/* What one proof looks for and what it found. */
typedef struct Query {
	Space *sp;
	const CRuleset *crs;
	int bad;		/* the outcome that refutes the claim */
	bool found;		/* a counterexample was found */
	bool definite;		/* ... that needs no assumption */
	bool blind;		/* ... accepted by what is modelled, but a chain
				   of an unmodelled table may drop it */
	bool reply;		/* ... is the reply of an allowed connection */
	Packet pkt;
	Trace tr;
	long classes;
} Query;

static int mask_leaf(void *ctx, const Box *b, int outcome, const TNode *t,
		     int assumed)
{
	(void)b;
	(void)t;
	(void)assumed;
	*(int *)ctx |= outcome;
	return 0;
}

/* Every outcome pkt can have, whichever way the undecodable expressions
 * on its path go. */
static int point_outcomes(Space *sp, const CRuleset *crs, const Packet *pkt)
{
	Box pb;
	int mask = 0;

	space_box_of_packet(sp, pkt, &pb);
	space_eval(sp, crs, &pb, NULL, 0, mask_leaf, &mask);
	return mask;
}

static int query_leaf(void *ctx, const Box *b, int outcome, const TNode *t,
		      int assumed)
{
	Query *q = ctx;
	Packet pkt;
	bool definite = assumed == 0;

	if (!(outcome & q->bad))
		return 0;
	if (q->found && (q->definite || assumed))
		return 0;
	space_packet_of_box(q->sp, b, &pkt);
	/* a path through assumptions: the example packet is a definite
	 * counterexample when it goes wrong whichever way they go */
	if (!definite && point_outcomes(q->sp, q->crs, &pkt) == q->bad)
		definite = true;
	q->found = true;
	q->definite = definite;
	q->pkt = pkt;
	trace_from_nodes(t, outcome, &q->tr);
	return q->definite;
}

/* Prove that no packet of boxes[0..n) outside excl is `bad`: returns true
 * when the claim holds; q has the counterexample otherwise, and *via_out
 * the via clause of its box. */
static bool query_run(Query *q, const CRuleset *crs, const Boxes *bx,
		      const Via *const *vias, const Boxes *excl,
		      const BoxIndex *ix, const Via **via_out)
{
	q->crs = crs;
	for (int i = 0; i < bx->n; i++) {
		q->classes += space_eval_ix(q->sp, crs, &bx->v[i], excl ? excl->v : NULL,
					    excl ? excl->n : 0, ix, NULL, 0, query_leaf, q);
		if (q->found && via_out && !*via_out)
			*via_out = vias[i];
		if (q->found && q->definite)
			return false;
	}
	return !q->found;
}

/* ---- tables the prover does not model ---- */

/* A base chain of a table of another family than inet, ip or ip6 that can
 * see, and may drop, packets of the paths in `paths` (a bit per PktPath):
 * a netdev ingress chain sees a packet arriving on its device (and one a
 * local process sends, back in on lo), an egress chain the packets sent
 * out of its device; a bridge chain sees the frames of a bridge's ports.
 * The importer does not keep the device, so every device is assumed. */
typedef struct Blind {
	const RsTable *t;
	const RsChain *c;
	int paths;
} Blind;

typedef VEC(Blind) Blinds;

static bool is_base_chain(const RsChain *c)
{
	return c->hook != HOOK_NONE || c->type;
}

/* The hook of base chain c, for reports (a netdev chain that is no
 * ingress chain is an egress one). */
static const char *blind_hook(const RsTable *t, const RsChain *c)
{
	if (c->hook != HOOK_NONE)
		return rs_hook_name(c->hook);
	return t->family == RS_NETDEV ? "egress" : "unknown";
}

/* The packet paths a base chain c of a table of family f sees: none for
 * arp, nor for a bridge's forward, output and postrouting hooks (frames
 * between its ports, or that this host sends). */
static int chain_paths(RsFamily f, const RsChain *c)
{
	if (f == RS_NETDEV)
		return 1 << PKT_NET | 1 << PKT_LOCAL | 1 << PKT_FWD;
	if (f != RS_BRIDGE || !c)
		return f == RS_BRIDGE ? 1 << PKT_NET | 1 << PKT_FWD : 0;
	return c->hook == HOOK_PREROUTING || c->hook == HOOK_INPUT ?
		1 << PKT_NET | 1 << PKT_FWD : 0;
}

/* Can chain ci of t end a packet's way, by itself or through the chains
 * it jumps to: a drop or reject, a base chain's drop policy, or a rule
 * with an undecodable part and a verdict (it may be `fwd`, `queue`, ...,
 * which the importer reads as an unknown accept)? seen: chains visited. */
static bool chain_may_drop(const RsTable *t, int ci, bool *seen)
{
	const RsChain *c = &t->chains[ci];

	if (seen[ci])
		return false;
	seen[ci] = true;
	if (is_base_chain(c) && c->policy == VERDICT_DROP)
		return true;
	for (int r = 0; r < c->n_rules; r++) {
		const RsRule *rl = &c->rules[r];
		const RsChain *to = rl->target ? rs_chain(t, rl->target) : NULL;

		if (rl->verdict == VERDICT_DROP || rl->verdict == VERDICT_REJECT)
			return true;
		if (rl->verdict == VERDICT_ACCEPT)
			for (int m = 0; m < rl->n_matches; m++)
				if (rl->matches[m].key == KEY_UNKNOWN)
					return true;
		if (to && chain_may_drop(t, (int)(to - t->chains), seen))
			return true;
	}
	return false;
}

/* The base chains of rs's unmodelled tables that may drop packets the
 * prover reasons about, into out (arena a); *paths: the paths they see. */
static void find_blind(Arena *a, const Ruleset *rs, Blinds *v, int *paths)
{
	*paths = 0;
	for (int t = 0; t < rs->n_tables; t++) {
		const RsTable *tb = &rs->tables[t];
		bool *seen;

		if (!chain_paths(tb->family, NULL))
			continue;
		seen = arena_alloc(a, (size_t)tb->n_chains + 1);
		for (int ch = 0; ch < tb->n_chains; ch++) {
			int fp = chain_paths(tb->family, &tb->chains[ch]);

			if (!is_base_chain(&tb->chains[ch]) || !fp)
				continue;
			memset(seen, 0, (size_t)tb->n_chains + 1);
			if (!chain_may_drop(tb, ch, seen))
				continue;
			vec_push(a, v, ((Blind){ tb, &tb->chains[ch], fp }));
			*paths |= fp;
		}
	}
}

/* ---- the report ---- */

/* The packets of one column of the trust table: the boxes of every row
 * with a cell in it, in row order. The k-th such row is source row[k],
 * its boxes bx[start[k]..start[k+1]), and the packets the rows above it
 * claim are bx[0..start[k]). Every column is built in one pass over the
 * table, which keeps the cell checks linear in the rows. */
typedef struct Column {
	Boxes bx;
	Vias vias;
	VEC(int) row;
	VEC(int) start;		/* one more entry than row */
	const BoxIndex *ix;	/* of bx */
	Boxes rbx;		/* the replies of bx, box by box */
	const BoxIndex *rix;	/* of rbx */
} Column;

typedef struct Ctx {
	const Policy *p;
	const Ruleset *rs;
	const ProveOpts *o;
	Space *sp;
	const CRuleset *crs;
	Arena *a;
	ProveStats *st;
	Column *cols;		/* per service, NULL until built */
	Blinds blind;		/* unmodelled base chains that may drop */
	int blind_paths;	/* the paths they see, a bit per PktPath */
} Ctx;

/* Set up the space and the compiled ruleset of c (columns come later,
 * when a cell is checked). */
static void ctx_init(Ctx *c, const Policy *p, const Ruleset *rs,
		     const ProveOpts *o, ProveStats *st)
{
	*c = (Ctx){ p, rs, o, space_new(), NULL, arena_new(), st, NULL, { 0 }, 0 };
	find_blind(c->a, rs, &c->blind, &c->blind_paths);
	space_add_ruleset(c->sp, rs);
	space_add_policy(c->sp, p);
	space_seal(c->sp);
	c->crs = space_compile(c->sp, rs);
}

static void ctx_free(Ctx *c)
{
	space_free(c->sp);
	arena_free(c->a);
}

/* The boxes of source s to the service of sb. */
static void boxes_of(Space *sp, Arena *a, const Source *s, const SvcBoxes *sb,
		     Boxes *out, Vias *vias)
{
	for (int i = 0; i < s->n_vias; i++)
		if (sb->egress)
			egress_via_boxes(sp, a, &s->vias[i], sb, out, vias);
		else
			via_boxes(sp, a, &s->vias[i], sb, out, vias);
}

void prove_source_boxes(Space *sp, Arena *a, const Source *s, const Service *v,
			Boxes *out, Vias *vias)
{
	SvcBoxes sb;

	svc_boxes(sp, v, &sb);
	boxes_of(sp, a, s, &sb, out, vias);
}

/* The boxes of source s to service v (and each one's via clause). */
static void source_boxes(Ctx *c, const Source *s, const Service *v, Boxes *out,
			 Vias *vias)
{
	prove_source_boxes(c->sp, c->a, s, v, out, vias);
}

/* A claim that every packet of bx (less excl) is accepted holds on the
 * modelled tables; look for one on a path an unmodelled chain sees that
 * they accept: it may be dropped there. True when there is none; q gets
 * it (not definite, blind) and *via its clause otherwise. */
static bool blind_holds(Ctx *c, Query *q, const Boxes *bx,
			const Via *const *vias, const Boxes *excl,
			const BoxIndex *ix, const Via **via)
{
	Boxes sel = { 0 };
	Vias sv = { 0 };
	Query b = { .sp = c->sp, .bad = PROVE_ACCEPT };
	const Via *bv = NULL;
	long classes;

	for (int i = 0; i < bx->n; i++)
		if (c->blind_paths & 1 << bx->v[i].path) {
			vec_push(c->a, &sel, bx->v[i]);
			vec_push(c->a, &sv, vias[i]);
		}
	if (!sel.n)
		return true;
	classes = q->classes;
	if (query_run(&b, c->crs, &sel, sv.v, excl, ix, &bv)) {
		q->classes += b.classes;
		return true;
	}
	*q = b;
	q->classes += classes;
	q->bad = PROVE_DROP;
	q->definite = false;
	q->blind = true;
	*via = bv;
	return false;
}

/* Explain a counterexample: packet, via, verdict and trace. */
static void print_counterexample(Ctx *c, const Query *q, const Via *via,
				 const char *ind, Buf *out)
{
	buf_printf(out, "%scounterexample: ", ind);
	prove_print_packet(&q->pkt, out);
	buf_puts(out, "\n");
	if (via && via->loc.file) {
		buf_printf(out, "%s  %s ", ind, q->reply ?
			   "the reply to a connection of" : "a packet of");
		print_origin(c->p, &via->loc, out);
		buf_puts(out, "\n");
	}
	buf_printf(out, "%s  %s%s; the rules on its way:\n", ind,
		   q->definite ? "" : "may be ",
		   q->tr.outcome == PROVE_ACCEPT && !q->blind ? "accepted" : "dropped");
	for (int i = 0; q->blind && i < c->blind.n; i++) {
		const Blind *bl = &c->blind.v[i];

		if (bl->paths & 1 << q->pkt.path)
			buf_printf(out, "%s    %s %s %s (hook %s): not modelled, may drop it\n",
				   ind, rs_family_name(bl->t->family), bl->t->name,
				   bl->c->name, blind_hook(bl->t, bl->c));
	}
	for (int i = 0; i < q->tr.n_steps; i++) {
		char ind2[32];

		snprintf(ind2, sizeof ind2, "%s    ", ind);
		prove_print_step(c->p, &q->tr.steps[i], ind2, out);
	}
}

int prove_socket_mounted(const Policy *p, const Source *src, const Service *v,
			 const Privilege **got)
{
	*got = NULL;
	if (!p->container.source || src != p->container.source)
		return -1;
	for (int i = 0; i < p->n_privileges; i++)
		for (int k = 0; k < p->n_mounts; k++)
			if (p->mounts[k].service == v &&
			    emit_pb_grant(&p->privileges[i], &p->mounts[k]) != MODE_UNSET) {
				*got = &p->privileges[i];
				return 1;
			}
	return 0;
}

const char *prove_socket_why(Arena *a, const Policy *p, const Source *src,
			     const Service *v, int mounted, const Privilege *got)
{
	(void)p;
	if (mounted < 0)
		return arena_printf(a, "no ruleset or mount list decides what '%s' reaches "
				    "through unix socket %s: its owner and mode on the host do "
				    "(%s:%s %04o)", src->name, v->path, v->owner, v->group,
				    (unsigned)v->mode);
	return got ? arena_printf(a, "the mount lists give privilege %s's containers %s",
				  got->name, v->path) :
		arena_printf(a, "the mount lists give no job container %s", v->path);
}

/* An invariant clause on unix service v, decided on the mount lists the
 * back end emits: 1 holds, 0 fails, -1 no artifact decides it. *why (in
 * a) says which. */
static int unix_clause(Arena *a, const Policy *p, const InvClause *cl,
		       const Service *v, const char **why)
{
	const Privilege *got;
	int m = prove_socket_mounted(p, cl->source, v, &got);

	*why = prove_socket_why(a, p, cl->source, v, m, got);
	return m < 0 ? -1 : cl->can == (m == 1);
}

/* One invariant clause for one service; appends a line (and a
 * counterexample) to out; false when it fails. */
static bool prove_clause(Ctx *c, const InvClause *cl, const Service *v, Buf *out)
{
	Query q = { .sp = c->sp, .bad = cl->can ? PROVE_DROP : PROVE_ACCEPT };
	Boxes bx = { 0 };
	Vias vias = { 0 };
	const Via *via = NULL;
	bool ok;

	buf_printf(out, "  %s %s reach %s: ", cl->source->name,
		   cl->can ? "can" : "cannot", v->name);
	if (v->kind == SVC_UNIX) {
		const char *why;
		int r = unix_clause(c->a, c->p, cl, v, &why);

		buf_printf(out, "%s (%s)\n", r > 0 ? "holds" : r == 0 ? "FAILS" :
			   "CANNOT BE PROVED", why);
		return r > 0;
	}
	source_boxes(c, cl->source, v, &bx, &vias);
	ok = query_run(&q, c->crs, &bx, vias.v, NULL, NULL, &via);
	if (ok && cl->can)
		ok = blind_holds(c, &q, &bx, vias.v, NULL, NULL, &via);
	c->st->classes += q.classes;
	if (ok) {
		buf_printf(out, "holds (%ld classes)\n", q.classes);
		return true;
	}
	buf_printf(out, "%s\n", q.definite ? "FAILS" : "CANNOT BE PROVED");
	print_counterexample(c, &q, via, "    ", out);
	return false;
}

static int egress_before(Space *sp, Arena *a, const Policy *p, const Source *s,
			 const Service *v, Boxes *out);

int prove_rows_above(Space *sp, Arena *a, const Policy *p, const Source *s,
		     const Service *v, Boxes *out)
{
	Vias vias = { 0 };
	int n = 0;

	if (v->kind == SVC_EGRESS)
		return egress_before(sp, a, p, s, v, out);

	for (int r = 0; r < s->index; r++)
		if (policy_cell(p, r, v->index)->kind != CELL_NONE) {
			prove_source_boxes(sp, a, p->sources[r], v, out, &vias);
			n++;
		}
	return n;
}

/* Build every column of the trust table, row by row. */
static void build_columns(Ctx *c)
{
	const Policy *p = c->p;
	size_t size = (size_t)(p->n_services + 1) * sizeof *c->cols;
	SvcBoxes *sb = arena_alloc(c->a, (size_t)(p->n_services + 1) * sizeof *sb);

	c->cols = arena_alloc(c->a, size);
	memset(c->cols, 0, size);
	for (int v = 0; v < p->n_services; v++)
		if (service_is_network(p->services[v]))
			svc_boxes(c->sp, p->services[v], &sb[v]);
	for (int s = 0; s < p->n_sources; s++)
		for (int v = 0; v < p->n_services; v++) {
			Column *col = &c->cols[v];

			if (!service_is_network(p->services[v]) ||
			    policy_cell(p, s, v)->kind == CELL_NONE)
				continue;
			vec_push(c->a, &col->row, s);
			vec_push(c->a, &col->start, col->bx.n);
			boxes_of(c->sp, c->a, p->sources[s], &sb[v], &col->bx,
				 &col->vias);
		}
	for (int v = 0; v < p->n_services; v++) {
		Column *col = &c->cols[v];

		vec_push(c->a, &col->start, col->bx.n);
		col->ix = space_index_boxes(c->sp, col->bx.v, col->bx.n);
		for (int i = 0; i < col->bx.n; i++) {
			Box r;

			reply_box(c->sp, &col->bx.v[i], &r);
			vec_push(c->a, &col->rbx, r);
		}
		col->rix = space_index_boxes(c->sp, col->rbx.v, col->rbx.n);
	}
}

/* Row s's place k in column v (it has a cell there). */
static int column_place(const Column *col, int s)
{
	int lo = 0, hi = col->row.n - 1;

	while (lo < hi) {
		int mid = (lo + hi) / 2;

		if (col->row.v[mid] < s)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (col->row.n == 0 || col->row.v[lo] != s)
		BUG("row %d has no cell in the column", s);
	return lo;
}

/* The packets that egress cell (s, v) does not claim because a cell
 * decides them first: those of every row above s with a cell in an egress
 * column (to that column's service), and those of row s to the egress
 * services its cells decide before v (policy_egress_cmp). Appended to
 * out; returns how many cells. */
static int egress_before(Space *sp, Arena *a, const Policy *p, const Source *s,
			 const Service *v, Boxes *out)
{
	Vias vias = { 0 };
	int n = 0;

	for (int r = 0; r <= s->index; r++)
		for (int k = 0; k < p->n_services; k++) {
			const Service *w = p->services[k];

			if (w->kind != SVC_EGRESS ||
			    policy_cell(p, r, k)->kind == CELL_NONE)
				continue;
			if (r == s->index && (w == v || policy_egress_cmp(w, v) > 0))
				continue;
			prove_source_boxes(sp, a, p->sources[r], w, out, &vias);
			n++;
		}
	return n;
}

/* The replies of the packets of own less excl all get back (an allow
 * cell's connections work both ways): true when they do, q has the
 * counterexample otherwise. rexcl, rix: the replies of excl, indexed. */
static bool replies_hold(Ctx *c, Query *q, const Boxes *own,
			 const Via *const *vias, const Boxes *rexcl,
			 const BoxIndex *rix, const Via **via)
{
	Boxes rown = { 0 };

	for (int i = 0; i < own->n; i++) {
		Box r;

		reply_box(c->sp, &own->v[i], &r);
		vec_push(c->a, &rown, r);
	}
	q->reply = true;
	if (query_run(q, c->crs, &rown, vias, rexcl, rix, via)) {
		q->reply = false;
		return true;
	}
	return false;
}

/* Prove that the ruleset realises the allow/deny cell (s, v): the new
 * connections it claims are all accepted (allow) or none (deny), and for
 * an allow their replies get back. True when it does; q has the
 * counterexample otherwise, and *via its clause. */
static bool cell_holds(Ctx *c, const Source *s, const Service *v, Query *q,
		       const Via **via)
{
	const Column *col = NULL;
	Boxes own = { 0 }, excl = { 0 }, rexcl = { 0 };
	Vias ev = { 0 };
	const Via *const *vias;
	const BoxIndex *ix = NULL, *rix = NULL;
	bool ok;

	if (v->kind == SVC_EGRESS) {
		source_boxes(c, s, v, &own, &ev);
		vias = ev.v;
		egress_before(c->sp, c->a, c->p, s, v, &excl);
		for (int i = 0; i < excl.n; i++) {
			Box r;

			reply_box(c->sp, &excl.v[i], &r);
			vec_push(c->a, &rexcl, r);
		}
	} else {
		int k, i, n;

		if (!c->cols)
			build_columns(c);
		col = &c->cols[v->index];
		k = column_place(col, s->index);
		i = col->start.v[k];
		n = col->start.v[k + 1] - i;
		own = (Boxes){ col->bx.v + i, n, n };
		excl = (Boxes){ col->bx.v, i, i };
		rexcl = (Boxes){ col->rbx.v, i, i };
		vias = col->vias.v + i;
		ix = col->ix;
		rix = col->rix;
	}

	/* the fields query_run reads (the packet and trace are big and
	 * written only with a counterexample) */
	q->sp = c->sp;
	q->bad = policy_cell(c->p, s->index, v->index)->kind == CELL_ALLOW ?
		PROVE_DROP : PROVE_ACCEPT;
	q->found = q->definite = q->blind = q->reply = false;
	q->classes = 0;
	*via = NULL;
	ok = query_run(q, c->crs, &own, vias, &excl, ix, via);
	if (ok && q->bad == PROVE_DROP)
		ok = blind_holds(c, q, &own, vias, &excl, ix, via);
	if (ok && q->bad == PROVE_DROP)
		ok = replies_hold(c, q, &own, vias, &rexcl, rix, via);
	c->st->classes += q->classes;
	return ok;
}

/* Check one allow/deny cell; false when the ruleset does not realise it. */
static bool check_cell(Ctx *c, const Source *s, const Service *v, Buf *out)
{
	const Cell *cell = policy_cell(c->p, s->index, v->index);
	Query q;
	const Via *via;
	bool ok = cell_holds(c, s, v, &q, &via);

	buf_printf(out, "  %-12s %-12s %-5s %s\n", s->name, v->name,
		   cell->kind == CELL_ALLOW ? "allow" : "deny",
		   ok ? "realised" : q.definite ? "NOT REALISED" :
		   "CANNOT BE PROVED");
	if (!ok)
		print_counterexample(c, &q, via, "    ", out);
	return ok;
}

/* List the undecodable expressions of rs; returns how many. */
static int list_unknown(const Ruleset *rs, Buf *out)
{
	int n = 0;

	for (int t = 0; t < rs->n_tables; t++)
		for (int ch = 0; ch < rs->tables[t].n_chains; ch++) {
			const RsChain *cn = &rs->tables[t].chains[ch];

			for (int r = 0, pos = 0; r < cn->n_rules; r++) {
				const RsRule *rl = &cn->rules[r];

				if (same_kernel_rule(cn, r))
					continue;
				pos++;
				for (int m = 0; m < rl->n_matches; m++) {
					const RsMatch *mt = &rl->matches[m];

					if (mt->key != KEY_UNKNOWN)
						continue;
					if (out)
						buf_printf(out, "  %s %s %s rule %d: `%s` (may match or not)\n",
							   rs_family_name(rs->tables[t].family),
							   rs->tables[t].name, cn->name, pos,
							   mt->unknown ? mt->unknown : "?");
					n++;
				}
			}
		}
	return n;
}

/* Tables the prover does not model, named in the report: a warning for
 * each base chain of one that may drop packets the proofs are about. */
static void list_ignored(const Ctx *c, Buf *out)
{
	for (int t = 0; t < c->rs->n_tables; t++) {
		const RsTable *tb = &c->rs->tables[t];
		int n = 0;

		if (tb->family == RS_INET || tb->family == RS_IP || tb->family == RS_IP6)
			continue;
		for (int i = 0; i < c->blind.n; i++)
			if (c->blind.v[i].t == tb) {
				buf_printf(out, "warning: table %s %s is not modelled, and its chain %s (hook %s) may drop "
					   "packets %s: allow cells and `can reach` clauses on them CANNOT BE PROVED\n",
					   rs_family_name(tb->family), tb->name, c->blind.v[i].c->name,
					   blind_hook(tb, c->blind.v[i].c),
					   c->blind.v[i].paths & 1 << PKT_LOCAL ?
					   "from the network and from local processes" :
					   "from the network");
				n++;
			}
		if (!n)
			buf_printf(out, "note: table %s %s is not modelled (not an IP family)%s\n",
				   rs_family_name(tb->family), tb->name,
				   chain_paths(tb->family, NULL) ?
				   "; no base chain of it can drop a packet to this host" : "");
	}
}

/* The invariant every policy with a container profile has, whether its
 * file states it or not (the seed's: job containers can never spawn
 * agents): the container block's source cannot reach the tcp service
 * fp-apid serves ("api", the name it loads from the bundle). The
 * policy's invariants, then that one, into a (allocated in ar); returns
 * how many. */
int prove_all_invariants(Arena *ar, const Policy *p, const Invariant **out)
{
	Invariant *all = arena_alloc(ar, (size_t)(p->n_invariants + 1) * sizeof *all);
	const Source *src = p->container.source;
	Service *api = policy_service(p, "api");
	InvClause *cl;
	Service **svcs;

	memcpy(all, p->invariants, (size_t)p->n_invariants * sizeof *all);
	*out = all;
	if (!src || !api || api->kind != SVC_TCP)
		return p->n_invariants;
	cl = arena_alloc(ar, sizeof *cl);
	svcs = arena_alloc(ar, sizeof *svcs);
	svcs[0] = api;
	*cl = (InvClause){ .source = (Source *)src, .services = svcs,
			   .n_services = 1, .can = false, .loc = p->container.loc };
	all[p->n_invariants] = (Invariant){
		.name = "builtin_no_spawn",
		.text = "built in: the job containers can never reach the service fp-apid serves",
		.loc = p->container.loc, .clauses = cl, .n_clauses = 1 };
	return p->n_invariants + 1;
}

int prove_report(const Policy *p, const Ruleset *rs, const ProveOpts *o,
		 Buf *out, ProveStats *st)
{
	Ctx c;
	ProveStats dummy;

	if (!st)
		st = &dummy;
	memset(st, 0, sizeof *st);
	ctx_init(&c, p, rs, o, st);
	st->rules = ruleset_rule_count(rs);
	st->unknown = list_unknown(rs, NULL);
	list_ignored(&c, out);
	const Invariant *invs;
	int n_invs = prove_all_invariants(c.a, p, &invs);

	for (int i = 0; i < n_invs; i++) {
		const Invariant *inv = &invs[i];
		Buf body = { 0 };
		int failed = 0;

		for (int k = 0; k < inv->n_clauses; k++)
			for (int s = 0; s < inv->clauses[k].n_services; s++) {
				st->invariants++;
				if (!prove_clause(&c, &inv->clauses[k],
						  inv->clauses[k].services[s], &body))
					failed++;
			}
		st->invariants_failed += failed;
		buf_printf(out, "invariant %s%s: %s\n", inv->name,
			   i == p->n_invariants ? " (built in: the job containers never reach fp-apid's service)" : "",
			   failed ? "FAILS" : "holds");
		if (body.data)
			buf_puts(out, body.data);
		buf_free(&body);
	}
	if (!o || !o->no_cells) {
		Buf body = { 0 };

		for (int s = 0; s < p->n_sources; s++)
			for (int v = 0; v < p->n_services; v++) {
				const Service *svc = p->services[v];

				if (svc->kind == SVC_UNIX ||
				    policy_cell(p, s, v)->kind == CELL_NONE)
					continue;
				st->cells++;
				if (!check_cell(&c, p->sources[s], svc, &body))
					st->cells_failed++;
			}
		buf_printf(out, "trust table: %d of %d cells realised%s\n",
			   st->cells - st->cells_failed, st->cells,
			   st->cells_failed && o && o->emitter ?
			   " (an emitter bug)" : "");
		if (body.data)
			buf_puts(out, body.data);
		buf_free(&body);
	}
	if (st->unknown) {
		buf_printf(out, "undecodable expressions: %d\n", st->unknown);
		list_unknown(rs, out);
	}
	buf_printf(out, "checked %ld classes of packets on %d rules in %d tables%s%s\n",
		   st->classes, st->rules, rs->n_tables, o && o->what ? " of " : "",
		   o && o->what ? o->what : "");
	ctx_free(&c);
	if (st->invariants_failed)
		return 1;
	return st->cells_failed ? 3 : 0;
}

/* ---- the compile-time proof ---- */

/* What a trace step did, for a diagnostic: "drops it", "jumps to x". */
static const char *step_verb(Arena *a, const TraceStep *s)
{
	if (s->assumed && s->verdict == VERDICT_CONTINUE)
		return arena_printf(a, "is assumed not to match (`%s`)",
				    s->assumed->unknown ? s->assumed->unknown : "?");
	switch (s->verdict) {
	case VERDICT_ACCEPT: return s->rule ? "accepts it" : "accepts it (chain policy)";
	case VERDICT_DROP: return s->rule ? "drops it" : "drops it (chain policy)";
	case VERDICT_REJECT: return "rejects it";
	case VERDICT_JUMP: return arena_printf(a, "jumps to %s", s->rule->target);
	case VERDICT_GOTO: return arena_printf(a, "goes to %s", s->rule->target);
	case VERDICT_RETURN: return "returns";
	case VERDICT_CONTINUE: return "continues";
	default: BUG("verdict %d", (int)s->verdict);
	}
}

/* Diagnostics for a failed invariant clause or cell: the error at `at`,
 * then the counterexample, its via clause and every rule it went
 * through, each at the policy text that produced it. */
static void diag_failure(Ctx *c, Diag *d, Loc at, const char *what,
			 const Query *q, const Via *via)
{
	Buf pk = { 0 };

	prove_print_packet(&q->pkt, &pk);
	diag_error(d, at, "%s", what);
	diag_note(d, (Loc){ 0 }, "counterexample: %s", pk.data);
	if (via && via->loc.file)
		diag_note(d, via->loc, "the packet is one of this via clause");
	for (int i = 0; i < q->tr.n_steps; i++) {
		const TraceStep *s = &q->tr.steps[i];
		Buf r = { 0 };
		Loc at2 = s->rule && s->rule->origin.file ? s->rule->origin : (Loc){ 0 };

		if (s->rule)
			prove_print_rule(s->rule, &r);
		diag_note(d, at2, "%s %s %s %s%s%s%s", rs_hook_name(s->hook),
			  rs_family_name(s->table->family), s->table->name,
			  s->chain->name, s->rule ? arena_printf(c->a, " rule %d", rule_pos(s->chain, s->rule_index)) : "",
			  arena_printf(c->a, " %s", step_verb(c->a, s)),
			  s->rule ? arena_printf(c->a, ": %s", r.data) : "");
		buf_free(&r);
	}
	buf_free(&pk);
}

int prove_policy(const Policy *p, const Ruleset *rs, Diag *d, Buf *report)
{
	ProveStats st = { 0 };
	Ctx c;
	int failed = 0;

	ctx_init(&c, p, rs, NULL, &st);
	const Invariant *invs;
	int n_invs = prove_all_invariants(c.a, p, &invs);

	for (int i = 0; i < n_invs; i++) {
		const Invariant *inv = &invs[i];

		for (int k = 0; k < inv->n_clauses; k++) {
			const InvClause *cl = &inv->clauses[k];

			for (int s = 0; s < cl->n_services; s++) {
				const Service *v = cl->services[s];
				Query q = { .sp = c.sp,
					    .bad = cl->can ? PROVE_DROP : PROVE_ACCEPT };
				Boxes bx = { 0 };
				Vias vias = { 0 };
				const Via *via = NULL;
				char *msg;

				st.invariants++;
				if (v->kind == SVC_UNIX) {
					const char *why;
					int r = unix_clause(c.a, p, cl, v, &why);

					if (r > 0)
						continue;
					diag_error(d, cl->loc, "invariant %s %s: %s %s %s: %s",
						   inv->name, r == 0 ? "fails" : "cannot be proved",
						   cl->source->name,
						   cl->can ? "can reach" : "cannot reach", v->name, why);
					failed++;
					continue;
				}
				source_boxes(&c, cl->source, v, &bx, &vias);
				if (query_run(&q, c.crs, &bx, vias.v, NULL, NULL, &via)) {
					st.classes += q.classes;
					continue;
				}
				st.classes += q.classes;
				failed++;
				msg = i < p->n_invariants ?
					arena_printf(c.a, "invariant %s fails: %s %s %s",
						     inv->name, cl->source->name,
						     cl->can ? "cannot reach" : "can reach",
						     v->name) :
					arena_printf(c.a, "built-in invariant fails: %s can reach %s "
						     "(the job containers' source must never reach the service "
						     "fp-apid serves, whatever the policy says; deny it in the "
						     "row of '%s' or a row above)",
						     cl->source->name, v->name, cl->source->name);
				diag_failure(&c, d, cl->loc, msg, &q, via);
			}
		}
	}
	for (int s = 0; s < p->n_sources; s++)
		for (int v = 0; v < p->n_services; v++) {
			const Source *src = p->sources[s];
			const Service *svc = p->services[v];
			const Cell *cell = policy_cell(p, s, v);
			Query q;
			const Via *via;
			char *msg;

			if (svc->kind == SVC_UNIX || cell->kind == CELL_NONE)
				continue;
			st.cells++;
			if (cell_holds(&c, src, svc, &q, &via))
				continue;
			failed++;
			msg = arena_printf(c.a, "emitter bug: the ruleset does not realise `%s %s %s`",
					   src->name, cell->kind == CELL_ALLOW ? "allow" : "deny",
					   svc->name);
			diag_failure(&c, d, cell->loc, msg, &q, via);
		}
	buf_printf(report, "proved %d invariant clause%s and %d trust cell%s on %ld classes\n",
		   st.invariants, st.invariants == 1 ? "" : "s", st.cells,
		   st.cells == 1 ? "" : "s", st.classes);
	ctx_free(&c);
	return failed;
}
