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
	for (int r = 0; r < s->index; r++)
		if (policy_cell(p, r, v->index)->kind != CELL_NONE) {
			buf_printf(out, "%s%s", sep, p->sources[r]->name);
			sep = ", ";
		}
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

int cmd_explain(int argc, char **argv)
{
	const char *pos[3] = { 0 }, *file = NULL;
	int npos = 0;
	Subject sj;
	const Source *s;
	const Service *v;
	const Cell *cell;
	Buf out = { 0 };

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--ruleset") && i + 1 < argc)
			file = argv[++i];
		else if (argv[i][0] != '-' && npos < 3)
			pos[npos++] = argv[i];
		else
			npos = 4;
	}
	if (npos != 3) {
		fprintf(stderr, "usage: fpc explain POLICY SOURCE SERVICE [--ruleset FILE]\n");
		return 2;
	}
	if (!subject_load(&sj, pos[0], file))
		return 1;
	s = policy_source(sj.p, pos[1]);
	v = policy_service(sj.p, pos[2]);
	if (!s || !v) {
		fprintf(stderr, "fpc: error: %s has no %s '%s'\n", pos[0],
			s ? "service" : "source", s ? pos[2] : pos[1]);
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
	if (service_is_network(v))
		explain_network(&sj, s, v, &out);
	else
		buf_printf(&out, "verdict: not an nftables service: %s\n",
			   v->kind == SVC_UNIX ?
			   "reached through its socket file, mounted only where the table allows" :
			   "outbound traffic");
	fputs(out.data, stdout);
	buf_free(&out);
	policy_free(sj.p);
	return 0;
}

/* ---- query ---- */

static int query_usage(void)
{
	fprintf(stderr,
		"usage: fpc query POLICY [--ruleset FILE] (--iif NAME | --uid N|USER [--oif NAME])\n"
		"                 [--saddr ADDR] [--daddr ADDR] [--proto tcp|udp|icmp|N]\n"
		"                 [--sport N] [--dport N] [--tcp N] [--udp N] [--gid N] [--ct STATE]\n");
	return 2;
}

/* A number lo..hi (lo >= 0) from s, or -1. */
static long number(const char *s, long lo, long hi)
{
	const char *why;
	long v = (long)parse_num(s, lo, hi, &why);

	return why ? -1 : v;
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

/* Is pkt one of via's packets? */
static bool packet_in_via(const Policy *p, const Via *v, const Packet *pkt)
{
	bool ok;

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
		ok = v->n_ifaces == 0;
		for (int i = 0; i < v->n_ifaces && !ok; i++)
			ok = if_pattern_match(&v->ifaces[i], pkt->path == PKT_NET ?
					      pkt->iifname : "lo");
		if (!ok)
			return false;
		ok = v->n_addrs == 0;
		for (int i = 0; i < v->n_addrs && !ok; i++)
			ok = addr_in(&v->addrs[i], pkt->fam, pkt->saddr);
		return ok;
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

/* What the trust table says about pkt: the first row holding it with a
 * cell for its service. */
static void print_table_view(const Policy *p, const Packet *pkt, bool daddr_given,
			     Buf *out)
{
	const Service *v = packet_service(p, pkt, daddr_given);

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

/* Parse the packet options into pkt; false on a bad one (usage printed). */
static bool query_packet(int argc, char **argv, Packet *pkt, const char **policy,
			 const char **file, bool *daddr_given)
{
	bool saddr = false, daddr = false, local = false, net = false;
	AddrFamily fs = FAM_IP4, fd = FAM_IP4;

	packet_init(pkt);
	for (int i = 1; i < argc; i++) {
		const char *o = argv[i], *a = i + 1 < argc ? argv[i + 1] : NULL;
		long n;

		if (o[0] != '-' && !*policy) {
			*policy = o;
			continue;
		}
		if (!a)
			return false;
		i++;
		if (!strcmp(o, "--ruleset")) {
			*file = a;
		} else if (!strcmp(o, "--iif")) {
			pkt->iifname = a;
			net = true;
		} else if (!strcmp(o, "--oif")) {
			pkt->oifname = a;
		} else if (!strcmp(o, "--uid")) {
			n = number(a, 0, 0xfffffffeL);
			pkt->uid = n;	/* a name is resolved with the policy */
			pkt->user = n >= 0 ? NULL : a;
			local = true;
		} else if (!strcmp(o, "--gid")) {
			if ((pkt->gid = number(a, 0, 0xfffffffeL)) < 0)
				return false;
		} else if (!strcmp(o, "--saddr") || !strcmp(o, "--daddr")) {
			bool s = o[2] == 's';

			if (!parse_addr(a, s ? &fs : &fd, s ? pkt->saddr : pkt->daddr)) {
				fprintf(stderr, "fpc: error: %s %s: not an address\n", o, a);
				return false;
			}
			*(s ? &saddr : &daddr) = true;
		} else if (!strcmp(o, "--proto")) {
			n = !strcmp(a, "tcp") ? 6 : !strcmp(a, "udp") ? 17 :
				!strcmp(a, "icmp") ? 1 : !strcmp(a, "icmpv6") ? 58 :
				number(a, 0, 255);
			if (n < 0)
				return false;
			pkt->l4proto = (int)n;
		} else if (!strcmp(o, "--tcp") || !strcmp(o, "--udp") ||
			   !strcmp(o, "--dport") || !strcmp(o, "--sport")) {
			if ((n = number(a, 0, 65535)) < 0)
				return false;
			if (!strcmp(o, "--sport"))
				pkt->sport = (int)n;
			else
				pkt->dport = (int)n;
			if (!strcmp(o, "--tcp") || !strcmp(o, "--udp"))
				pkt->l4proto = o[2] == 't' ? 6 : 17;
		} else if (!strcmp(o, "--ct")) {
			static const char *const st[] = { "invalid", "established",
				"related", "new" };

			pkt->ctstate = 0;
			for (int k = 0; k < 4; k++)
				if (!strcmp(a, st[k]))
					pkt->ctstate = 1 << k;
			if (!strcmp(a, "untracked"))
				pkt->ctstate = 64;
			if (!pkt->ctstate)
				return false;
		} else {
			return false;
		}
	}
	if (!*policy || local == net) {
		fprintf(stderr, "fpc: error: give exactly one of --iif (a packet from the network) and --uid (one sent by a local process)\n");
		return false;
	}
	if (saddr && daddr && fs != fd) {
		fprintf(stderr, "fpc: error: --saddr and --daddr are of different families\n");
		return false;
	}
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

int cmd_query(int argc, char **argv)
{
	const char *policy = NULL, *file = NULL;
	bool daddr_given = false;
	Packet pkt;
	Trace tr;
	Subject sj;
	Buf out = { 0 };
	int mask;

	if (!query_packet(argc, argv, &pkt, &policy, &file, &daddr_given))
		return query_usage();
	if (!subject_load(&sj, policy, file))
		return 1;
	if (pkt.path == PKT_LOCAL && pkt.uid < 0 &&
	    (pkt.uid = user_uid(sj.p, pkt.user)) < 0) {
		fprintf(stderr, "fpc: error: --uid %s: not a uid, nor a user of the policy or this host\n",
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
	print_table_view(sj.p, &pkt, daddr_given, &out);
	buf_printf(&out, "verdict: %s\n", mask == (PROVE_ACCEPT | PROVE_DROP) ?
		   "accept or drop (an undecodable expression decides; accepted by:)" :
		   mask == PROVE_ACCEPT ? "accept" : "drop");
	prove_print_trace(sj.p, &tr, &out);
	fputs(out.data, stdout);
	buf_free(&out);
	policy_free(sj.p);
	return 0;
}
