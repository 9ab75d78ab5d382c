/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * explain.c: `fpc explain POLICY SOURCE SERVICE` and `fpc query POLICY
 * --iif ... --dport ...`: what the ruleset decides and which rules (and
 * policy lines) decide it. Both read the ruleset the policy compiles to,
 * or with --ruleset FILE one a host holds (`nft -j list ruleset`).
 */
#include "classes.h"

#include <arpa/inet.h>
#include <errno.h>
#include <pwd.h>

/* The policy and the ruleset a command works on. */
typedef struct Subject {
	Policy *p;
	const Ruleset *rs;
} Subject;

/* Load POLICY, and the ruleset: FILE if given, else the policy lowered. */
static bool subject_load(Subject *s, const char *policy, const char *file)
{
	Diag *d = diag_new();

	s->p = policy_load(policy, d);
	diag_free(d);
	if (!s->p)
		return false;
	s->rs = file ? verify_load_ruleset(s->p->arena, file) : lower(s->p);
	if (!s->rs) {
		policy_free(s->p);
		s->p = NULL;
	}
	return s->rs != NULL;
}

static const char *cell_word(CellKind k)
{
	switch (k) {
	case CELL_NONE: return "-";
	case CELL_ALLOW: return "allow";
	case CELL_DENY: return "deny";
	default: BUG("cell %d", (int)k);
	}
}

/* "via user flashpods (policies/default.fp:13)": the clause's own text. */
static void print_via(const Policy *p, const Via *v, Buf *out)
{
	const char *s = p->text, *end = p->text + p->text_len;

	for (int l = 1; l < v->loc.first_line && s < end; l++) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));

		s = nl ? nl + 1 : end;
	}
	if (v->loc.first_line > 0 && v->loc.last_line == v->loc.first_line &&
	    v->loc.first_col > 0 && v->loc.last_col >= v->loc.first_col &&
	    s + v->loc.last_col <= end) {
		size_t n = (size_t)(v->loc.last_col - v->loc.first_col + 1);

		if (n && s[v->loc.first_col - 1 + n - 1] == ';')
			n--;
		buf_append(out, s + v->loc.first_col - 1, n);
	} else
		buf_puts(out, "via");
	buf_printf(out, " (%s:%d)", p->file, v->loc.first_line);
}

/* ---- explain ---- */

enum { PATHS_MAX = 16 };

/* One way the packets of a via go: the rules they meet and the outcome. */
typedef struct Way {
	int outcome;
	Trace tr;
	Packet example;
	long classes;
	int assumed;
} Way;

typedef struct Ways {
	Space *sp;
	Way w[PATHS_MAX];
	int n;
	long more;		/* classes on ways beyond PATHS_MAX */
	long classes, accepted;
} Ways;

/* Do two traces go through the same rules? */
static bool same_trace(const Trace *a, const Trace *b)
{
	if (a->outcome != b->outcome || a->n_steps != b->n_steps)
		return false;
	for (int i = 0; i < a->n_steps; i++)
		if (a->steps[i].rule != b->steps[i].rule ||
		    a->steps[i].chain != b->steps[i].chain ||
		    a->steps[i].verdict != b->steps[i].verdict)
			return false;
	return true;
}

static int ways_leaf(void *ctx, const Box *b, int outcome, const TNode *t,
		     int assumed)
{
	Ways *w = ctx;
	Trace tr;

	w->classes++;
	if (outcome == PROVE_ACCEPT)
		w->accepted++;
	trace_from_nodes(t, outcome, &tr);
	for (int i = 0; i < w->n; i++)
		if (same_trace(&w->w[i].tr, &tr)) {
			w->w[i].classes++;
			return 0;
		}
	if (w->n == PATHS_MAX) {
		w->more++;
		return 0;
	}
	w->w[w->n].outcome = outcome;
	w->w[w->n].tr = tr;
	w->w[w->n].classes = 1;
	w->w[w->n].assumed = assumed;
	space_packet_of_box(w->sp, b, &w->w[w->n].example);
	w->n++;
	return 0;
}

static const char *share_word(long accepted, long classes)
{
	if (classes == 0)
		return "no packets";
	if (accepted == classes)
		return "accepted";
	return accepted ? "partly accepted" : "dropped";
}

static void print_ways(const Policy *p, const Ways *w, Buf *out)
{
	for (int i = 0; i < w->n; i++) {
		const Way *y = &w->w[i];

		buf_printf(out, "  %s%s: ", y->assumed ? "may be " : "",
			   y->outcome == PROVE_ACCEPT ? "accepted" : "dropped");
		prove_print_packet(&y->example, out);
		if (y->classes > 1)
			buf_printf(out, " (and %ld more class%s)", y->classes - 1,
				   y->classes == 2 ? "" : "es");
		buf_puts(out, "\n");
		for (int k = 0; k < y->tr.n_steps; k++)
			prove_print_step(p, &y->tr.steps[k], "    ", out);
	}
	if (w->more)
		buf_printf(out, "  ... and %ld classes on other paths\n", w->more);
}

/* "packets of laptop come first (rows above with a cell for api)" */
static void print_rows_above(const Policy *p, const Source *s, const Service *v,
			     Buf *out)
{
	const char *sep = "";

	buf_puts(out, "not counted: the packets of ");
	for (int r = 0; r < s->index; r++) {
		bool cell = policy_cell(p, r, v->index)->kind != CELL_NONE;

		for (int k = 0; k < p->n_services && !cell && v->kind == SVC_EGRESS; k++)
			cell = p->services[k]->kind == SVC_EGRESS &&
				policy_cell(p, r, k)->kind != CELL_NONE;
		if (cell) {
			buf_printf(out, "%s%s", sep, p->sources[r]->name);
			sep = ", ";
		}
	}
	if (v->kind == SVC_EGRESS)
		for (int k = 0; k < p->n_services; k++) {
			const Service *w = p->services[k];

			if (w->kind == SVC_EGRESS && w != v &&
			    policy_cell(p, s->index, k)->kind != CELL_NONE &&
			    policy_egress_cmp(w, v) < 0) {
				buf_printf(out, "%s%s to %s", sep, s->name, w->name);
				sep = ", ";
			}
		}
	if (v->kind == SVC_EGRESS)
		buf_puts(out, " (rows above with an egress cell, and this row's more specific egress cells)\n");
	else
		buf_printf(out, " (rows above with a cell for %s)\n", v->name);
}

/* Explain the packets of source s to network service v on rs that no row
 * above claims. */
static void explain_network(const Subject *sj, const Source *s, const Service *v,
			    Buf *out)
{
	Space *sp = space_new();
	Arena *a = arena_new();
	Boxes bx = { 0 }, excl = { 0 };
	Vias vias = { 0 };
	CRuleset *crs;
	long classes = 0, accepted = 0;

	space_add_ruleset(sp, sj->rs);
	space_add_policy(sp, sj->p);
	space_seal(sp);
	crs = space_compile(sp, sj->rs);
	prove_source_boxes(sp, a, s, v, &bx, &vias);
	if (prove_rows_above(sp, a, sj->p, s, v, &excl))
		print_rows_above(sj->p, s, v, out);
	for (int i = 0; i < bx.n;) {
		const Via *via = vias.v[i];
		Ways w = { .sp = sp };

		for (; i < bx.n && vias.v[i] == via; i++)
			space_eval(sp, crs, &bx.v[i], excl.v, excl.n, ways_leaf, &w);
		print_via(sj->p, via, out);
		buf_printf(out, ": %s\n", share_word(w.accepted, w.classes));
		print_ways(sj->p, &w, out);
		classes += w.classes;
		accepted += w.accepted;
	}
	buf_printf(out, "verdict: %s %s %s (%ld of %ld classes accepted)\n",
		   s->name, accepted == 0 ? "cannot reach" :
		   accepted == classes ? "can reach" : "can partly reach",
		   v->name, accepted, classes);
	arena_free(a);
	space_free(sp);
}

/* The verdict on unix service v for source s: from the mount lists fpc
 * emits when s is the job containers', else that nothing fpc emits decides. */
static void explain_socket(const Policy *p, const Source *s, const Service *v, Buf *out)
{
	Arena *a = arena_new();
	const Privilege *got;
	int m = prove_socket_mounted(p, s, v, &got);

	buf_printf(out, "verdict: %s (not an nftables service: %s)\n",
		   m < 0 ? "not decided by fpc" : m ? "mounted" : "not mounted",
		   prove_socket_why(a, p, s, v, m, got));
	arena_free(a);
}

/* "fpc: error: policies/default.fp has no source 'contaners'; did you
 * mean 'containers'?" */
static void unknown_name(const Policy *p, bool src, const char *name)
{
	const char *kind = src ? "source" : "service";
	int n = src ? p->n_sources : p->n_services;
	const char **names = arena_alloc(p->arena, (size_t)(n + 1) * sizeof *names);
	const char *hint;

	for (int i = 0; i < n; i++)
		names[i] = src ? p->sources[i]->name : p->services[i]->name;
	hint = diag_suggest(name, names, n);
	fprintf(stderr, "fpc: error: %s has no %s '%s'%s%s%s\n", p->file, kind, name,
		hint ? "; did you mean '" : "", hint ? hint : "", hint ? "'?" : "");
}

int cmd_explain(int argc, char **argv)
{
	const char *pos[3] = { 0 }, *file = NULL;
	Subject sj;
	const Source *s;
	const Service *v;
	const Cell *cell;
	Buf out = { 0 };

	const DiagOpt opts[] = { { "--ruleset", &file, NULL }, { NULL, NULL, NULL } };

	if (diag_args(argc, argv, opts, pos, 3, 3, "POLICY SOURCE SERVICE") < 0)
		return 2;
	if (!subject_load(&sj, pos[0], file))
		return 1;
	s = policy_source(sj.p, pos[1]);
	v = policy_service(sj.p, pos[2]);
	if (!s || !v) {
		unknown_name(sj.p, !s, s ? pos[2] : pos[1]);
		policy_free(sj.p);
		return 1;
	}
	cell = policy_cell(sj.p, s->index, v->index);
	buf_printf(&out, "explain %s -> %s in %s%s%s\n", s->name, v->name, pos[0],
		   file ? " on " : "", file ? file : "");
	buf_printf(&out, "service %s: ", v->name);
	prove_print_service(v, false, &out);
	buf_printf(&out, " (%s:%d)\n", sj.p->file, v->loc.first_line);
	buf_printf(&out, "trust table: %s %s %s (%s:%d)\n", s->name,
		   cell_word(cell->kind), v->name, sj.p->file,
		   cell->loc.first_line ? cell->loc.first_line : s->row_loc.first_line);
	if (service_on_ruleset(v))
		explain_network(&sj, s, v, &out);
	else
		explain_socket(sj.p, s, v, &out);
	fputs(out.data, stdout);
	buf_free(&out);
	policy_free(sj.p);
	return 0;
}

/* ---- query ---- */

/* The value a of option o as a number lo..hi (lo >= 0), or -1 after a
 * usage error naming what is wrong with it (what: "a port", "a uid"). */
static long number(const char *o, const char *a, long lo, long hi, const char *what)
{
	const char *why;
	long v = (long)parse_num(a, lo, hi, &why);

	if (!why)
		return v;
	diag_usage("%s '%s' %s (%s, %ld to %ld)", o, a, why, what, lo, hi);
	return -1;
}

static bool parse_addr(const char *s, AddrFamily *fam, uint8_t *a)
{
	memset(a, 0, 16);
	if (inet_pton(AF_INET, s, a) == 1) {
		*fam = FAM_IP4;
		return true;
	}
	if (inet_pton(AF_INET6, s, a) == 1) {
		*fam = FAM_IP6;
		return true;
	}
	return false;
}

static bool addr_in(const Prefix *pf, AddrFamily fam, const uint8_t *a)
{
	if (pf->fam != fam)
		return false;
	for (int b = 0; b < pf->len; b++) {
		uint8_t m = (uint8_t)(0x80 >> (b % 8));

		if ((pf->addr[b / 8] & m) != (a[b / 8] & m))
			return false;
	}
	return true;
}

/* The uid of user name: pinned by the policy, else this host's; -1. */
static long user_uid(const Policy *p, const char *name)
{
	struct passwd *pw;

	if (p->container.user && p->container.uid >= 0 &&
	    !strcmp(p->container.user, name))
		return p->container.uid;
	for (int s = 0; s < p->n_sources; s++)
		for (int i = 0; i < p->sources[s]->n_vias; i++) {
			const Via *v = &p->sources[s]->vias[i];

			if (v->kind == VIA_USER && v->uid >= 0 && !strcmp(v->user, name))
				return v->uid;
		}
	pw = getpwnam(name);
	return pw ? (long)pw->pw_uid : -1;
}

/* Does pkt leave this host (forwarded, or sent out by a local process)? */
static bool packet_leaves(const Packet *pkt)
{
	return pkt->path == PKT_FWD ||
		(pkt->path == PKT_LOCAL && strcmp(pkt->oifname, "lo"));
}

/* Does interface-and-address clause v hold pkt coming through ifname (no
 * interface pattern: every interface; no address: every source)? */
static bool net_via_holds(const Via *v, const char *ifname, const Packet *pkt)
{
	bool ok = v->n_ifaces == 0;

	for (int i = 0; i < v->n_ifaces && !ok; i++)
		ok = if_pattern_match(&v->ifaces[i], ifname);
	if (!ok)
		return false;
	ok = v->n_addrs == 0;
	for (int i = 0; i < v->n_addrs && !ok; i++)
		ok = addr_in(&v->addrs[i], pkt->fam, pkt->saddr);
	return ok;
}

/* Is pkt, leaving this host, one of via's egress packets (as prove.c has
 * them: forwarded ones of interface, address and catch-all clauses; sent
 * out by local processes of user clauses and of clauses that cover lo)? */
static bool egress_in_via(const Policy *p, const Via *v, const Packet *pkt)
{
	switch (v->kind) {
	case VIA_ANY:
		return pkt->path == PKT_FWD;
	case VIA_USER:
		return pkt->path == PKT_LOCAL && pkt->uid >= 0 &&
			pkt->uid == (v->uid >= 0 ? v->uid : user_uid(p, v->user));
	case VIA_NET:
		return net_via_holds(v, pkt->path == PKT_FWD ? pkt->iifname : "lo", pkt);
	default:
		BUG("via kind %d", (int)v->kind);
	}
}

/* Is pkt one of via's packets? */
static bool packet_in_via(const Policy *p, const Via *v, const Packet *pkt)
{
	if (packet_leaves(pkt))
		return egress_in_via(p, v, pkt);
	switch (v->kind) {
	case VIA_ANY:
		return true;
	case VIA_USER:
		return pkt->path == PKT_LOCAL && pkt->uid >= 0 &&
			pkt->uid == (v->uid >= 0 ? v->uid : user_uid(p, v->user));
	case VIA_NET:
		/* a local packet meets the input rule on lo */
		if (pkt->path != PKT_NET && strcmp(pkt->oifname, "lo"))
			return false;
		return net_via_holds(v, pkt->path == PKT_NET ? pkt->iifname : "lo", pkt);
	default:
		BUG("via kind %d", (int)v->kind);
	}
}

/* The network service pkt is addressed to, or NULL. */
static const Service *packet_service(const Policy *p, const Packet *pkt,
				     bool daddr_given)
{
	for (int i = 0; i < p->n_services; i++) {
		const Service *v = p->services[i];

		if (!service_is_network(v) ||
		    pkt->l4proto != (v->kind == SVC_TCP ? 6 : 17) ||
		    pkt->dport < v->port_lo || pkt->dport > v->port_hi)
			continue;
		if (daddr_given && v->has_listen &&
		    !addr_in(&v->listen, pkt->fam, pkt->daddr))
			continue;
		return v;
	}
	return NULL;
}

/* Is pkt, leaving this host, to egress service v? */
static bool egress_has(const Service *v, const Packet *pkt)
{
	bool ok = v->n_dests == 0;

	for (int i = 0; i < v->n_dests && !ok; i++)
		ok = addr_in(&v->dests[i], pkt->fam, pkt->daddr);
	return ok && (!v->eproto || (pkt->l4proto == v->eproto &&
				     pkt->dport >= v->port_lo && pkt->dport <= v->port_hi));
}

/* The trust table's view of a packet leaving this host: the first row
 * holding it with a cell for an egress service it is to, the row's cells
 * taken most specific first. */
static void print_egress_view(const Policy *p, const Packet *pkt, Buf *out)
{
	for (int s = 0; s < p->n_sources; s++) {
		const Source *src = p->sources[s];
		const Service *best = NULL;
		bool in = false;

		for (int i = 0; i < src->n_vias && !in; i++)
			in = packet_in_via(p, &src->vias[i], pkt);
		if (!in)
			continue;
		for (int k = 0; k < p->n_services; k++) {
			const Service *v = p->services[k];

			if (v->kind == SVC_EGRESS && egress_has(v, pkt) &&
			    policy_cell(p, s, k)->kind != CELL_NONE &&
			    (!best || policy_egress_cmp(v, best) < 0))
				best = v;
		}
		if (best) {
			const Cell *c = policy_cell(p, s, best->index);

			buf_printf(out, "trust table: %s %s %s (%s:%d)\n", src->name,
				   cell_word(c->kind), best->name, p->file,
				   c->loc.first_line ? c->loc.first_line : src->row_loc.first_line);
			return;
		}
	}
	buf_puts(out, "trust table: no row decides an egress service for this packet\n");
}

/* What the trust table says about pkt: the first row holding it with a
 * cell for its service. */
static void print_table_view(const Policy *p, const Packet *pkt, bool daddr_given,
			     Buf *out)
{
	const Service *v;

	if (packet_leaves(pkt)) {
		print_egress_view(p, pkt, out);
		return;
	}
	v = packet_service(p, pkt, daddr_given);

	if (!v) {
		buf_puts(out, "trust table: no service of the policy is addressed\n");
		return;
	}
	for (int s = 0; s < p->n_sources; s++) {
		const Source *src = p->sources[s];
		const Cell *c = policy_cell(p, s, v->index);
		bool in = false;

		for (int i = 0; i < src->n_vias && !in; i++)
			in = packet_in_via(p, &src->vias[i], pkt);
		if (!in || c->kind == CELL_NONE)
			continue;
		buf_printf(out, "trust table: %s %s %s (%s:%d)\n", src->name,
			   cell_word(c->kind), v->name, p->file,
			   c->loc.first_line ? c->loc.first_line : src->row_loc.first_line);
		return;
	}
	buf_printf(out, "trust table: no row decides %s for this packet\n", v->name);
}

/* Is s one of the NULL-terminated list l? */
static bool in_list(const char *s, const char *const *l)
{
	for (; *l; l++)
		if (!strcmp(s, *l))
			return true;
	return false;
}

/* Parse the packet options into pkt; false on a bad one (what was wrong
 * and the usage printed). */
static bool query_packet(int argc, char **argv, Packet *pkt, const char **policy,
			 const char **file, bool *daddr_given)
{
	bool saddr = false, daddr = false, local = false, net = false;
	AddrFamily fs = FAM_IP4, fd = FAM_IP4;

	packet_init(pkt);
	for (int i = 1; i < argc; i++) {
		static const char *const opts[] = { "--ruleset", "--iif", "--oif", "--uid",
			"--gid", "--saddr", "--daddr", "--proto", "--tcp", "--udp", "--dport",
			"--sport", "--ct", NULL };
		const char *o = argv[i], *a = i + 1 < argc ? argv[i + 1] : NULL;
		long n;

		if ((o[0] != '-' || !o[1]) && !*policy) {
			*policy = o;
			continue;
		}
		if (o[0] != '-' || !o[1])
			return diag_usage("unexpected argument '%s'", o), false;
		if (!in_list(o, opts))
			return diag_unknown_option(o, opts), false;
		if (!a)
			return diag_usage("%s needs a value", o), false;
		i++;
		if (!strcmp(o, "--ruleset")) {
			*file = a;
		} else if (!strcmp(o, "--iif")) {
			pkt->iifname = a;
			net = true;
		} else if (!strcmp(o, "--oif")) {
			pkt->oifname = a;
		} else if (!strcmp(o, "--uid")) {
			bool digits = a[0] >= '0' && a[0] <= '9';

			n = digits ? number(o, a, 0, 0xfffffffeL, "a uid") : -1;
			if (digits && n < 0)
				return false;
			pkt->uid = n;	/* a name is resolved with the policy */
			pkt->user = n >= 0 || !strcmp(a, "none") ? NULL : a;
			local = true;
		} else if (!strcmp(o, "--gid")) {
			if ((pkt->gid = number(o, a, 0, 0xfffffffeL, "a gid")) < 0)
				return false;
		} else if (!strcmp(o, "--saddr") || !strcmp(o, "--daddr")) {
			bool s = o[2] == 's';

			if (!parse_addr(a, s ? &fs : &fd, s ? pkt->saddr : pkt->daddr))
				return diag_usage("%s '%s' is not an IPv4 or IPv6 address", o, a), false;
			*(s ? &saddr : &daddr) = true;
		} else if (!strcmp(o, "--proto")) {
			static const char *const protos[] = { "tcp", "udp", "icmp", "icmpv6", NULL };

			n = !strcmp(a, "tcp") ? 6 : !strcmp(a, "udp") ? 17 :
				!strcmp(a, "icmp") ? 1 : !strcmp(a, "icmpv6") ? 58 : -1;
			if (n < 0 && a[0] >= '0' && a[0] <= '9')
				n = number(o, a, 0, 255, "a protocol number");
			else if (n < 0)
				diag_bad_value(o, a, protos);
			if (n < 0)
				return false;
			pkt->l4proto = (int)n;
		} else if (!strcmp(o, "--tcp") || !strcmp(o, "--udp") ||
			   !strcmp(o, "--dport") || !strcmp(o, "--sport")) {
			if ((n = number(o, a, 0, 65535, "a port")) < 0)
				return false;
			if (!strcmp(o, "--sport"))
				pkt->sport = (int)n;
			else
				pkt->dport = (int)n;
			if (!strcmp(o, "--tcp") || !strcmp(o, "--udp"))
				pkt->l4proto = o[2] == 't' ? 6 : 17;
		} else if (!strcmp(o, "--ct")) {
			static const char *const st[] = { "invalid", "established",
				"related", "new", "untracked", NULL };

			pkt->ctstate = 0;
			for (int k = 0; k < 4; k++)
				if (!strcmp(a, st[k]))
					pkt->ctstate = 1 << k;
			if (!strcmp(a, "untracked"))
				pkt->ctstate = 64;
			if (!pkt->ctstate)
				return diag_bad_value(o, a, st), false;
		}
	}
	if (!*policy)
		return diag_usage("missing POLICY"), false;
	if (local == net)
		return diag_usage("give exactly one of --iif (a packet from the network; with --oif, one forwarded) and --uid (one sent by a local process; none: without a socket)"), false;
	if (saddr && daddr && fs != fd)
		return diag_usage("--saddr and --daddr are of different families"), false;
	pkt->fam = saddr ? fs : fd;
	if (!saddr) {
		static const uint8_t s4[16] = { 192, 0, 2, 1 };
		static const uint8_t s6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };

		memcpy(pkt->saddr, pkt->fam == FAM_IP4 ? s4 : s6, 16);
	}
	if (local) {
		pkt->path = PKT_LOCAL;
		if (!pkt->oifname[0])
			pkt->oifname = "lo";
	} else if (pkt->oifname[0]) {
		pkt->path = PKT_FWD;
	}
	*daddr_given = daddr;
	return true;
}

/* Without --daddr: the address of the service the port belongs to. */
static void default_daddr(const Policy *p, Packet *pkt)
{
	const Service *v = packet_service(p, pkt, false);
	static const uint8_t d4[16] = { 203, 0, 113, 1 };
	static const uint8_t d6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 2 };

	if (v && v->has_listen && v->listen.fam == pkt->fam)
		memcpy(pkt->daddr, v->listen.addr, 16);
	else
		memcpy(pkt->daddr, pkt->fam == FAM_IP4 ? d4 : d6, 16);
}

/* How a dropped packet's trace ends: "drop", or a reject with what the
 * sender gets back (the kernel answers; the packet still goes no further). */
static const char *drop_word(const Trace *tr, const Packet *pkt)
{
	const TraceStep *last = tr->n_steps ? &tr->steps[tr->n_steps - 1] : NULL;

	if (!last || last->verdict != VERDICT_REJECT || !last->rule)
		return "drop";
	return last->rule->reject == REJECT_TCP_RESET ?
		"reject (dropped; the sender gets a tcp reset)" :
		pkt->fam == FAM_IP6 ?
		"reject (dropped; the sender gets an ICMPv6 port unreachable)" :
		"reject (dropped; the sender gets an ICMP port unreachable)";
}

/* The verdict word of an outcome mask. */
static const char *mask_word(int mask)
{
	return mask == (PROVE_ACCEPT | PROVE_DROP) ? "accept or drop" :
		mask == PROVE_ACCEPT ? "accept" : "drop";
}

/* `fpc query POLICY [--ruleset FILE] --batch LIST`: LIST ("-": stdin)
 * holds one packet a line, in query's options (`--iif wg0 --tcp 8080`);
 * prints its verdict a line ("accept", "drop", "accept or drop", "error"
 * for a line that is not a packet, with the diagnostic on stderr). The
 * policy is loaded once: the kernel oracle (tests/oracle) asks thousands. */
static int query_batch(const char *policy, const char *file, const char *list)
{
	FILE *f = strcmp(list, "-") ? fopen(list, "r") : stdin;
	char line[1024];
	Subject sj;
	int rc = 0;

	if (!f) {
		fprintf(stderr, "fpc: error: %s: %s\n", list, strerror(errno));
		return 1;
	}
	if (!subject_load(&sj, policy, file)) {
		if (f != stdin)
			fclose(f);
		return 1;
	}
	while (fgets(line, sizeof line, f)) {
		char *av[64], *save = NULL;
		int ac = 2;
		const char *pol = NULL, *rsf = NULL;
		bool dg = false;
		Packet pkt;

		av[0] = "query";
		av[1] = (char *)policy;
		for (char *t = strtok_r(line, " \t\n", &save); t && ac < 63;
		     t = strtok_r(NULL, " \t\n", &save))
			av[ac++] = t;
		if (ac == 2)
			continue;
		if (!query_packet(ac, av, &pkt, &pol, &rsf, &dg) || rsf ||
		    (pkt.path == PKT_LOCAL && pkt.uid < 0 && pkt.user &&
		     (pkt.uid = user_uid(sj.p, pkt.user)) < 0)) {
			puts("error");
			rc = 2;
			continue;
		}
		if (!dg)
			default_daddr(sj.p, &pkt);
		puts(mask_word(prove_packet(sj.rs, &pkt, NULL)));
	}
	if (f != stdin)
		fclose(f);
	policy_free(sj.p);
	return rc;
}

int cmd_query(int argc, char **argv)
{
	const char *policy = NULL, *file = NULL;
	bool daddr_given = false;
	Packet pkt;
	Trace tr;
	Subject sj;
	Buf out = { 0 };
	int mask;

	if (argc >= 4 && !strcmp(argv[argc - 2], "--batch")) {
		if (argc == 4 && argv[1][0] != '-')
			return query_batch(argv[1], NULL, argv[3]);
		if (argc == 6 && argv[1][0] != '-' && !strcmp(argv[2], "--ruleset"))
			return query_batch(argv[1], argv[3], argv[5]);
		return diag_usage("--batch LIST goes last, after POLICY [--ruleset FILE]"), 2;
	}
	if (!query_packet(argc, argv, &pkt, &policy, &file, &daddr_given))
		return 2;
	if (!subject_load(&sj, policy, file))
		return 1;
	if (pkt.path == PKT_LOCAL && pkt.uid < 0 && pkt.user &&
	    (pkt.uid = user_uid(sj.p, pkt.user)) < 0) {
		diag_usage("--uid '%s' is not a uid, nor a user of the policy or this host",
			   pkt.user);
		policy_free(sj.p);
		return 2;
	}
	if (!daddr_given)
		default_daddr(sj.p, &pkt);
	mask = prove_packet(sj.rs, &pkt, &tr);
	buf_puts(&out, "packet: ");
	prove_print_packet(&pkt, &out);
	buf_puts(&out, "\n");
	buf_printf(&out, "hooks: %s\n", pkt.path == PKT_NET ? "prerouting, input" :
		   pkt.path == PKT_FWD ? "prerouting, forward, postrouting (forwarded)" :
		   strcmp(pkt.oifname, "lo") ? "output, postrouting (leaving this host)" :
		   "output, postrouting, then prerouting, input on lo");
	print_table_view(sj.p, &pkt, daddr_given, &out);
	buf_printf(&out, "verdict: %s\n", mask == (PROVE_ACCEPT | PROVE_DROP) ?
		   "accept or drop (an undecodable expression decides; accepted by:)" :
		   mask == PROVE_ACCEPT ? "accept" : drop_word(&tr, &pkt));
	prove_print_trace(sj.p, &tr, &out);
	fputs(out.data, stdout);
	buf_free(&out);
	policy_free(sj.p);
	return 0;
}
