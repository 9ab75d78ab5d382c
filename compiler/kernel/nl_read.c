/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * nl_read.c: what the kernel holds, read back through libnftnl.
 *
 * A dump of every table, chain, set (with its elements) and rule, taken
 * between two equal generation ids, becomes either a verbatim snapshot of
 * one table (to put it back exactly) or the Ruleset IR: the expressions
 * of each rule run through a small register machine (meta, payload, ct,
 * bitwise -> cmp, range, lookup; immediate, reject, counter) and what it
 * cannot place becomes a KEY_UNKNOWN match that may match anything.
 */
#include "kernel.h"

#include <errno.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <libmnl/libmnl.h>
#include <libnftnl/table.h>
#include <libnftnl/chain.h>
#include <libnftnl/set.h>
#include <libnftnl/rule.h>
#include <libnftnl/expr.h>
#include <libnftnl/udata.h>
#include <libnftnl/common.h>
#include <libnftnl/gen.h>

#include "nl_int.h"

/* ---- names ------------------------------------------------------------ */

/* see nl.h */
int nl_family_parse(const char *s)
{
	for (int f = RS_INET; f <= RS_NETDEV; f++)
		if (!strcmp(s, rs_family_name((RsFamily)f)))
			return f;
	return -1;
}

/* The IR family of nf_tables family nf, or -1 for one the IR lacks. */
static int rs_family_of(uint32_t nf)
{
	switch (nf) {
	case NFPROTO_INET: return RS_INET;
	case NFPROTO_IPV4: return RS_IP;
	case NFPROTO_IPV6: return RS_IP6;
	case NFPROTO_ARP: return RS_ARP;
	case NFPROTO_BRIDGE: return RS_BRIDGE;
	case NFPROTO_NETDEV: return RS_NETDEV;
	default: return -1;
	}
}

/* ---- the dump --------------------------------------------------------- */

typedef struct Raw {
	VEC(struct nftnl_table *) tables;
	VEC(struct nftnl_chain *) chains;
	VEC(struct nftnl_set *) sets;
	VEC(struct nftnl_rule *) rules;
	Arena *a;
} Raw;

/* Free the objects r holds (NULL entries: taken elsewhere) and its arena. */
static void raw_free(Raw *r)
{
	for (int i = 0; i < r->tables.n; i++)
		if (r->tables.v[i])
			nftnl_table_free(r->tables.v[i]);
	for (int i = 0; i < r->chains.n; i++)
		if (r->chains.v[i])
			nftnl_chain_free(r->chains.v[i]);
	for (int i = 0; i < r->sets.n; i++)
		if (r->sets.v[i])
			nftnl_set_free(r->sets.v[i]);
	for (int i = 0; i < r->rules.n; i++)
		if (r->rules.v[i])
			nftnl_rule_free(r->rules.v[i]);
	arena_free(r->a);
}

typedef struct DumpCtx {
	Raw *raw;
	int type;
	struct nftnl_set *set;	/* GETSETELEM: the set being filled */
	uint32_t genid;
} DumpCtx;

/* One message of a dump: parse it into the DumpCtx's Raw by type. */
static int dump_cb(const struct nlmsghdr *nlh, void *data)
{
	DumpCtx *c = data;

	switch (c->type) {
	case NFT_MSG_GETTABLE: {
		struct nftnl_table *t = nftnl_table_alloc();

		if (nftnl_table_nlmsg_parse(nlh, t) < 0) {
			nftnl_table_free(t);
			return MNL_CB_ERROR;
		}
		vec_push(c->raw->a, &c->raw->tables, t);
		break;
	}
	case NFT_MSG_GETCHAIN: {
		struct nftnl_chain *ch = nftnl_chain_alloc();

		if (nftnl_chain_nlmsg_parse(nlh, ch) < 0) {
			nftnl_chain_free(ch);
			return MNL_CB_ERROR;
		}
		vec_push(c->raw->a, &c->raw->chains, ch);
		break;
	}
	case NFT_MSG_GETSET: {
		struct nftnl_set *s = nftnl_set_alloc();

		if (nftnl_set_nlmsg_parse(nlh, s) < 0) {
			nftnl_set_free(s);
			return MNL_CB_ERROR;
		}
		vec_push(c->raw->a, &c->raw->sets, s);
		break;
	}
	case NFT_MSG_GETSETELEM:
		if (nftnl_set_elems_nlmsg_parse(nlh, c->set) < 0)
			return MNL_CB_ERROR;
		break;
	case NFT_MSG_GETRULE: {
		struct nftnl_rule *r = nftnl_rule_alloc();

		if (nftnl_rule_nlmsg_parse(nlh, r) < 0) {
			nftnl_rule_free(r);
			return MNL_CB_ERROR;
		}
		vec_push(c->raw->a, &c->raw->rules, r);
		break;
	}
	case NFT_MSG_GETGEN: {
		struct nftnl_gen *g = nftnl_gen_alloc();

		if (nftnl_gen_nlmsg_parse(nlh, g) < 0) {
			nftnl_gen_free(g);
			return MNL_CB_ERROR;
		}
		c->genid = nftnl_gen_get_u32(g, NFTNL_GEN_ID);
		nftnl_gen_free(g);
		break;
	}
	default:
		BUG("dump type %d", c->type);
	}
	return MNL_CB_OK;
}

/* see nl_int.h */
const char *nl_strerror(int errnum)
{
	if (errnum == EPERM)
		return "Operation not permitted (nf_tables needs CAP_NET_ADMIN: run fpc as root)";
	return strerror(errnum);
}

/* Send one request (built in buf) and run its answer through dump_cb. */
static int talk(NlSock *s, struct nlmsghdr *nlh, DumpCtx *c, Buf *err)
{
	static char rbuf[1 << 16];
	uint32_t seq = nlh->nlmsg_seq;
	int ret;

	if (mnl_socket_sendto(s->nl, nlh, nlh->nlmsg_len) < 0) {
		buf_printf(err, "netlink: %s", nl_strerror(errno));
		return -1;
	}
	do {
		ret = (int)mnl_socket_recvfrom(s->nl, rbuf, sizeof rbuf);
		if (ret <= 0)
			break;
		ret = mnl_cb_run(rbuf, (size_t)ret, seq, s->portid, dump_cb, c);
	} while (ret > 0);
	if (ret < 0) {
		buf_printf(err, "reading nf_tables: %s", nl_strerror(errno));
		return -1;
	}
	return 0;
}

/* Dump every object of message type (all families) into c; 0 or -1. */
static int dump(NlSock *s, DumpCtx *c, int type, uint16_t flags, Buf *err)
{
	char buf[512];
	struct nlmsghdr *nlh = nftnl_nlmsg_build_hdr(buf, (uint16_t)type,
						     NFPROTO_UNSPEC, flags, ++s->seq);

	c->type = type;
	return talk(s, nlh, c, err);
}

/* Dump the elements of set into it; 0 or -1. */
static int dump_elems(NlSock *s, DumpCtx *c, struct nftnl_set *set, Buf *err)
{
	char buf[1024];
	struct nlmsghdr *nlh = nftnl_nlmsg_build_hdr(
		buf, NFT_MSG_GETSETELEM, (uint16_t)nftnl_set_get_u32(set, NFTNL_SET_FAMILY),
		NLM_F_DUMP, ++s->seq);

	nftnl_set_elems_nlmsg_build_payload(nlh, set);
	c->type = NFT_MSG_GETSETELEM;
	c->set = set;
	return talk(s, nlh, c, err);
}

/* Everything the namespace holds, consistent (same generation before and
 * after); 0 or -1 with err. */
static int read_raw(NlSock *s, Raw *raw, Buf *err)
{
	for (int attempt = 0; attempt < 10; attempt++) {
		DumpCtx c = { raw, 0, NULL, 0 };
		uint32_t gen0;
		int rc = 0;

		memset(raw, 0, sizeof *raw);
		raw->a = arena_new();
		rc = dump(s, &c, NFT_MSG_GETGEN, NLM_F_ACK, err);
		gen0 = c.genid;
		if (rc == 0)
			rc = dump(s, &c, NFT_MSG_GETTABLE, NLM_F_DUMP, err);
		if (rc == 0)
			rc = dump(s, &c, NFT_MSG_GETCHAIN, NLM_F_DUMP, err);
		if (rc == 0)
			rc = dump(s, &c, NFT_MSG_GETSET, NLM_F_DUMP, err);
		for (int i = 0; rc == 0 && i < raw->sets.n; i++)
			rc = dump_elems(s, &c, raw->sets.v[i], err);
		if (rc == 0)
			rc = dump(s, &c, NFT_MSG_GETRULE, NLM_F_DUMP, err);
		if (rc == 0)
			rc = dump(s, &c, NFT_MSG_GETGEN, NLM_F_ACK, err);
		if (rc) {
			raw_free(raw);
			return -1;
		}
		if (c.genid == gen0)
			return 0;
		raw_free(raw);
	}
	buf_printf(err, "the ruleset kept changing while it was read");
	return -1;
}

/* Whether (fam, name) and (fam2, name2) name the same table. */
static bool same_table(uint32_t fam, const char *name, uint32_t fam2,
		       const char *name2)
{
	return fam == fam2 && !strcmp(name, name2);
}

/* ---- snapshots -------------------------------------------------------- */

struct NlSnap {
	Raw raw;		/* only the snapshot table's objects */
};

/* How many objects the snapshot's table holds that it did not copy: the
 * kernel counts chains, sets, stateful objects and flowtables in a table's
 * use count, and a snapshot copies only chains and sets. */
static int snap_uncopied(const NlSnap *sn)
{
	const Raw *r = &sn->raw;
	uint32_t use = nftnl_table_get_u32(r->tables.v[0], NFTNL_TABLE_USE);

	return (int)use - r->chains.n - r->sets.n;
}

/* see nl.h */
int nl_snap_table(NlSock *s, RsFamily fam, const char *name, NlSnap **snap,
		  Buf *err)
{
	NlSnap *sn = xcalloc(1, sizeof *sn);
	Raw all;
	uint32_t nf = 0;
	int found = 0, n;

	*snap = NULL;
	if (read_raw(s, &all, err) < 0) {
		free(sn);
		return -1;
	}
	sn->raw.a = arena_new();
	for (int i = 0; i < all.tables.n; i++) {
		struct nftnl_table *t = all.tables.v[i];

		nf = nftnl_table_get_u32(t, NFTNL_TABLE_FAMILY);
		if (rs_family_of(nf) == (int)fam &&
		    !strcmp(nftnl_table_get_str(t, NFTNL_TABLE_NAME), name)) {
			vec_push(sn->raw.a, &sn->raw.tables, t);
			all.tables.v[i] = NULL;
			found = 1;
			break;
		}
	}
#define TAKE(vec, getfam, gettab)                                            \
	for (int i = 0; found && i < all.vec.n; i++)                         \
		if (same_table(getfam(all.vec.v[i]), gettab(all.vec.v[i]), nf, name)) { \
			vec_push(sn->raw.a, &sn->raw.vec, all.vec.v[i]);     \
			all.vec.v[i] = NULL;                                 \
		}
#define CH_FAM(x) nftnl_chain_get_u32(x, NFTNL_CHAIN_FAMILY)
#define CH_TAB(x) nftnl_chain_get_str(x, NFTNL_CHAIN_TABLE)
#define SET_FAM(x) nftnl_set_get_u32(x, NFTNL_SET_FAMILY)
#define SET_TAB(x) nftnl_set_get_str(x, NFTNL_SET_TABLE)
#define RU_FAM(x) nftnl_rule_get_u32(x, NFTNL_RULE_FAMILY)
#define RU_TAB(x) nftnl_rule_get_str(x, NFTNL_RULE_TABLE)
	TAKE(chains, CH_FAM, CH_TAB)
	TAKE(sets, SET_FAM, SET_TAB)
	TAKE(rules, RU_FAM, RU_TAB)
#undef TAKE
	raw_free(&all);	/* what is left: the other tables' objects */
	if (!found) {
		nl_snap_free(sn);
		return 0;
	}
	n = snap_uncopied(sn);
	if (n > 0) {
		buf_printf(err, "table %s %s holds %d object%s besides its chains and "
			   "sets (named counters, quotas, limits, flowtables, ...), "
			   "which fpc cannot copy, so it could not put the table back; "
			   "nothing applied", rs_family_name(fam), name, n, n == 1 ? "" : "s");
		nl_snap_free(sn);
		return -1;
	}
	*snap = sn;
	return 1;
}

/* see nl.h */
void nl_snap_free(NlSnap *snap)
{
	if (!snap)
		return;
	raw_free(&snap->raw);
	free(snap);
}

/* The snapshot's objects back as messages: table, sets with their
 * elements, chains, rules; kernel-assigned attributes removed. */
void nl_batch_add_snap(NlBatch *b, const NlSnap *snap)
{
	const Raw *r = &snap->raw;
	struct nftnl_table *t = r->tables.v[0];
	uint16_t fam = (uint16_t)nftnl_table_get_u32(t, NFTNL_TABLE_FAMILY);
	const char *tname = nftnl_table_get_str(t, NFTNL_TABLE_NAME);
	NlNote note = { 0 };
	struct nlmsghdr *nlh;

	note.what = arena_printf(b->arena, "table %s (the previous one, restored)",
				 tname);
	nftnl_table_unset(t, NFTNL_TABLE_HANDLE);
	nftnl_table_unset(t, NFTNL_TABLE_USE);
	nftnl_table_unset(t, NFTNL_TABLE_OWNER);
	nftnl_table_set_u32(t, NFTNL_TABLE_FLAGS,
			    nftnl_table_get_u32(t, NFTNL_TABLE_FLAGS) & NFT_TABLE_F_DORMANT);
	nlh = nlb_begin(b, NFT_MSG_NEWTABLE, fam, NLM_F_CREATE);
	nftnl_table_nlmsg_build_payload(nlh, t);
	nlb_end(b, nlh, note);
	for (int i = 0; i < r->sets.n; i++) {
		struct nftnl_set *s = r->sets.v[i];
		struct nftnl_set_elems_iter *it;

		nftnl_set_unset(s, NFTNL_SET_HANDLE);
		nftnl_set_set_u32(s, NFTNL_SET_ID, ++b->set_id);
		nlh = nlb_begin(b, NFT_MSG_NEWSET, fam, NLM_F_CREATE);
		nftnl_set_nlmsg_build_payload(nlh, s);
		nlb_end(b, nlh, note);
		it = nftnl_set_elems_iter_create(s);
		for (int more = it && nftnl_set_elems_iter_cur(it); more;) {
			nlh = nlb_begin(b, NFT_MSG_NEWSETELEM, fam, NLM_F_CREATE);
			more = nftnl_set_elems_nlmsg_build_payload_iter(nlh, it);
			if (more < 0)
				BUG("set elements do not fit a message");
			nlb_end(b, nlh, note);
		}
		if (it)
			nftnl_set_elems_iter_destroy(it);
	}
	for (int i = 0; i < r->chains.n; i++) {
		struct nftnl_chain *c = r->chains.v[i];

		nftnl_chain_unset(c, NFTNL_CHAIN_HANDLE);
		nftnl_chain_unset(c, NFTNL_CHAIN_USE);
		nftnl_chain_unset(c, NFTNL_CHAIN_BYTES);
		nftnl_chain_unset(c, NFTNL_CHAIN_PACKETS);
		nftnl_chain_unset(c, NFTNL_CHAIN_FLAGS);
		nlh = nlb_begin(b, NFT_MSG_NEWCHAIN, fam, NLM_F_CREATE);
		nftnl_chain_nlmsg_build_payload(nlh, c);
		nlb_end(b, nlh, note);
	}
	for (int i = 0; i < r->rules.n; i++) {
		struct nftnl_rule *ru = r->rules.v[i];

		nftnl_rule_unset(ru, NFTNL_RULE_HANDLE);
		nftnl_rule_unset(ru, NFTNL_RULE_POSITION);
		nlh = nlb_begin(b, NFT_MSG_NEWRULE, fam, NLM_F_CREATE | NLM_F_APPEND);
		nftnl_rule_nlmsg_build_payload(nlh, ru);
		nlb_end(b, nlh, note);
	}
}

/* ---- decoding sets ---------------------------------------------------- */

typedef struct Elem {
	uint8_t key[16];
	bool end, open;
	const char *comment;	/* the element's comment, or NULL */
	bool has_verdict;	/* a verdict map's element: */
	uint32_t verdict;	/* its verdict (NF_ACCEPT, ...) */
	bool chain;		/* and it names a chain (jump, goto) */
} Elem;

static int elem_cmp_len;
/* qsort order of collected elements: by key bytes. */
static int elem_cmp(const void *a, const void *b)
{
	const Elem *x = a, *y = b;
	int c = memcmp(x->key, y->key, (size_t)elem_cmp_len);

	if (c)
		return c;
	return (int)y->end - (int)x->end;	/* an end before a start */
}

/* nftnl_set_elem_foreach callback: keep one element's key and flags. */
static int elem_collect(struct nftnl_set_elem *e, void *data)
{
	VEC(Elem) *v = ((void **)data)[0];
	Arena *a = ((void **)data)[1];
	int klen = *(int *)((void **)data)[2];
	Elem el = { 0 };
	uint32_t len = 0;
	const void *key = nftnl_set_elem_get(e, NFTNL_SET_ELEM_KEY, &len);
	const uint8_t *ud;

	if (!key)
		return 0;
	memcpy(el.key, key, len > 16 ? 16 : len);
	(void)klen;
	if (nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_FLAGS))
		el.end = nftnl_set_elem_get_u32(e, NFTNL_SET_ELEM_FLAGS) &
			 NFT_SET_ELEM_INTERVAL_END;
	if (nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_VERDICT)) {
		el.has_verdict = true;
		el.verdict = nftnl_set_elem_get_u32(e, NFTNL_SET_ELEM_VERDICT);
		el.chain = nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_CHAIN);
	}
	ud = nftnl_set_elem_get(e, NFTNL_SET_ELEM_USERDATA, &len);
	/* NFTNL_UDATA_SET_ELEM_FLAGS: type 1, 4 bytes */
	for (uint32_t off = 0; ud && off + 2 <= len; off += 2u + ud[off + 1])
		if (ud[off] == NFTNL_UDATA_SET_ELEM_FLAGS && ud[off + 1] == 4 &&
		    off + 6 <= len) {
			uint32_t f;

			memcpy(&f, ud + off + 2, 4);
			el.open = f & NFTNL_SET_ELEM_F_INTERVAL_OPEN;
		} else if (ud[off] == NFTNL_UDATA_SET_ELEM_COMMENT && ud[off + 1] > 0 &&
			   off + 2u + ud[off + 1] <= len) {
			el.comment = arena_strndup(a, (const char *)ud + off + 2, ud[off + 1]);
		}
	vec_push(a, v, el);
	return 0;
}

typedef struct KeyIval {
	uint8_t lo[16], hi[16];
	const char *comment;	/* the element's comment, or NULL */
	bool has_verdict;	/* a verdict map's element, and its verdict */
	uint32_t verdict;
	bool chain;
} KeyIval;

/* The set's contents as intervals of klen bytes (points: lo == hi). */
static int set_ivals(Arena *a, struct nftnl_set *s, int klen, KeyIval **out)
{
	VEC(Elem) v = { 0 };
	VEC(KeyIval) iv = { 0 };
	void *ctx[3] = { &v, a, &klen };
	bool interval = nftnl_set_get_u32(s, NFTNL_SET_FLAGS) & NFT_SET_INTERVAL;

	nftnl_set_elem_foreach(s, elem_collect, ctx);
	elem_cmp_len = klen;
	if (v.n)
		qsort(v.v, (size_t)v.n, sizeof *v.v, elem_cmp);
	for (int i = 0; i < v.n; i++) {
		KeyIval k = { 0 };

		if (v.v[i].end)
			continue;
		memcpy(k.lo, v.v[i].key, 16);
		memcpy(k.hi, v.v[i].key, 16);
		k.comment = v.v[i].comment;
		k.has_verdict = v.v[i].has_verdict;
		k.verdict = v.v[i].verdict;
		k.chain = v.v[i].chain;
		if (interval) {
			int j = i + 1;

			while (j < v.n && !v.v[j].end)
				j++;
			if (j < v.n && !v.v[i].open) {
				/* hi = end - 1 */
				memcpy(k.hi, v.v[j].key, 16);
				for (int b = klen - 1; b >= 0; b--)
					if (k.hi[b]-- != 0)
						break;
			} else {
				memset(k.hi, 0xff, (size_t)klen);
			}
		}
		vec_push(a, &iv, k);
	}
	*out = iv.v;
	return iv.n;
}

/* ---- decoding rules --------------------------------------------------- */

typedef enum { R_NONE, R_META, R_PAYLOAD, R_CT, R_OTHER } RegKind;

typedef struct Reg {
	RegKind kind;
	uint32_t key;		/* meta / ct key */
	uint32_t base, off, len;	/* payload */
	bool masked;
	uint8_t mask[16];
	const char *desc;	/* R_OTHER: for reports */
} Reg;

typedef struct Dec {
	Arena *a;
	RsFamily tfam;
	AddrFamily fam;		/* the network protocol in force */
	int l4;			/* the transport protocol in force, or 0 */
	Reg reg[32];
	VEC(RsMatch) m;
	RsRule *rule;
	Raw *raw;
	uint32_t nffam;
	const char *table;
	bool last_gte;		/* the previous match came from cmp gte */
} Dec;

/* Register r of d, by where its data starts: a 16-byte register NFT_REG_n
 * starts where the 32-bit NFT_REG32_(4n-4) does (nft writes either), at
 * reg[16 + the 32-bit index]; the verdict register and out-of-range
 * numbers read reg[0]. */
static Reg *reg_at(Dec *d, uint32_t r)
{
	if (r >= NFT_REG_1 && r <= NFT_REG_4)
		return &d->reg[16 + (r - NFT_REG_1) * 4];
	if (r >= NFT_REG32_00 && r <= NFT_REG32_15)
		return &d->reg[16 + (r - NFT_REG32_00)];
	return &d->reg[0];
}

/* Add a KEY_UNKNOWN match (may match) described by fmt and a. */
static void unknown(Dec *d, const char *fmt, const char *a)
{
	RsMatch m = { 0 };

	m.key = KEY_UNKNOWN;
	m.unknown = arena_printf(d->a, fmt, a);
	vec_push(d->a, &d->m, m);
	d->last_gte = false;
}

/* nft's names of meta keys ("meta mark"). */
static const char *const meta_names[] = {
	[NFT_META_LEN] = "length", [NFT_META_PROTOCOL] = "protocol",
	[NFT_META_PRIORITY] = "priority", [NFT_META_MARK] = "mark",
	[NFT_META_IIF] = "iif", [NFT_META_OIF] = "oif",
	[NFT_META_IIFTYPE] = "iiftype", [NFT_META_OIFTYPE] = "oiftype",
	[NFT_META_NFTRACE] = "nftrace", [NFT_META_RTCLASSID] = "rtclassid",
	[NFT_META_SECMARK] = "secmark", [NFT_META_BRI_IIFNAME] = "ibrname",
	[NFT_META_BRI_OIFNAME] = "obrname", [NFT_META_PKTTYPE] = "pkttype",
	[NFT_META_CPU] = "cpu", [NFT_META_IIFGROUP] = "iifgroup",
	[NFT_META_OIFGROUP] = "oifgroup", [NFT_META_CGROUP] = "cgroup",
	[NFT_META_PRANDOM] = "random", [NFT_META_SECPATH] = "ipsec",
	[NFT_META_IIFKIND] = "iifkind", [NFT_META_OIFKIND] = "oifkind",
	[NFT_META_TIME_NS] = "time", [NFT_META_TIME_DAY] = "day",
	[NFT_META_TIME_HOUR] = "hour", [NFT_META_SDIF] = "sdif",
	[NFT_META_SDIFNAME] = "sdifname",
};

/* nft's names of ct keys ("ct mark"). */
static const char *const ct_names[] = {
	[NFT_CT_DIRECTION] = "direction", [NFT_CT_STATUS] = "status",
	[NFT_CT_MARK] = "mark", [NFT_CT_SECMARK] = "secmark",
	[NFT_CT_EXPIRATION] = "expiration", [NFT_CT_HELPER] = "helper",
	[NFT_CT_L3PROTOCOL] = "l3proto", [NFT_CT_SRC] = "saddr",
	[NFT_CT_DST] = "daddr", [NFT_CT_PROTOCOL] = "protocol",
	[NFT_CT_PROTO_SRC] = "proto-src", [NFT_CT_PROTO_DST] = "proto-dst",
	[NFT_CT_LABELS] = "label", [NFT_CT_PKTS] = "packets",
	[NFT_CT_BYTES] = "bytes", [NFT_CT_AVGPKT] = "avgpkt",
	[NFT_CT_ZONE] = "zone", [NFT_CT_EVENTMASK] = "event",
	[NFT_CT_ID] = "id",
};

/* nft's names of socket keys ("socket mark"). */
static const char *const socket_names[] = {
	[NFT_SOCKET_TRANSPARENT] = "transparent", [NFT_SOCKET_MARK] = "mark",
	[NFT_SOCKET_WILDCARD] = "wildcard", [NFT_SOCKET_CGROUPV2] = "cgroupv2",
};

#define KEY_DESC(a, what, names, k) key_desc(a, what, names, sizeof names / sizeof *names, k)

/* "WHAT NAME" for key k of an expression with n key names, else "WHAT key K". */
static const char *key_desc(Arena *a, const char *what, const char *const *names,
			    size_t n, uint32_t k)
{
	return k < n && names[k] ? arena_printf(a, "%s %s", what, names[k])
				 : arena_printf(a, "%s key %u", what, k);
}

/* A register's content for reports: "meta mark", "ct helper", "payload:
 * 1 byte at 8 of the network header", "socket transparent", "fib". */
static const char *reg_desc(Dec *d, const Reg *r)
{
	static const char *const base[] = { "link", "network", "transport", "inner" };

	switch (r->kind) {
	case R_META:
		return KEY_DESC(d->a, "meta", meta_names, r->key);
	case R_PAYLOAD:
		return arena_printf(d->a, "payload: %u byte%s at %u of the %s header",
				    r->len, r->len == 1 ? "" : "s", r->off,
				    r->base < 4 ? base[r->base] : "unknown");
	case R_CT:
		return KEY_DESC(d->a, "ct", ct_names, r->key);
	case R_OTHER: return r->desc;
	case R_NONE: return "an empty register";
	default: BUG("reg kind %d", r->kind);
	}
}

/* Whether transport protocol p starts with 16-bit source and destination ports. */
static bool l4_has_ports(int p)
{
	return p == 6 || p == 17 || p == 132 || p == 33 || p == 136;
}

/* The IR key register r holds, or KEY_UNKNOWN; *klen the full key width. */
static RsKey reg_key(Dec *d, const Reg *r, int *klen)
{
	*klen = 0;
	if (r->kind == R_META) {
		switch (r->key) {
		case NFT_META_IIFNAME: *klen = 16; return KEY_IIFNAME;
		case NFT_META_OIFNAME: *klen = 16; return KEY_OIFNAME;
		case NFT_META_NFPROTO: *klen = 1; return KEY_NFPROTO;
		case NFT_META_L4PROTO: *klen = 1; return KEY_L4PROTO;
		case NFT_META_SKUID: *klen = 4; return KEY_SKUID;
		case NFT_META_SKGID: *klen = 4; return KEY_SKGID;
		default: return KEY_UNKNOWN;
		}
	}
	if (r->kind == R_CT && r->key == NFT_CT_STATE) {
		*klen = 4;
		return KEY_CTSTATE;
	}
	if (r->kind != R_PAYLOAD)
		return KEY_UNKNOWN;
	if (r->base == NFT_PAYLOAD_NETWORK_HEADER) {
		if (d->fam == FAM_IP4 && d->tfam != RS_IP6) {
			*klen = 4;
			if (r->off == 12 && r->len <= 4)
				return KEY_SADDR;
			if (r->off == 16 && r->len <= 4)
				return KEY_DADDR;
			if (r->off == 9 && r->len == 1 && d->tfam == RS_IP) {
				*klen = 1;
				return KEY_L4PROTO;
			}
		} else if (d->fam == FAM_IP6) {
			*klen = 16;
			if (r->off == 8 && r->len <= 16)
				return KEY_SADDR;
			if (r->off == 24 && r->len <= 16)
				return KEY_DADDR;
			if (r->off == 6 && r->len == 1 && d->tfam == RS_IP6) {
				*klen = 1;
				return KEY_L4PROTO;
			}
		}
		return KEY_UNKNOWN;
	}
	if (r->base == NFT_PAYLOAD_TRANSPORT_HEADER && r->len == 2 &&
	    l4_has_ports(d->l4)) {
		*klen = 2;
		if (r->off == 0)
			return KEY_SPORT;
		if (r->off == 2)
			return KEY_DPORT;
	}
	return KEY_UNKNOWN;
}

/* x += step (+1 or -1) over len big-endian bytes; false when it wraps. */
static bool bytes_step(uint8_t *x, int len, int step)
{
	for (int i = len - 1; i >= 0; i--) {
		if (step > 0 && ++x[i] != 0)
			return true;
		if (step < 0 && x[i]-- != 0)
			return true;
	}
	return false;
}

/* The big-endian integer of len bytes at p. */
static uint64_t be_int(const uint8_t *p, int len)
{
	uint64_t v = 0;

	for (int i = 0; i < len; i++)
		v = v << 8 | p[i];
	return v;
}

/* A value of key k from interval bytes lo..hi (klen bytes, both full
 * width); false when it has no IR form. */
static bool make_value(Dec *d, RsKey k, const uint8_t *lo, const uint8_t *hi,
		       int klen, RsValue *v)
{
	memset(v, 0, sizeof *v);
	switch (k) {
	case KEY_IIFNAME:
	case KEY_OIFNAME: {
		int n = 0;

		v->kind = VAL_IFNAME;
		if (!memcmp(lo, hi, 16)) {
			v->name = arena_strndup(d->a, (const char *)lo, 16);
			return true;
		}
		while (n < 16 && lo[n] == hi[n])
			n++;
		for (int i = n; i < 16; i++)
			if (lo[i] != 0 || hi[i] != 0xff)
				return false;
		v->name = arena_strndup(d->a, (const char *)lo, (size_t)n);
		v->wildcard = true;
		return strlen(v->name) == (size_t)n;
	}
	case KEY_NFPROTO:
	case KEY_L4PROTO:
	case KEY_SPORT:
	case KEY_DPORT:
		v->kind = VAL_INT;
		v->lo = be_int(lo, klen);
		v->hi = be_int(hi, klen);
		return true;
	case KEY_SKUID:
	case KEY_SKGID:
	case KEY_CTSTATE: {
		uint32_t a, b;

		memcpy(&a, lo, 4);
		memcpy(&b, hi, 4);
		v->kind = VAL_INT;
		v->lo = a;
		v->hi = b;
		return true;
	}
	case KEY_SADDR:
	case KEY_DADDR:
		v->kind = VAL_ADDR;
		v->fam = klen == 16 ? FAM_IP6 : FAM_IP4;
		memcpy(v->addr_lo, lo, (size_t)klen);
		memcpy(v->addr_hi, hi, (size_t)klen);
		return true;
	default:
		return false;
	}
}

/* Add a match on k to the rule being decoded, noting protocol context. */
static void push_match(Dec *d, RsKey k, bool neg, RsValue *vals, int n,
		       const char *set)
{
	RsMatch m = { 0 };

	m.key = k;
	m.neg = neg;
	m.vals = vals;
	m.n_vals = n;
	m.set = set;
	vec_push(d->a, &d->m, m);
	d->last_gte = false;
	if (k == KEY_NFPROTO && !neg && n == 1 && vals[0].lo == vals[0].hi)
		d->fam = vals[0].lo == 10 ? FAM_IP6 : FAM_IP4;
	if (k == KEY_L4PROTO && !neg && n == 1 && vals[0].lo == vals[0].hi)
		d->l4 = (int)vals[0].lo;
}

/* cmp: a value (or half a range) against what the register holds. */
static void dec_cmp(Dec *d, struct nftnl_expr *e)
{
	uint32_t sreg = nftnl_expr_get_u32(e, NFTNL_EXPR_CMP_SREG);
	uint32_t op = nftnl_expr_get_u32(e, NFTNL_EXPR_CMP_OP), dlen = 0;
	const uint8_t *data = nftnl_expr_get(e, NFTNL_EXPR_CMP_DATA, &dlen);
	Reg *r = reg_at(d, sreg);
	uint8_t lo[16] = { 0 }, hi[16];
	int klen;
	RsKey k = reg_key(d, r, &klen);
	RsValue *v = arena_alloc(d->a, sizeof *v);

	if (k == KEY_UNKNOWN || !data || dlen > 16) {
		unknown(d, "cmp on %s", reg_desc(d, r));
		return;
	}
	if (k == KEY_CTSTATE) {
		uint32_t val, mask = 0;

		memcpy(&val, data, 4);
		if (r->masked)
			memcpy(&mask, r->mask, 4);
		v->kind = VAL_INT;
		if (r->masked && val == 0 && (op == NFT_CMP_NEQ || op == NFT_CMP_EQ)) {
			v->lo = v->hi = mask;
			push_match(d, k, op == NFT_CMP_EQ, v, 1, NULL);
		} else if (!r->masked && (op == NFT_CMP_EQ || op == NFT_CMP_NEQ) &&
			   val && !(val & (val - 1))) {
			v->lo = v->hi = val;
			push_match(d, k, op == NFT_CMP_NEQ, v, 1, NULL);
		} else {
			unknown(d, "%s", "ct state compare");
		}
		return;
	}
	if (k == KEY_IIFNAME || k == KEY_OIFNAME) {
		bool exact = dlen == 16 && memchr(data, 0, 16);

		if (op != NFT_CMP_EQ && op != NFT_CMP_NEQ) {
			unknown(d, "%s", "interface name ordering");
			return;
		}
		v->kind = VAL_IFNAME;
		v->name = arena_strndup(d->a, (const char *)data, dlen);
		v->wildcard = !exact;
		if (strlen(v->name) != (exact ? strlen(v->name) : dlen)) {
			unknown(d, "%s", "interface name with a NUL");
			return;
		}
		push_match(d, k, op == NFT_CMP_NEQ, v, 1, NULL);
		return;
	}
	/* a shortened load or a mask: a prefix of the full key */
	memcpy(lo, data, dlen);
	memcpy(hi, data, dlen);
	if (r->kind == R_PAYLOAD && (k == KEY_SADDR || k == KEY_DADDR)) {
		int plen = (int)r->len * 8;

		if (r->masked) {
			plen = 0;
			for (uint32_t i = 0; i < r->len * 8; i++)
				if (r->mask[i / 8] & (0x80 >> (i % 8)))
					plen = (int)i + 1;
		}
		for (int i = plen; i < klen * 8; i++) {
			lo[i / 8] &= (uint8_t)~(0x80 >> (i % 8));
			hi[i / 8] |= (uint8_t)(0x80 >> (i % 8));
		}
		if (dlen < (uint32_t)klen)
			memset(hi + dlen, 0xff, (size_t)klen - dlen);
	} else if (r->masked || dlen != (uint32_t)klen) {
		unknown(d, "masked %s", reg_desc(d, r));
		return;
	}
	switch (op) {
	case NFT_CMP_EQ:
	case NFT_CMP_NEQ:
		if (!make_value(d, k, lo, hi, klen, v))
			break;
		push_match(d, k, op == NFT_CMP_NEQ, v, 1, NULL);
		return;
	case NFT_CMP_GTE:
	case NFT_CMP_GT:
	case NFT_CMP_LTE:
	case NFT_CMP_LT: {
		uint8_t edge[16] = { 0 };
		bool upper = op == NFT_CMP_LTE || op == NFT_CMP_LT;

		if (k == KEY_SKUID || k == KEY_SKGID)
			break;
		memcpy(edge, lo, 16);
		if (op == NFT_CMP_GT && !bytes_step(edge, klen, 1))
			break;
		if (op == NFT_CMP_LT && !bytes_step(edge, klen, -1))
			break;
		if (upper && d->last_gte && d->m.n &&
		    d->m.v[d->m.n - 1].key == k) {
			/* cmp gte then cmp lte on one load: a range */
			RsValue *pv = d->m.v[d->m.n - 1].vals;

			if (k == KEY_SADDR || k == KEY_DADDR)
				memcpy(pv->addr_hi, edge, (size_t)klen);
			else
				pv->hi = be_int(edge, klen);
			d->last_gte = false;
			return;
		}
		if (upper) {
			memset(lo, 0, 16);
			memcpy(hi, edge, 16);
		} else {
			memcpy(lo, edge, 16);
			memset(hi, 0xff, (size_t)klen);
		}
		if (!make_value(d, k, lo, hi, klen, v))
			break;
		push_match(d, k, false, v, 1, NULL);
		d->last_gte = !upper;
		return;
	}
	default:
		break;
	}
	unknown(d, "cmp on %s", reg_desc(d, r));
}

/* A range expression: one interval value on its register's key. */
static void dec_range(Dec *d, struct nftnl_expr *e)
{
	uint32_t sreg = nftnl_expr_get_u32(e, NFTNL_EXPR_RANGE_SREG);
	uint32_t op = nftnl_expr_get_u32(e, NFTNL_EXPR_RANGE_OP), l1 = 0, l2 = 0;
	const uint8_t *from = nftnl_expr_get(e, NFTNL_EXPR_RANGE_FROM_DATA, &l1);
	const uint8_t *to = nftnl_expr_get(e, NFTNL_EXPR_RANGE_TO_DATA, &l2);
	Reg *r = reg_at(d, sreg);
	int klen;
	RsKey k = reg_key(d, r, &klen);
	RsValue *v = arena_alloc(d->a, sizeof *v);
	uint8_t lo[16] = { 0 }, hi[16] = { 0 };

	if (k == KEY_UNKNOWN || r->masked || !from || !to || l1 != (uint32_t)klen ||
	    l2 != l1 || k == KEY_SKUID || k == KEY_SKGID) {
		unknown(d, "range on %s", reg_desc(d, r));
		return;
	}
	memcpy(lo, from, l1);
	memcpy(hi, to, l2);
	if (!make_value(d, k, lo, hi, klen, v)) {
		unknown(d, "range on %s", reg_desc(d, r));
		return;
	}
	push_match(d, k, op == NFT_RANGE_NEQ, v, 1, NULL);
}

/* Set name of the rule's table, or NULL. */
static struct nftnl_set *find_set(Dec *d, const char *name)
{
	for (int i = 0; i < d->raw->sets.n; i++) {
		struct nftnl_set *s = d->raw->sets.v[i];

		if (same_table(nftnl_set_get_u32(s, NFTNL_SET_FAMILY),
			       nftnl_set_get_str(s, NFTNL_SET_TABLE), d->nffam, d->table) &&
		    !strcmp(nftnl_set_get_str(s, NFTNL_SET_NAME), name))
			return s;
	}
	return NULL;
}

/* When any element of iv[0..n) has a comment (a lookup fpc merged from
 * rules, each element naming its policy line), give every value of
 * vals[0..n) its element's provenance, so the prover splits the lookup
 * into the rules it stands for (lookup_expand). */
static void elem_provs(Arena *a, const KeyIval *iv, int n, RsValue *vals)
{
	bool any = false;

	for (int i = 0; i < n && !any; i++)
		any = iv[i].comment != NULL;
	for (int i = 0; any && i < n; i++) {
		RsProv *pv = arena_alloc(a, sizeof *pv);

		memset(pv, 0, sizeof *pv);
		pv->comment = iv[i].comment;
		vals[i].prov = pv;
	}
}

/* The verdict map iv[0..n) as the RsVerdictKind of each element (arena
 * a), or NULL when one is not accept or drop (a jump, goto, ...). */
static RsVerdictKind *map_verdicts(Arena *a, const KeyIval *iv, int n)
{
	RsVerdictKind *vm = arena_alloc(a, (size_t)(n ? n : 1) * sizeof *vm);

	for (int i = 0; i < n; i++) {
		if (!iv[i].has_verdict || iv[i].chain ||
		    (iv[i].verdict != NF_ACCEPT && iv[i].verdict != NF_DROP))
			return NULL;
		vm[i] = iv[i].verdict == NF_ACCEPT ? VERDICT_ACCEPT : VERDICT_DROP;
	}
	return vm;
}

/* Is the register's key a ct state whose every element in iv[0..n) is one
 * state (a map key is compared whole, a match mask by bits)? */
static bool single_states(RsKey k, const KeyIval *iv, int n)
{
	for (int i = 0; k == KEY_CTSTATE && i < n; i++) {
		uint32_t st;

		memcpy(&st, iv[i].lo, 4);
		if (!st || (st & (st - 1)) || memcmp(iv[i].lo, iv[i].hi, 4))
			return false;
	}
	return true;
}

/* A lookup whose result is the verdict (`KEY vmap { v : accept, ... }`):
 * a verdict map match, the rule's last. Anything but accept and drop in
 * it is unknown. */
static void dec_vmap(Dec *d, struct nftnl_expr *e, struct nftnl_set *s,
		     RsKey k, int klen, const char *name)
{
	KeyIval *iv;
	RsValue *vals;
	RsVerdictKind *vm;
	int n;

	(void)e;
	if (!(nftnl_set_get_u32(s, NFTNL_SET_FLAGS) & NFT_SET_MAP) ||
	    nftnl_set_get_u32(s, NFTNL_SET_DATA_TYPE) != NFT_DATA_VERDICT) {
		unknown(d, "map lookup in @%s", name);
		return;
	}
	n = set_ivals(d->a, s, klen, &iv);
	vm = map_verdicts(d->a, iv, n);
	if (!vm || !n || !single_states(k, iv, n)) {
		unknown(d, "verdict map @%s", name);
		return;
	}
	vals = arena_alloc(d->a, (size_t)n * sizeof *vals);
	for (int i = 0; i < n; i++)
		if (!make_value(d, k, iv[i].lo, iv[i].hi, klen, &vals[i])) {
			unknown(d, "verdict map @%s", name);
			return;
		}
	elem_provs(d->a, iv, n, vals);
	push_match(d, k, false, vals, n, NULL);
	d->m.v[d->m.n - 1].vmap = vm;
}

/* One element of a concatenation's set: key (and key end, for ranges),
 * verdict, comment. */
typedef struct CatElem {
	uint8_t lo[64], hi[64];
	bool has_verdict, chain;
	uint32_t verdict;
	const char *comment;
} CatElem;

/* nftnl_set_elem_foreach callback: keep a concatenation's element. */
static int cat_collect(struct nftnl_set_elem *e, void *data)
{
	VEC(CatElem) *v = ((void **)data)[0];
	Arena *a = ((void **)data)[1];
	CatElem el = { 0 };
	uint32_t len = 0, elen = 0;
	const void *key = nftnl_set_elem_get(e, NFTNL_SET_ELEM_KEY, &len);
	const void *end = nftnl_set_elem_get(e, NFTNL_SET_ELEM_KEY_END, &elen);
	const uint8_t *ud;

	if (!key || len > 64)
		return 0;
	memcpy(el.lo, key, len);
	memcpy(el.hi, end && elen == len ? end : key, len);
	if (nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_VERDICT)) {
		el.has_verdict = true;
		el.verdict = nftnl_set_elem_get_u32(e, NFTNL_SET_ELEM_VERDICT);
		el.chain = nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_CHAIN);
	}
	ud = nftnl_set_elem_get(e, NFTNL_SET_ELEM_USERDATA, &len);
	for (uint32_t off = 0; ud && off + 2 <= len; off += 2u + ud[off + 1])
		if (ud[off] == NFTNL_UDATA_SET_ELEM_COMMENT && ud[off + 1] > 0 &&
		    off + 2u + ud[off + 1] <= len)
			el.comment = arena_strndup(a, (const char *)ud + off + 2, ud[off + 1]);
	vec_push(a, v, el);
	return 0;
}

static int cat_len;
/* qsort order of a concatenation's elements: by key bytes. */
static int cat_cmp(const void *a, const void *b)
{
	const CatElem *x = a, *y = b;
	int c = memcmp(x->lo, y->lo, (size_t)cat_len);

	return c ? c : memcmp(x->hi, y->hi, (size_t)cat_len);
}

/* A lookup in a set keyed by a concatenation (`iifname . ip saddr`): its
 * keys from the registers its key spans (each padded to 4 bytes), its
 * elements in key order; dreg verdict: a verdict map. */
static void dec_concat(Dec *d, struct nftnl_expr *e, struct nftnl_set *s,
		       uint32_t sreg, const char *name)
{
	uint32_t klen = nftnl_set_get_u32(s, NFTNL_SET_KEY_LEN), off = 0;
	bool map = nftnl_expr_is_set(e, NFTNL_EXPR_LOOKUP_DREG);
	RsKey *cat = arena_alloc(d->a, 16 * sizeof *cat);
	int lens[16], offs[16], n = 0;
	VEC(CatElem) el = { 0 };
	void *ctx[2] = { &el, d->a };
	RsValue *vals;
	RsVerdictKind *vm = NULL;
	Reg *first = reg_at(d, sreg);

	if (first == &d->reg[0] || klen > 64 ||
	    (nftnl_expr_is_set(e, NFTNL_EXPR_LOOKUP_FLAGS) &&
	     nftnl_expr_get_u32(e, NFTNL_EXPR_LOOKUP_FLAGS) & NFT_LOOKUP_F_INV) ||
	    (map && (nftnl_expr_get_u32(e, NFTNL_EXPR_LOOKUP_DREG) != NFT_REG_VERDICT ||
		     nftnl_set_get_u32(s, NFTNL_SET_DATA_TYPE) != NFT_DATA_VERDICT))) {
		unknown(d, "lookup in @%s", name);
		return;
	}
	while (off < klen && n < 16) {
		const Reg *r = first + off / 4;
		int kl;
		RsKey k = r < &d->reg[32] ? reg_key(d, r, &kl) : KEY_UNKNOWN;

		if (k == KEY_UNKNOWN || k == KEY_CTSTATE || r->masked ||
		    (r->kind == R_PAYLOAD && r->len != (uint32_t)kl)) {
			unknown(d, "lookup in @%s", name);
			return;
		}
		cat[n] = k;
		lens[n] = kl;
		offs[n++] = (int)off;
		off += (uint32_t)(kl + 3) / 4 * 4;
	}
	if (off != klen || n < 2) {
		unknown(d, "lookup in @%s", name);
		return;
	}
	nftnl_set_elem_foreach(s, cat_collect, ctx);
	cat_len = (int)klen;
	if (el.n)
		qsort(el.v, (size_t)el.n, sizeof *el.v, cat_cmp);
	vals = arena_alloc(d->a, (size_t)(el.n ? el.n : 1) * (size_t)n * sizeof *vals);
	if (map)
		vm = arena_alloc(d->a, (size_t)(el.n ? el.n : 1) * sizeof *vm);
	for (int i = 0; i < el.n; i++) {
		RsProv *pv = NULL;

		if (el.v[i].comment) {
			pv = arena_alloc(d->a, sizeof *pv);
			memset(pv, 0, sizeof *pv);
			pv->comment = el.v[i].comment;
		}
		for (int k = 0; k < n; k++) {
			if (!make_value(d, cat[k], el.v[i].lo + offs[k], el.v[i].hi + offs[k],
					lens[k], &vals[i * n + k])) {
				unknown(d, "lookup in @%s", name);
				return;
			}
			vals[i * n + k].prov = pv;
		}
		if (map && (!el.v[i].has_verdict || el.v[i].chain ||
			    (el.v[i].verdict != NF_ACCEPT && el.v[i].verdict != NF_DROP))) {
			unknown(d, "verdict map @%s", name);
			return;
		}
		if (map)
			vm[i] = el.v[i].verdict == NF_ACCEPT ? VERDICT_ACCEPT : VERDICT_DROP;
	}
	push_match(d, cat[0], false, vals, el.n, NULL);
	d->m.v[d->m.n - 1].cat = cat;
	d->m.v[d->m.n - 1].n_cat = n;
	d->m.v[d->m.n - 1].vmap = vm;
}

/* A lookup: a match on the elements of the named or anonymous set. */
static void dec_lookup(Dec *d, struct nftnl_expr *e)
{
	uint32_t sreg = nftnl_expr_get_u32(e, NFTNL_EXPR_LOOKUP_SREG);
	const char *name = nftnl_expr_get_str(e, NFTNL_EXPR_LOOKUP_SET);
	Reg *r = reg_at(d, sreg);
	struct nftnl_set *s = name ? find_set(d, name) : NULL;
	bool inv = nftnl_expr_is_set(e, NFTNL_EXPR_LOOKUP_FLAGS) &&
		   (nftnl_expr_get_u32(e, NFTNL_EXPR_LOOKUP_FLAGS) & NFT_LOOKUP_F_INV);
	int klen, n;
	RsKey k = reg_key(d, r, &klen);
	KeyIval *iv;
	RsValue *vals;

	if (s && nftnl_set_get_u32(s, NFTNL_SET_KEY_LEN) > (uint32_t)klen &&
	    k != KEY_UNKNOWN && (nftnl_set_get_u32(s, NFTNL_SET_FLAGS) & NFT_SET_ANONYMOUS)) {
		dec_concat(d, e, s, sreg, name);
		return;
	}
	if (nftnl_expr_is_set(e, NFTNL_EXPR_LOOKUP_DREG) &&
	    nftnl_expr_get_u32(e, NFTNL_EXPR_LOOKUP_DREG) == NFT_REG_VERDICT &&
	    s && k != KEY_UNKNOWN && !r->masked && !inv &&
	    (r->kind != R_PAYLOAD || r->len == (uint32_t)klen) &&
	    nftnl_set_get_u32(s, NFTNL_SET_KEY_LEN) == (uint32_t)klen) {
		dec_vmap(d, e, s, k, klen, name);
		return;
	}
	if (nftnl_expr_is_set(e, NFTNL_EXPR_LOOKUP_DREG) || !s || k == KEY_UNKNOWN ||
	    r->masked || nftnl_set_get_u32(s, NFTNL_SET_KEY_LEN) != (uint32_t)
	    (k == KEY_SADDR || k == KEY_DADDR ? klen : klen) ||
	    (r->kind == R_PAYLOAD && r->len != (uint32_t)klen)) {
		unknown(d, "lookup in @%s", name ? name : "?");
		return;
	}
	n = set_ivals(d->a, s, klen, &iv);
	vals = arena_alloc(d->a, (size_t)(n ? n : 1) * sizeof *vals);
	for (int i = 0; i < n; i++)
		if (!make_value(d, k, iv[i].lo, iv[i].hi, klen, &vals[i])) {
			unknown(d, "lookup in @%s", name);
			return;
		}
	elem_provs(d->a, iv, n, vals);
	push_match(d, k, inv, vals, n,
		   (nftnl_set_get_u32(s, NFTNL_SET_FLAGS) & NFT_SET_ANONYMOUS) ?
		   NULL : arena_strdup(d->a, name));
}

/* A bitwise mask on a register: kept for the cmp that follows (prefixes, ct state bits). */
static void dec_bitwise(Dec *d, struct nftnl_expr *e)
{
	uint32_t sreg = nftnl_expr_get_u32(e, NFTNL_EXPR_BITWISE_SREG);
	uint32_t dreg = nftnl_expr_get_u32(e, NFTNL_EXPR_BITWISE_DREG), ml = 0, xl = 0;
	const uint8_t *mask = nftnl_expr_get(e, NFTNL_EXPR_BITWISE_MASK, &ml);
	const uint8_t *xr = nftnl_expr_get(e, NFTNL_EXPR_BITWISE_XOR, &xl);
	Reg r = *reg_at(d, sreg);
	bool xor_zero = true;

	for (uint32_t i = 0; xr && i < xl; i++)
		xor_zero &= xr[i] == 0;
	if (!mask || ml > 16 || !xor_zero || r.masked ||
	    (nftnl_expr_is_set(e, NFTNL_EXPR_BITWISE_OP) &&
	     nftnl_expr_get_u32(e, NFTNL_EXPR_BITWISE_OP) != NFT_BITWISE_BOOL)) {
		r.kind = R_OTHER;
		r.desc = "a bitwise operation";
	} else {
		r.masked = true;
		memset(r.mask, 0, 16);
		memcpy(r.mask, mask, ml);
	}
	*reg_at(d, dreg) = r;
}

/* An immediate verdict: accept, drop, jump, goto, return or continue. */
static void dec_immediate(Dec *d, struct nftnl_expr *e)
{
	uint32_t dreg = nftnl_expr_get_u32(e, NFTNL_EXPR_IMM_DREG);
	int v;

	if (dreg != NFT_REG_VERDICT) {
		*reg_at(d, dreg) = (Reg){ .kind = R_OTHER, .desc = "an immediate value" };
		return;
	}
	v = (int)nftnl_expr_get_u32(e, NFTNL_EXPR_IMM_VERDICT);
	switch (v) {
	case NF_ACCEPT: d->rule->verdict = VERDICT_ACCEPT; break;
	case NF_DROP: d->rule->verdict = VERDICT_DROP; break;
	case NFT_RETURN: d->rule->verdict = VERDICT_RETURN; break;
	case NFT_CONTINUE: d->rule->verdict = VERDICT_CONTINUE; break;
	case NFT_JUMP:
	case NFT_GOTO:
		d->rule->verdict = v == NFT_JUMP ? VERDICT_JUMP : VERDICT_GOTO;
		d->rule->target = arena_strdup(d->a, nftnl_expr_get_str(e, NFTNL_EXPR_IMM_CHAIN));
		break;
	default:
		unknown(d, "%s", "verdict");
	}
}

/* Expressions that only load a register the IR has no key for (socket,
 * fib, rt, ...): mark the register so the cmp or lookup reading it
 * becomes one KEY_UNKNOWN naming the source. False for other names. */
static bool load_other(Dec *d, struct nftnl_expr *e, const char *name)
{
	static const struct { const char *name; uint16_t dreg; } loaders[] = {
		{ "socket", NFTNL_EXPR_SOCKET_DREG }, { "fib", NFTNL_EXPR_FIB_DREG },
		{ "rt", NFTNL_EXPR_RT_DREG }, { "numgen", NFTNL_EXPR_NG_DREG },
		{ "hash", NFTNL_EXPR_HASH_DREG }, { "exthdr", NFTNL_EXPR_EXTHDR_DREG },
		{ "osf", NFTNL_EXPR_OSF_DREG }, { "xfrm", NFTNL_EXPR_XFRM_DREG },
	};

	for (size_t i = 0; i < sizeof loaders / sizeof *loaders; i++) {
		const char *desc = name;

		if (strcmp(name, loaders[i].name) || !nftnl_expr_is_set(e, loaders[i].dreg))
			continue;
		if (!strcmp(name, "socket"))
			desc = KEY_DESC(d->a, "socket", socket_names,
					nftnl_expr_get_u32(e, NFTNL_EXPR_SOCKET_KEY));
		*reg_at(d, nftnl_expr_get_u32(e, loaders[i].dreg)) =
			(Reg){ .kind = R_OTHER, .desc = desc };
		return true;
	}
	return false;
}

/* One expression of a rule through the register machine. */
static void dec_expr(Dec *d, struct nftnl_expr *e)
{
	const char *name = nftnl_expr_get_str(e, NFTNL_EXPR_NAME);
	uint32_t dreg;

	if (!strcmp(name, "meta") && nftnl_expr_is_set(e, NFTNL_EXPR_META_DREG)) {
		dreg = nftnl_expr_get_u32(e, NFTNL_EXPR_META_DREG);
		*reg_at(d, dreg) = (Reg){ .kind = R_META,
			.key = nftnl_expr_get_u32(e, NFTNL_EXPR_META_KEY) };
	} else if (!strcmp(name, "payload") &&
		   nftnl_expr_is_set(e, NFTNL_EXPR_PAYLOAD_DREG)) {
		dreg = nftnl_expr_get_u32(e, NFTNL_EXPR_PAYLOAD_DREG);
		*reg_at(d, dreg) = (Reg){ .kind = R_PAYLOAD,
			.base = nftnl_expr_get_u32(e, NFTNL_EXPR_PAYLOAD_BASE),
			.off = nftnl_expr_get_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET),
			.len = nftnl_expr_get_u32(e, NFTNL_EXPR_PAYLOAD_LEN) };
	} else if (!strcmp(name, "ct") && nftnl_expr_is_set(e, NFTNL_EXPR_CT_DREG)) {
		dreg = nftnl_expr_get_u32(e, NFTNL_EXPR_CT_DREG);
		*reg_at(d, dreg) = (Reg){ .kind = R_CT,
			.key = nftnl_expr_get_u32(e, NFTNL_EXPR_CT_KEY) };
	} else if (load_other(d, e, name)) {
		/* a register nothing here decodes: what reads it is unknown */
	} else if (!strcmp(name, "bitwise")) {
		dec_bitwise(d, e);
	} else if (!strcmp(name, "cmp")) {
		dec_cmp(d, e);
	} else if (!strcmp(name, "range")) {
		dec_range(d, e);
	} else if (!strcmp(name, "lookup")) {
		dec_lookup(d, e);
	} else if (!strcmp(name, "immediate")) {
		dec_immediate(d, e);
	} else if (!strcmp(name, "counter")) {
		d->rule->counter = true;
	} else if (!strcmp(name, "reject")) {
		d->rule->verdict = VERDICT_REJECT;
		d->rule->reject = nftnl_expr_get_u32(e, NFTNL_EXPR_REJECT_TYPE) ==
			NFT_REJECT_TCP_RST ? REJECT_TCP_RESET : REJECT_DEFAULT;
	} else if (!strcmp(name, "log")) {
		/* no effect on the verdict */
	} else {
		unknown(d, "%s expression", name);
	}
}

/* The comment in r's user data, or NULL. */
static const char *rule_comment(Arena *a, struct nftnl_rule *r)
{
	uint32_t len = 0;
	const uint8_t *ud = nftnl_rule_get_data(r, NFTNL_RULE_USERDATA, &len);

	for (uint32_t off = 0; ud && off + 2 <= len; off += 2u + ud[off + 1])
		if (ud[off] == NFTNL_UDATA_RULE_COMMENT && off + 2u + ud[off + 1] <= len)
			return arena_strndup(a, (const char *)ud + off + 2, ud[off + 1]);
	return NULL;
}

/* Rule nr of a table of family tfam, decoded expression by expression. */
static RsRule decode_rule(Raw *raw, Arena *a, RsFamily tfam, struct nftnl_rule *nr)
{
	RsRule rule = { 0 };
	Dec d = { 0 };
	struct nftnl_expr_iter *it = nftnl_expr_iter_create(nr);
	struct nftnl_expr *e;

	d.a = a;
	d.tfam = tfam;
	d.fam = tfam == RS_IP6 ? FAM_IP6 : tfam == RS_IP ? FAM_IP4 : 0;
	d.rule = &rule;
	d.raw = raw;
	d.nffam = nftnl_rule_get_u32(nr, NFTNL_RULE_FAMILY);
	d.table = nftnl_rule_get_str(nr, NFTNL_RULE_TABLE);
	rule.verdict = VERDICT_CONTINUE;
	while (it && (e = nftnl_expr_iter_next(it)))
		dec_expr(&d, e);
	if (it)
		nftnl_expr_iter_destroy(it);
	rule.matches = d.m.v;
	rule.n_matches = d.m.n;
	rule.comment = rule_comment(a, nr);
	rule.handle = nftnl_rule_get_u64(nr, NFTNL_RULE_HANDLE);
	return rule;
}

/* The IR hook of netfilter hook number num in family f. */
static RsHook hook_of(RsFamily f, uint32_t num)
{
	if (f == RS_NETDEV)
		return num == 0 ? HOOK_INGRESS : HOOK_NONE;
	switch (num) {
	case NF_INET_PRE_ROUTING: return HOOK_PREROUTING;
	case NF_INET_LOCAL_IN: return HOOK_INPUT;
	case NF_INET_FORWARD: return HOOK_FORWARD;
	case NF_INET_LOCAL_OUT: return HOOK_OUTPUT;
	case NF_INET_POST_ROUTING: return HOOK_POSTROUTING;
	case NF_INET_INGRESS: return HOOK_INGRESS;
	default: return HOOK_NONE;
	}
}

/* The comment in c's user data, or NULL. */
static const char *chain_comment(Arena *a, struct nftnl_chain *c)
{
	uint32_t len = 0;
	const uint8_t *ud = nftnl_chain_get_data(c, NFTNL_CHAIN_USERDATA, &len);

	for (uint32_t off = 0; ud && off + 2 <= len; off += 2u + ud[off + 1])
		if (ud[off] == NFTNL_UDATA_CHAIN_COMMENT && off + 2u + ud[off + 1] <= len)
			return arena_strndup(a, (const char *)ud + off + 2, ud[off + 1]);
	return NULL;
}

/* A named set of the kernel as an RsSet (anonymous ones stay inline). */
static bool decode_set(Arena *a, struct nftnl_set *s, RsSet *out)
{
	uint32_t type = nftnl_set_get_u32(s, NFTNL_SET_KEY_TYPE);
	int klen = (int)nftnl_set_get_u32(s, NFTNL_SET_KEY_LEN), n;
	RsKey k;
	KeyIval *iv;
	Dec d = { 0 };

	memset(out, 0, sizeof *out);
	switch (type) {
	case 41: out->type = SETTYPE_IFNAME; k = KEY_IIFNAME; break;
	case 7: out->type = SETTYPE_IPV4; k = KEY_SADDR; break;
	case 8: out->type = SETTYPE_IPV6; k = KEY_SADDR; break;
	case 13: out->type = SETTYPE_SERVICE; k = KEY_DPORT; break;
	case 24: out->type = SETTYPE_UID; k = KEY_SKUID; break;
	default: return false;
	}
	d.a = a;
	out->name = arena_strdup(a, nftnl_set_get_str(s, NFTNL_SET_NAME));
	out->interval = nftnl_set_get_u32(s, NFTNL_SET_FLAGS) & NFT_SET_INTERVAL;
	n = set_ivals(a, s, klen, &iv);
	out->elems = arena_alloc(a, (size_t)(n ? n : 1) * sizeof *out->elems);
	for (int i = 0; i < n; i++)
		if (make_value(&d, k, iv[i].lo, iv[i].hi, klen, &out->elems[out->n_elems]))
			out->n_elems++;
	return true;
}

/* see nl.h */
Ruleset *nl_read_ruleset(NlSock *s, Arena *a, Buf *err)
{
	Raw raw;
	Ruleset *rs;

	if (read_raw(s, &raw, err) < 0)
		return NULL;
	rs = arena_alloc(a, sizeof *rs);
	rs->arena = a;
	rs->tables = arena_alloc(a, (size_t)(raw.tables.n ? raw.tables.n : 1) *
				 sizeof *rs->tables);
	for (int i = 0; i < raw.tables.n; i++) {
		struct nftnl_table *nt = raw.tables.v[i];
		uint32_t nf = nftnl_table_get_u32(nt, NFTNL_TABLE_FAMILY);
		const char *tn = nftnl_table_get_str(nt, NFTNL_TABLE_NAME);
		int fam = rs_family_of(nf);
		RsTable *t;
		VEC(RsChain) chains = { 0 };
		VEC(RsSet) sets = { 0 };

		if (fam < 0)
			continue;
		t = &rs->tables[rs->n_tables++];
		t->family = (RsFamily)fam;
		t->name = arena_strdup(a, tn);
		for (int j = 0; j < raw.sets.n; j++) {
			struct nftnl_set *ns = raw.sets.v[j];
			RsSet set;

			if (!same_table(nftnl_set_get_u32(ns, NFTNL_SET_FAMILY),
					nftnl_set_get_str(ns, NFTNL_SET_TABLE), nf, tn) ||
			    (nftnl_set_get_u32(ns, NFTNL_SET_FLAGS) & NFT_SET_ANONYMOUS))
				continue;
			if (decode_set(a, ns, &set))
				vec_push(a, &sets, set);
		}
		for (int j = 0; j < raw.chains.n; j++) {
			struct nftnl_chain *nc = raw.chains.v[j];
			RsChain ch = { 0 };
			VEC(RsRule) rules = { 0 };

			if (!same_table(nftnl_chain_get_u32(nc, NFTNL_CHAIN_FAMILY),
					nftnl_chain_get_str(nc, NFTNL_CHAIN_TABLE), nf, tn))
				continue;
			ch.name = arena_strdup(a, nftnl_chain_get_str(nc, NFTNL_CHAIN_NAME));
			ch.hook = HOOK_NONE;
			if (nftnl_chain_is_set(nc, NFTNL_CHAIN_HOOKNUM)) {
				ch.hook = hook_of(t->family, nftnl_chain_get_u32(nc, NFTNL_CHAIN_HOOKNUM));
				ch.priority = nftnl_chain_get_s32(nc, NFTNL_CHAIN_PRIO);
				ch.type = nftnl_chain_is_set(nc, NFTNL_CHAIN_TYPE) ?
					arena_strdup(a, nftnl_chain_get_str(nc, NFTNL_CHAIN_TYPE)) : "filter";
				ch.policy = nftnl_chain_is_set(nc, NFTNL_CHAIN_POLICY) &&
					    nftnl_chain_get_u32(nc, NFTNL_CHAIN_POLICY) == NF_DROP ?
					    VERDICT_DROP : VERDICT_ACCEPT;
			}
			ch.comment = chain_comment(a, nc);
			for (int k = 0; k < raw.rules.n; k++) {
				struct nftnl_rule *nr = raw.rules.v[k];

				if (same_table(nftnl_rule_get_u32(nr, NFTNL_RULE_FAMILY),
					       nftnl_rule_get_str(nr, NFTNL_RULE_TABLE), nf, tn) &&
				    !strcmp(nftnl_rule_get_str(nr, NFTNL_RULE_CHAIN), ch.name))
					vec_push(a, &rules, decode_rule(&raw, a, t->family, nr));
			}
			ch.rules = rules.v;
			ch.n_rules = rules.n;
			vec_push(a, &chains, ch);
		}
		t->chains = chains.v;
		t->n_chains = chains.n;
		t->sets = sets.v;
		t->n_sets = sets.n;
	}
	raw_free(&raw);
	return rs;
}

/* ---- text for reports ------------------------------------------------- */

/* see nl.h */
void nl_value_text(const RsValue *v, RsKey key, Buf *out)
{
	static const char *const states[] = { "invalid", "established",
		"related", "new", "", "", "untracked" };
	const char *sep = "";

	if (v->kind == VAL_USER) {
		buf_printf(out, "\"%s\"", v->name);
	} else if (v->kind == VAL_INT && key == KEY_CTSTATE) {
		for (int b = 0; b < 7; b++)
			if ((v->lo >> b) & 1 && *states[b]) {
				buf_printf(out, "%s%s", sep, states[b]);
				sep = ",";
			}
	} else {
		emit_nft_value(key, v, out);
	}
}

/* The name nft gives the key, given the match before it. */
static const char *key_text(const RsMatch *m, const RsMatch *prev)
{
	bool v6 = m->n_vals > 0 && m->vals[0].kind == VAL_ADDR && m->vals[0].fam == FAM_IP6;
	const char *l4 = "th";

	if (prev && prev->key == KEY_L4PROTO && prev->n_vals == 1 && !prev->neg &&
	    emit_nft_l4proto_name(prev->vals[0].lo))
		l4 = emit_nft_l4proto_name(prev->vals[0].lo);
	return m->key == KEY_UNKNOWN ? "" : emit_nft_key_name(m->key, v6, l4);
}

/* Whether m only states the protocol the next match depends on. */
static bool implied(const RsMatch *m, const RsMatch *next)
{
	if (!next || m->neg || m->n_vals != 1 || m->set)
		return false;
	if (m->key == KEY_NFPROTO)
		return next->key == KEY_SADDR || next->key == KEY_DADDR;
	if (m->key == KEY_L4PROTO)
		return (next->key == KEY_SPORT || next->key == KEY_DPORT) &&
		       emit_nft_l4proto_name(m->vals[0].lo);
	return false;
}

/* Concatenation r->matches[i] as text: `iifname . ip saddr { "wg0" .
 * 10.0.0.1 comment "...", ... }`, a map's with ` : accept`. */
static void cat_text(const RsRule *r, int i, Buf *out)
{
	const RsMatch *m = &r->matches[i];
	const char *l4 = "th";

	for (int j = 0; j < i; j++)
		if (r->matches[j].key == KEY_L4PROTO && r->matches[j].n_vals == 1 &&
		    emit_nft_l4proto_name(r->matches[j].vals[0].lo))
			l4 = emit_nft_l4proto_name(r->matches[j].vals[0].lo);
	for (int k = 0; k < m->n_cat; k++)
		buf_printf(out, "%s%s", k ? " . " : "",
			   emit_nft_key_name(m->cat[k], m->n_vals && m->vals[k].kind == VAL_ADDR &&
					     m->vals[k].fam == FAM_IP6, l4));
	buf_puts(out, m->vmap ? " vmap { " : " { ");
	for (int e = 0; e < m->n_vals; e++) {
		const RsProv *pv = m->vals[e * m->n_cat].prov;

		buf_puts(out, e ? ", " : "");
		for (int k = 0; k < m->n_cat; k++) {
			buf_puts(out, k ? " . " : "");
			nl_value_text(&m->vals[e * m->n_cat + k], m->cat[k], out);
		}
		if (pv && pv->comment)
			buf_printf(out, " comment \"%s\"", pv->comment);
		if (m->vmap)
			buf_printf(out, " : %s", m->vmap[e] == VERDICT_ACCEPT ? "accept" : "drop");
	}
	buf_puts(out, " }");
}

/* see nl.h */
void nl_rule_text(const RsRule *r, Buf *out)
{
	const char *sep = "";

	for (int i = 0; i < r->n_matches; i++) {
		const RsMatch *m = &r->matches[i];
		const RsMatch *next = i + 1 < r->n_matches ? &r->matches[i + 1] : NULL;

		if (implied(m, next))
			continue;
		buf_puts(out, sep);
		sep = " ";
		if (m->key == KEY_UNKNOWN) {
			buf_printf(out, "<%s>", m->unknown ? m->unknown : "?");
			continue;
		}
		if (m->n_cat) {
			cat_text(r, i, out);
			continue;
		}
		buf_printf(out, "%s %s", key_text(m, i ? &r->matches[i - 1] : NULL),
			   m->neg ? "!= " : "");
		if (m->set) {
			buf_printf(out, "@%s", m->set);
			continue;
		}
		if (m->vmap)
			buf_puts(out, "vmap ");
		if (m->n_vals > 1 || m->vmap)
			buf_puts(out, "{ ");
		for (int j = 0; j < m->n_vals; j++) {
			const RsProv *pv = m->vals[j].prov;

			if (j)
				buf_puts(out, ", ");
			nl_value_text(&m->vals[j], m->key, out);
			if (pv && pv->comment)
				buf_printf(out, " comment \"%s\"", pv->comment);
			if (m->vmap)
				buf_printf(out, " : %s", m->vmap[j] == VERDICT_ACCEPT ?
					   "accept" : "drop");
		}
		if (m->n_vals > 1 || m->vmap)
			buf_puts(out, " }");
	}
	if (r->counter) {
		buf_puts(out, sep);
		buf_puts(out, "counter");
		sep = " ";
	}
	switch (r->verdict) {
	case VERDICT_CONTINUE: break;
	case VERDICT_ACCEPT: buf_printf(out, "%saccept", sep); break;
	case VERDICT_DROP: buf_printf(out, "%sdrop", sep); break;
	case VERDICT_REJECT:
		buf_printf(out, "%sreject%s", sep,
			   r->reject == REJECT_TCP_RESET ? " with tcp reset" : "");
		break;
	case VERDICT_JUMP: buf_printf(out, "%sjump %s", sep, r->target); break;
	case VERDICT_GOTO: buf_printf(out, "%sgoto %s", sep, r->target); break;
	case VERDICT_RETURN: buf_printf(out, "%sreturn", sep); break;
	default: BUG("verdict %d", r->verdict);
	}
	if (r->comment)
		buf_printf(out, " comment \"%s\"", r->comment);
}
