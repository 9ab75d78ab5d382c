/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * nlcase: exercise fpc's netlink writer and reader on small Ruleset IR
 * values, in network namespaces the caller made.
 *
 *   nlcase list                 the case names
 *   nlcase nft NAME             the nft text that loads the same table
 *   nlcase apply NAME NETNS     load case NAME with the netlink writer
 *   nlcase refuse NETNS         apply a table the kernel refuses (a jump to
 *                               a missing chain, made by line 42 of a
 *                               policies/test.fp held in memory); prints
 *                               the error, quoting that line; exit 1
 *   nlcase read NETNS           every table read back and decoded, as text
 */
#include "kernel.h"

#include <arpa/inet.h>

static Arena *A;

static RsValue vint(uint64_t lo, uint64_t hi)
{
	return (RsValue){ .kind = VAL_INT, .lo = lo, .hi = hi };
}

static RsValue vif(const char *name, bool wild)
{
	return (RsValue){ .kind = VAL_IFNAME, .name = name, .wildcard = wild };
}

/* "10.0.0.0/8", "fd00::1", "10.0.0.1-10.0.0.9" */
static RsValue vaddr(const char *s)
{
	RsValue v = { .kind = VAL_ADDR };
	char buf[128], *dash, *slash;
	int fam, len;

	snprintf(buf, sizeof buf, "%s", s);
	fam = strchr(buf, ':') ? AF_INET6 : AF_INET;
	v.fam = fam == AF_INET6 ? FAM_IP6 : FAM_IP4;
	len = fam == AF_INET6 ? 16 : 4;
	if ((dash = strchr(buf, '-'))) {
		*dash = 0;
		inet_pton(fam, buf, v.addr_lo);
		inet_pton(fam, dash + 1, v.addr_hi);
		return v;
	}
	slash = strchr(buf, '/');
	if (slash)
		*slash = 0;
	inet_pton(fam, buf, v.addr_lo);
	memcpy(v.addr_hi, v.addr_lo, (size_t)len);
	if (slash)
		for (int i = atoi(slash + 1); i < len * 8; i++)
			v.addr_hi[i / 8] |= (uint8_t)(0x80 >> (i % 8));
	return v;
}

static RsMatch m1(RsKey k, bool neg, RsValue v)
{
	RsValue *p = arena_alloc(A, sizeof *p);

	*p = v;
	return (RsMatch){ .key = k, .neg = neg, .vals = p, .n_vals = 1 };
}

/* An arena copy of n objects of size bytes at src (src may be NULL when
 * n is 0); never NULL. */
static void *adup(const void *src, int n, size_t size)
{
	void *p = arena_alloc(A, (size_t)(n ? n : 1) * size);

	if (n)
		memcpy(p, src, (size_t)n * size);
	return p;
}

static RsMatch mn(RsKey k, bool neg, int n, const RsValue *v)
{
	RsValue *p = adup(v, n, sizeof *p);

	return (RsMatch){ .key = k, .neg = neg, .vals = p, .n_vals = n };
}

static RsMatch mset(RsKey k, bool neg, const char *set)
{
	return (RsMatch){ .key = k, .neg = neg, .set = set };
}

typedef struct Case {
	const char *name;
	const char *nft;
	RsTable t;
} Case;

#define MS(...) ((RsMatch[]){ __VA_ARGS__ })
#define NM(arr) (int)(sizeof(arr) / sizeof((arr)[0]))

static RsRule rule(RsMatch *ms, int n, RsVerdictKind v, const char *comment)
{
	RsMatch *p = adup(ms, n, sizeof *p);

	return (RsRule){ .matches = p, .n_matches = n, .verdict = v, .comment = comment };
}

#define R(v, c, ...) rule(MS(__VA_ARGS__), NM(MS(__VA_ARGS__)), v, c)
#define R0(v, c) rule(NULL, 0, v, c)

static RsChain base(const char *name, RsHook h, int prio, RsVerdictKind pol,
		    int n, RsRule *rules)
{
	RsRule *p = adup(rules, n, sizeof *p);

	return (RsChain){ .name = name, .hook = h, .type = "filter",
			  .priority = prio, .policy = pol, .rules = p, .n_rules = n };
}

/* Every case: a table built by hand and the nft text that loads it. */
static int cases(Case *out)
{
	int n = 0;
	RsValue ifs[] = { vif("podman", true), vif("cni-", true) };
	RsValue ports[] = { vint(873, 873), vint(8080, 8080) };
	RsValue pr[] = { vint(22, 22), vint(1024, 65535) };
	RsValue a4[] = { vaddr("10.0.0.1"), vaddr("10.0.0.2"), vaddr("10.9.0.0/16") };
	RsValue a4p[] = { vaddr("10.0.0.1"), vaddr("10.0.0.5") };
	RsValue a6[] = { vaddr("fd00::/8"), vaddr("::1") };
	RsValue uids[] = { vint(0, 0), vint(990, 990) };
	RsValue l4[] = { vint(6, 6), vint(17, 17) };
	RsValue exact[] = { vif("wg0", false), vif("eth0", false) };
	RsValue *setel = arena_alloc(A, 4 * sizeof *setel);
	RsSet *sets = arena_alloc(A, 2 * sizeof *sets);
	RsRule basic[] = {
		R(VERDICT_ACCEPT, "laptop->api",
		  m1(KEY_IIFNAME, false, vif("wg0", false)),
		  m1(KEY_L4PROTO, false, vint(6, 6)), mn(KEY_DPORT, false, 2, ports),
		  m1(KEY_NFPROTO, false, vint(2, 2)), m1(KEY_SADDR, false, vaddr("10.0.0.2"))),
		R(VERDICT_DROP, NULL, mn(KEY_IIFNAME, false, 2, ifs),
		  m1(KEY_L4PROTO, false, vint(6, 6)), mn(KEY_DPORT, false, 2, ports)),
		R(VERDICT_DROP, "anyone", m1(KEY_L4PROTO, false, vint(6, 6)),
		  mn(KEY_DPORT, false, 2, ports)),
	};
	RsRule forms[] = {
		R(VERDICT_DROP, NULL, m1(KEY_NFPROTO, false, vint(2, 2)),
		  m1(KEY_SADDR, false, vaddr("10.88.0.0/16"))),
		R(VERDICT_DROP, NULL, m1(KEY_NFPROTO, false, vint(2, 2)),
		  m1(KEY_SADDR, true, vaddr("10.80.0.0/12"))),
		R(VERDICT_DROP, NULL, m1(KEY_NFPROTO, false, vint(2, 2)),
		  m1(KEY_DADDR, false, vaddr("10.0.0.1-10.0.0.9"))),
		R(VERDICT_DROP, NULL, m1(KEY_NFPROTO, false, vint(2, 2)),
		  mn(KEY_SADDR, false, 3, a4)),
		R(VERDICT_DROP, NULL, m1(KEY_NFPROTO, false, vint(2, 2)),
		  mn(KEY_SADDR, true, 2, a4p)),
		R(VERDICT_DROP, NULL, m1(KEY_NFPROTO, false, vint(10, 10)),
		  m1(KEY_SADDR, false, vaddr("fd00::/64"))),
		R(VERDICT_DROP, NULL, m1(KEY_NFPROTO, false, vint(10, 10)),
		  m1(KEY_SADDR, false, vaddr("fd00::/60"))),
		R(VERDICT_DROP, NULL, m1(KEY_NFPROTO, false, vint(10, 10)),
		  mn(KEY_DADDR, false, 2, a6)),
		R(VERDICT_DROP, NULL, m1(KEY_L4PROTO, false, vint(6, 6)),
		  m1(KEY_DPORT, false, vint(1000, 2000))),
		R(VERDICT_DROP, NULL, m1(KEY_L4PROTO, false, vint(6, 6)),
		  m1(KEY_DPORT, true, vint(1000, 2000))),
		R(VERDICT_DROP, NULL, m1(KEY_L4PROTO, false, vint(17, 17)),
		  m1(KEY_SPORT, true, vint(53, 53))),
		R(VERDICT_DROP, NULL, m1(KEY_L4PROTO, false, vint(6, 6)),
		  mn(KEY_DPORT, false, 2, pr)),
		R(VERDICT_DROP, NULL, mn(KEY_L4PROTO, false, 2, l4)),
		R(VERDICT_ACCEPT, NULL, m1(KEY_CTSTATE, false, vint(6, 6))),
		R(VERDICT_DROP, NULL, m1(KEY_CTSTATE, true, vint(2, 2))),
		R(VERDICT_DROP, NULL, mn(KEY_SKUID, false, 2, uids)),
		R(VERDICT_DROP, NULL, m1(KEY_SKGID, false, vint(100, 100))),
		R(VERDICT_DROP, NULL, mn(KEY_OIFNAME, true, 2, exact)),
		R(VERDICT_DROP, NULL, m1(KEY_OIFNAME, true, vif("lo", false))),
		R(VERDICT_REJECT, NULL, m1(KEY_L4PROTO, false, vint(17, 17))),
		R(VERDICT_REJECT, NULL, m1(KEY_NFPROTO, false, vint(10, 10))),
		R(VERDICT_REJECT, "tcp reset", m1(KEY_L4PROTO, false, vint(6, 6)),
		  m1(KEY_DPORT, false, vint(8080, 8080))),
		R(VERDICT_JUMP, NULL, mset(KEY_IIFNAME, false, "ifs")),
		R(VERDICT_GOTO, NULL, m1(KEY_NFPROTO, false, vint(2, 2)),
		  mset(KEY_SADDR, true, "srcs")),
		R(VERDICT_CONTINUE, NULL, m1(KEY_IIFNAME, false, vif("eth0", false))),
		R0(VERDICT_RETURN, NULL),
	};
	RsChain *ch;

	basic[0].counter = true;
	forms[24].counter = true;
	forms[22].target = forms[23].target = "other";
	forms[21].reject = REJECT_TCP_RESET;
	ch = arena_alloc(A, 2 * sizeof *ch);
	ch[0] = base("input", HOOK_INPUT, 0, VERDICT_ACCEPT, NM(basic), basic);
	ch[1] = base("output", HOOK_OUTPUT, 10, VERDICT_DROP, 0, NULL);
	ch[1].comment = "an empty base chain";
	out[n++] = (Case){ "basic",
		"table inet t {\n"
		"\tchain input {\n\t\ttype filter hook input priority 0; policy accept;\n"
		"\t\tiifname \"wg0\" tcp dport { 873, 8080 } ip saddr 10.0.0.2 counter accept comment \"laptop->api\"\n"
		"\t\tiifname { \"podman*\", \"cni-*\" } tcp dport { 873, 8080 } drop\n"
		"\t\ttcp dport { 873, 8080 } drop comment \"anyone\"\n"
		"\t}\n"
		"\tchain output {\n\t\ttype filter hook output priority 10; policy drop;\n"
		"\t\tcomment \"an empty base chain\"\n\t}\n}\n",
		{ RS_INET, "t", NULL, 0, ch, 2 } };

	setel[0] = vif("wg", true);
	setel[1] = vif("eth0", false);
	sets[0] = (RsSet){ "ifs", SETTYPE_IFNAME, true, setel, 2, NULL };
	setel[2] = vaddr("10.0.0.1");
	setel[3] = vaddr("10.0.0.2");
	sets[1] = (RsSet){ "srcs", SETTYPE_IPV4, true, setel + 2, 2, "two hosts" };
	ch = arena_alloc(A, 2 * sizeof *ch);
	ch[0] = base("input", HOOK_INPUT, -5, VERDICT_ACCEPT, NM(forms), forms);
	ch[1] = (RsChain){ .name = "other", .hook = HOOK_NONE, .comment = "regular" };
	out[n++] = (Case){ "forms",
		"table inet t {\n"
		"\tset ifs { type ifname; flags interval; elements = { \"wg*\", \"eth0\" }; }\n"
		"\tset srcs { type ipv4_addr; flags interval; elements = { 10.0.0.1, 10.0.0.2 }; comment \"two hosts\"; }\n"
		"\tchain input {\n\t\ttype filter hook input priority -5; policy accept;\n"
		"\t\tip saddr 10.88.0.0/16 drop\n"
		"\t\tip saddr != 10.80.0.0/12 drop\n"
		"\t\tip daddr 10.0.0.1-10.0.0.9 drop\n"
		"\t\tip saddr { 10.0.0.1, 10.0.0.2, 10.9.0.0/16 } drop\n"
		"\t\tip saddr != { 10.0.0.1, 10.0.0.5 } drop\n"
		"\t\tip6 saddr fd00::/64 drop\n"
		"\t\tip6 saddr fd00::/60 drop\n"
		"\t\tip6 daddr { fd00::/8, ::1 } drop\n"
		"\t\ttcp dport 1000-2000 drop\n"
		"\t\ttcp dport != 1000-2000 drop\n"
		"\t\tudp sport != 53 drop\n"
		"\t\ttcp dport { 22, 1024-65535 } drop\n"
		"\t\tmeta l4proto { tcp, udp } drop\n"
		"\t\tct state established,related accept\n"
		"\t\tct state != established drop\n"
		"\t\tmeta skuid { 0, 990 } drop\n"
		"\t\tmeta skgid 100 drop\n"
		"\t\toifname != { \"wg0\", \"eth0\" } drop\n"
		"\t\toifname != \"lo\" drop\n"
		"\t\tmeta l4proto udp reject\n"
		"\t\tmeta nfproto ipv6 reject\n"
		"\t\ttcp dport 8080 reject with tcp reset comment \"tcp reset\"\n"
		"\t\tiifname @ifs jump other\n"
		"\t\tip saddr != @srcs goto other\n"
		"\t\tiifname \"eth0\" counter\n"
		"\t\treturn\n"
		"\t}\n"
		"\tchain other {\n\t\tcomment \"regular\"\n\t}\n}\n",
		{ RS_INET, "t", sets, 2, ch, 2 } };

	{
		RsRule ipr[] = {
			R(VERDICT_DROP, NULL, m1(KEY_SADDR, false, vaddr("10.0.0.2")),
			  m1(KEY_L4PROTO, false, vint(6, 6)), m1(KEY_DPORT, false, vint(8080, 8080))),
			R(VERDICT_REJECT, NULL, m1(KEY_DADDR, false, vaddr("10.0.0.0/8"))),
		};

		ch = arena_alloc(A, sizeof *ch);
		ch[0] = base("input", HOOK_INPUT, -10, VERDICT_ACCEPT, NM(ipr), ipr);
		out[n++] = (Case){ "ipfamily",
			"table ip t {\n"
			"\tchain input {\n\t\ttype filter hook input priority -10; policy accept;\n"
			"\t\tip saddr 10.0.0.2 tcp dport 8080 drop\n"
			"\t\tip daddr 10.0.0.0/8 reject\n"
			"\t}\n}\n",
			{ RS_IP, "t", NULL, 0, ch, 1 } };
	}
	return n;
}

static void print_ruleset(const Ruleset *rs)
{
	for (int i = 0; i < rs->n_tables; i++) {
		const RsTable *t = &rs->tables[i];

		printf("table %s %s\n", rs_family_name(t->family), t->name);
		for (int j = 0; j < t->n_sets; j++) {
			Buf b = { 0 };
			const RsSet *s = &t->sets[j];

			for (int k = 0; k < s->n_elems; k++) {
				buf_puts(&b, k ? ", " : "");
				nl_value_text(&s->elems[k], s->type == SETTYPE_IFNAME ? KEY_IIFNAME :
					      s->type == SETTYPE_SERVICE ? KEY_DPORT : KEY_SADDR, &b);
			}
			printf("  set %s%s { %s }\n", s->name, s->interval ? " interval" : "",
			       b.data ? b.data : "");
			buf_free(&b);
		}
		for (int j = 0; j < t->n_chains; j++) {
			const RsChain *c = &t->chains[j];

			if (c->hook != HOOK_NONE)
				printf("  chain %s hook %s priority %d policy %s%s%s\n", c->name,
				       rs_hook_name(c->hook), c->priority,
				       c->policy == VERDICT_DROP ? "drop" : "accept",
				       c->comment ? " comment " : "", c->comment ? c->comment : "");
			else
				printf("  chain %s%s%s\n", c->name, c->comment ? " comment " : "",
				       c->comment ? c->comment : "");
			for (int k = 0; k < c->n_rules; k++) {
				Buf b = { 0 };

				nl_rule_text(&c->rules[k], &b);
				printf("    %s\n", b.data ? b.data : "");
				buf_free(&b);
			}
		}
	}
}

/* Load t into netns (replacing it when drop) in one batch; refusals with
 * a policy location go to d when it is not NULL. 0 or 1. */
static int apply_table(const RsTable *t, const char *netns, bool drop, Diag *d)
{
	Buf err = { 0 };
	NlBatch *b = nl_batch_new();
	NlSock *s;
	int rc = 1;

	nl_batch_set_diag(b, d);
	if (drop)
		nl_batch_drop_table(b, t->family, t->name);
	if (nl_batch_add_table(b, t, &err) == 0 && nl_enter_netns(netns, &err) == 0 &&
	    (s = nl_open(&err))) {
		rc = nl_commit(s, b, &err) < 0;
		nl_close(s);
	}
	if (d)
		diag_flush(d, stderr);
	if (err.data)
		fputs(err.data, stderr);
	buf_free(&err);
	nl_batch_free(b);
	return rc;
}

int main(int argc, char **argv)
{
	Case cs[8];
	int n, rc = 2;

	A = arena_new();
	n = cases(cs);
	if (argc == 2 && !strcmp(argv[1], "list")) {
		for (int i = 0; i < n; i++)
			printf("%s\n", cs[i].name);
		rc = 0;
	} else if (argc == 3 && !strcmp(argv[1], "nft")) {
		for (int i = 0; i < n; i++)
			if (!strcmp(cs[i].name, argv[2])) {
				fputs(cs[i].nft, stdout);
				rc = 0;
			}
	} else if (argc == 4 && !strcmp(argv[1], "apply")) {
		for (int i = 0; i < n; i++)
			if (!strcmp(cs[i].name, argv[2]))
				rc = apply_table(&cs[i].t, argv[3], true, NULL);
	} else if (argc == 5 && !strcmp(argv[1], "one")) {
		/* case NAME with only rule IDX of its first chain: for bisecting */
		for (int i = 0; i < n; i++)
			if (!strcmp(cs[i].name, argv[2])) {
				RsTable t = cs[i].t;
				RsChain *ch = arena_alloc(A, (size_t)t.n_chains * sizeof *ch);

				memcpy(ch, t.chains, (size_t)t.n_chains * sizeof *ch);
				ch[0].rules += atoi(argv[3]);
				ch[0].n_rules = 1;
				t.chains = ch;
				rc = apply_table(&t, argv[4], true, NULL);
			}
	} else if (argc == 3 && !strcmp(argv[1], "refuse")) {
		/* the basic table, then a rule jumping to a chain that is not there */
		RsTable t = cs[0].t;
		RsChain *ch = arena_alloc(A, sizeof *ch);
		RsRule *r = arena_alloc(A, 2 * sizeof *r);
		Diag *d = diag_new();
		Buf src = { 0 };

		*ch = t.chains[0];
		r[0] = ch->rules[0];
		r[1] = R0(VERDICT_JUMP, NULL);
		r[1].target = "nowhere";
		for (int l = 1; l < 42; l++)
			buf_puts(&src, "#\n");
		buf_puts(&src, "    stranger   allow  -\n");
		diag_add_source(d, "policies/test.fp", src.data, src.len);
		r[1].origin = (Loc){ "policies/test.fp", 42, 5, 42, 12 };
		r[1].origin_what = "stranger->api";
		ch->rules = r;
		ch->n_rules = 2;
		t.chains = ch;
		t.n_chains = 1;
		rc = apply_table(&t, argv[2], true, d);
		diag_free(d);
		buf_free(&src);
	} else if (argc == 3 && !strcmp(argv[1], "read")) {
		Buf err = { 0 };
		NlSock *s;
		Ruleset *rs;

		if (nl_enter_netns(argv[2], &err) == 0 && (s = nl_open(&err))) {
			rs = nl_read_ruleset(s, A, &err);
			if (rs) {
				print_ruleset(rs);
				rc = 0;
			}
			nl_close(s);
		}
		if (rc)
			fprintf(stderr, "nlcase: %s\n", err.data ? err.data : "error");
		buf_free(&err);
	} else {
		fprintf(stderr, "usage: nlcase list | nft NAME | apply NAME NETNS | "
			"refuse NETNS | read NETNS\n");
	}
	arena_free(A);
	return rc;
}
