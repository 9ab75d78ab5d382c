/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * nl_write.c: the Ruleset IR as one nf_tables netlink batch.
 *
 * Each match becomes the expressions nft makes of the text emit_nft prints
 * for it (same loads, same compare forms, same anonymous sets with the
 * same flags and user data), so `nft list table` shows the same table
 * whichever of `fpc apply` and `nft -f` loaded it. Every message of a
 * batch has its own sequence number and a note of what it adds; when the
 * kernel refuses one, the note names the object and the policy line.
 */
#include "kernel.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <grp.h>
#include <sched.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <arpa/inet.h>
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

/* ---- sockets ---------------------------------------------------------- */

int nl_enter_netns(const char *netns, Buf *err)
{
	char path[512];
	int fd, n;

	if (!netns)
		return 0;
	if (strchr(netns, '/') || !*netns) {
		buf_printf(err, "bad namespace name '%s'", netns);
		return -1;
	}
	n = snprintf(path, sizeof path, "/run/netns/%s", netns);
	if (n < 0 || (size_t)n >= sizeof path) {
		buf_printf(err, "namespace name too long");
		return -1;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		buf_printf(err, "cannot open %s: %s", path, strerror(errno));
		return -1;
	}
	if (setns(fd, CLONE_NEWNET) < 0) {
		buf_printf(err, "cannot enter %s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

/* see nl.h */
NlSock *nl_open(Buf *err)
{
	NlSock *s = xcalloc(1, sizeof *s);

	s->nl = mnl_socket_open(NETLINK_NETFILTER);
	if (!s->nl || mnl_socket_bind(s->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		buf_printf(err, "cannot open a netlink socket to nf_tables: %s",
			   strerror(errno));
		nl_close(s);
		return NULL;
	}
	s->portid = mnl_socket_get_portid(s->nl);
	s->seq = (uint32_t)time(NULL) << 8;
	return s;
}

/* see nl.h */
void nl_close(NlSock *s)
{
	if (!s)
		return;
	if (s->nl)
		mnl_socket_close(s->nl);
	free(s);
}

/* ---- the batch -------------------------------------------------------- */

NlBatch *nl_batch_new(void)
{
	NlBatch *b = xcalloc(1, sizeof *b);

	b->arena = arena_new();
	return b;
}

/* see nl.h */
void nl_batch_free(NlBatch *b)
{
	if (!b)
		return;
	buf_free(&b->msgs);
	free(b->notes);
	arena_free(b->arena);
	free(b);
}

/* see nl.h */
void nl_batch_set_diag(NlBatch *b, Diag *d)
{
	b->diag = d;
}

/* see nl.h */
int nl_batch_len(const NlBatch *b)
{
	return b->n_notes;
}

/* Start a message in the scratch page; the caller fills it, then ends it. */
struct nlmsghdr *nlb_begin(NlBatch *b, uint16_t type, uint16_t fam,
			   uint16_t flags)
{
	return nftnl_nlmsg_build_hdr(b->page, type, fam, flags,
				     (uint32_t)b->n_notes + 1);
}

/* Append the finished message nlh and the note of what it makes. */
void nlb_end(NlBatch *b, struct nlmsghdr *nlh, NlNote note)
{
	if (b->n_notes == b->cap_notes) {
		b->cap_notes = b->cap_notes ? 2 * b->cap_notes : 64;
		b->notes = realloc(b->notes, (size_t)b->cap_notes * sizeof *b->notes);
		if (!b->notes)
			BUG("out of memory");
	}
	b->notes[b->n_notes++] = note;
	buf_append(&b->msgs, nlh, nlh->nlmsg_len);
}

/* The nf_tables family number of IR family f. */
static uint16_t nf_family(RsFamily f)
{
	switch (f) {
	case RS_INET: return NFPROTO_INET;
	case RS_IP: return NFPROTO_IPV4;
	case RS_IP6: return NFPROTO_IPV6;
	case RS_ARP: return NFPROTO_ARP;
	case RS_BRIDGE: return NFPROTO_BRIDGE;
	case RS_NETDEV: return NFPROTO_NETDEV;
	default: BUG("family %d", f);
	}
}

/* A note naming an object (fmt with a and c), without a policy location. */
static NlNote note_obj(NlBatch *b, const char *fmt, const char *a,
		       const char *c)
{
	NlNote n = { 0 };

	n.what = arena_printf(b->arena, fmt, a, c ? c : "");
	return n;
}

/* see nl.h */
void nl_batch_drop_table(NlBatch *b, RsFamily fam, const char *name)
{
	struct nftnl_table *t = nftnl_table_alloc();
	struct nlmsghdr *nlh;

	nftnl_table_set_str(t, NFTNL_TABLE_NAME, name);
	nftnl_table_set_u32(t, NFTNL_TABLE_FLAGS, 0);
	nlh = nlb_begin(b, NFT_MSG_NEWTABLE, nf_family(fam), NLM_F_CREATE);
	nftnl_table_nlmsg_build_payload(nlh, t);
	nlb_end(b, nlh, note_obj(b, "table %s%s (added to be deleted)", name, NULL));
	nftnl_table_unset(t, NFTNL_TABLE_FLAGS);
	nlh = nlb_begin(b, NFT_MSG_DELTABLE, nf_family(fam), 0);
	nftnl_table_nlmsg_build_payload(nlh, t);
	nlb_end(b, nlh, note_obj(b, "deleting table %s%s", name, NULL));
	nftnl_table_free(t);
}

/* ---- keys and values -------------------------------------------------- */

/* How a key is loaded, compared and typed in a set (nft's datatypes). */
typedef struct KeyInfo {
	int len;		/* bytes in the register */
	uint32_t settype;	/* nft datatype id of a set of it */
	int byteorder;		/* 1 host, 2 big endian (nft's udata) */
	int typeof_expr;	/* 7 payload, 9 meta */
	int typeof_a, typeof_b;	/* meta: key; payload: proto desc, field */
} KeyInfo;

enum { BO_HOST = 1, BO_BIG = 2 };

/* The key's info; fam is the address family of its values (SADDR/DADDR),
 * l4 the protocol in force before it (ports). */
static KeyInfo key_info(RsKey k, AddrFamily fam, int l4)
{
	KeyInfo ki = { 0 };
	int pdesc = l4 == 6 ? 8 : l4 == 17 ? 6 : 11;

	switch (k) {
	case KEY_IIFNAME:
	case KEY_OIFNAME:
		ki = (KeyInfo){ 16, 41, BO_HOST, 9,
				k == KEY_IIFNAME ? NFT_META_IIFNAME : NFT_META_OIFNAME, 0 };
		break;
	case KEY_NFPROTO:
		ki = (KeyInfo){ 1, 2, BO_HOST, 9, NFT_META_NFPROTO, 0 };
		break;
	case KEY_L4PROTO:
		ki = (KeyInfo){ 1, 12, BO_HOST, 9, NFT_META_L4PROTO, 0 };
		break;
	case KEY_SADDR:
	case KEY_DADDR:
		if (fam == FAM_IP6)
			ki = (KeyInfo){ 16, 8, BO_BIG, 7, 13, k == KEY_SADDR ? 8 : 9 };
		else
			ki = (KeyInfo){ 4, 7, BO_BIG, 7, 12, k == KEY_SADDR ? 11 : 12 };
		break;
	case KEY_SPORT:
	case KEY_DPORT:
		ki = (KeyInfo){ 2, 13, BO_BIG, 7, pdesc, k == KEY_SPORT ? 1 : 2 };
		break;
	case KEY_SKUID:
		ki = (KeyInfo){ 4, 24, BO_HOST, 9, NFT_META_SKUID, 0 };
		break;
	case KEY_SKGID:
		ki = (KeyInfo){ 4, 25, BO_HOST, 9, NFT_META_SKGID, 0 };
		break;
	case KEY_CTSTATE:
		ki = (KeyInfo){ 4, 26, BO_HOST, 12, NFT_CT_STATE, 0 };
		break;
	case KEY_UNKNOWN:
		break;
	default:
		BUG("key %d", k);
	}
	return ki;
}

/* One value as an interval of key bytes (big-endian order for ranges). */
typedef struct Ival {
	uint8_t lo[16], hi[16];
	const char *comment;	/* the element's comment (a merged rule's provenance) */
	int verdict;		/* a verdict map's element: NF_ACCEPT or NF_DROP */
} Ival;

/* v as len bytes in byte order bo into out (16 bytes, zero-padded). */
static void put_int(uint8_t *out, uint64_t v, int len, int bo)
{
	uint32_t h32 = (uint32_t)v;

	memset(out, 0, 16);
	if (bo == BO_HOST && len == 4)
		memcpy(out, &h32, 4);
	else if (len == 1)
		out[0] = (uint8_t)v;
	else
		for (int i = 0; i < len; i++)
			out[i] = (uint8_t)(v >> (8 * (len - 1 - i)));
}

/* Resolve a user or group name for skuid/skgid; -1 when unknown. */
static long resolve_id(RsKey k, const char *name)
{
	if (k == KEY_SKGID) {
		struct group *g = getgrnam(name);

		return g ? (long)g->gr_gid : -1;
	}
	struct passwd *pw = getpwnam(name);

	return pw ? (long)pw->pw_uid : -1;
}

/* v as an interval of ki.len bytes; -1 with err when it cannot be. */
static int value_ival(const RsValue *v, RsKey k, const KeyInfo *ki, Ival *iv,
		      Buf *err)
{
	size_t n;
	long id;

	memset(iv, 0, sizeof *iv);
	switch (v->kind) {
	case VAL_INT:
		if (v->lo != v->hi && ki->byteorder == BO_HOST && ki->len > 1) {
			buf_printf(err, "a range of %s values cannot be written",
				   k == KEY_SKUID ? "uid" : "host-order");
			return -1;
		}
		put_int(iv->lo, v->lo, ki->len, ki->byteorder);
		put_int(iv->hi, v->hi, ki->len, ki->byteorder);
		return 0;
	case VAL_USER:
		id = resolve_id(k, v->name);
		if (id < 0) {
			buf_printf(err, "%s '%s' does not exist on this host",
				   k == KEY_SKGID ? "group" : "user", v->name);
			return -1;
		}
		put_int(iv->lo, (uint64_t)id, ki->len, ki->byteorder);
		memcpy(iv->hi, iv->lo, 16);
		return 0;
	case VAL_ADDR:
		memcpy(iv->lo, v->addr_lo, (size_t)ki->len);
		memcpy(iv->hi, v->addr_hi, (size_t)ki->len);
		return 0;
	case VAL_IFNAME:
		n = strlen(v->name);
		if (n > 15) {
			buf_printf(err, "interface name '%s' is too long", v->name);
			return -1;
		}
		memcpy(iv->lo, v->name, n);
		memcpy(iv->hi, v->name, n);
		if (v->wildcard)
			memset(iv->hi + n, 0xff, 16 - n);
		return 0;
	default:
		BUG("value kind %d", v->kind);
	}
}

/* Whether iv holds a single value. */
static bool ival_point(const Ival *iv, int len)
{
	return !memcmp(iv->lo, iv->hi, (size_t)len);
}

/* The prefix length of an address interval, or -1 if it is no prefix. */
static int ival_prefix(const Ival *iv, int len)
{
	int bits = len * 8, p = 0;

	while (p < bits) {
		int byte = p / 8, bit = 7 - p % 8;

		if (((iv->lo[byte] >> bit) & 1) != ((iv->hi[byte] >> bit) & 1))
			break;
		p++;
	}
	for (int q = p; q < bits; q++) {
		int byte = q / 8, bit = 7 - q % 8;

		if (((iv->lo[byte] >> bit) & 1) != 0 || ((iv->hi[byte] >> bit) & 1) != 1)
			return -1;
	}
	return p;
}

/* x += 1 over len big-endian bytes; returns true on overflow. */
static bool bytes_inc(uint8_t *x, int len)
{
	for (int i = len - 1; i >= 0; i--)
		if (++x[i] != 0)
			return false;
	return true;
}

/* ---- expressions ------------------------------------------------------ */

static void add_meta(struct nftnl_rule *r, uint32_t key, uint32_t dreg)
{
	struct nftnl_expr *e = nftnl_expr_alloc("meta");

	nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, key);
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, dreg);
	nftnl_rule_add_expr(r, e);
}

/* Load len bytes at off of header base into register dreg. */
static void add_payload(struct nftnl_rule *r, uint32_t base, uint32_t off,
			uint32_t len, uint32_t dreg)
{
	struct nftnl_expr *e = nftnl_expr_alloc("payload");

	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, dreg);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, base);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, off);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, len);
	nftnl_rule_add_expr(r, e);
}

/* Load conntrack key into register dreg. */
static void add_ct(struct nftnl_rule *r, uint32_t key, uint32_t dreg)
{
	struct nftnl_expr *e = nftnl_expr_alloc("ct");

	nftnl_expr_set_u32(e, NFTNL_EXPR_CT_KEY, key);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CT_DREG, dreg);
	nftnl_rule_add_expr(r, e);
}

/* Compare register 1 with data (op: NFT_CMP_*). */
static void add_cmp(struct nftnl_rule *r, uint32_t op, const void *data,
		    uint32_t len)
{
	struct nftnl_expr *e = nftnl_expr_alloc("cmp");

	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, op);
	nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, data, len);
	nftnl_rule_add_expr(r, e);
}

/* Register 1 &= mask (len bytes). */
static void add_bitwise(struct nftnl_rule *r, const void *mask, uint32_t len)
{
	struct nftnl_expr *e = nftnl_expr_alloc("bitwise");
	uint8_t zero[16] = { 0 };

	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_SREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_DREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_OP, NFT_BITWISE_BOOL);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_LEN, len);
	nftnl_expr_set(e, NFTNL_EXPR_BITWISE_MASK, mask, len);
	nftnl_expr_set(e, NFTNL_EXPR_BITWISE_XOR, zero, len);
	nftnl_rule_add_expr(r, e);
}

/* Register 1 outside lo..hi. */
static void add_range_neq(struct nftnl_rule *r, const void *lo, const void *hi,
			  uint32_t len)
{
	struct nftnl_expr *e = nftnl_expr_alloc("range");

	nftnl_expr_set_u32(e, NFTNL_EXPR_RANGE_SREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_RANGE_OP, NFT_RANGE_NEQ);
	nftnl_expr_set(e, NFTNL_EXPR_RANGE_FROM_DATA, lo, len);
	nftnl_expr_set(e, NFTNL_EXPR_RANGE_TO_DATA, hi, len);
	nftnl_rule_add_expr(r, e);
}

/* Register 1 in set (by name and batch id), or not in it when inv. */
static void add_lookup(struct nftnl_rule *r, const char *set, uint32_t id,
		       bool inv)
{
	struct nftnl_expr *e = nftnl_expr_alloc("lookup");

	nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SREG, NFT_REG_1);
	nftnl_expr_set_str(e, NFTNL_EXPR_LOOKUP_SET, set);
	if (id)
		nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SET_ID, id);
	if (inv)
		nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_FLAGS, NFT_LOOKUP_F_INV);
	nftnl_rule_add_expr(r, e);
}

/* An immediate verdict (chain for jump and goto). */
static void add_verdict(struct nftnl_rule *r, int verdict, const char *chain)
{
	struct nftnl_expr *e = nftnl_expr_alloc("immediate");

	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT, (uint32_t)verdict);
	if (chain)
		nftnl_expr_set_str(e, NFTNL_EXPR_IMM_CHAIN, chain);
	nftnl_rule_add_expr(r, e);
}

/* Load the key into register dreg (len: bytes of a shortened address load). */
static void add_load_to(struct nftnl_rule *r, RsKey k, AddrFamily fam, int len,
			uint32_t dreg)
{
	bool v6 = fam == FAM_IP6;

	switch (k) {
	case KEY_IIFNAME: add_meta(r, NFT_META_IIFNAME, dreg); break;
	case KEY_OIFNAME: add_meta(r, NFT_META_OIFNAME, dreg); break;
	case KEY_NFPROTO: add_meta(r, NFT_META_NFPROTO, dreg); break;
	case KEY_L4PROTO: add_meta(r, NFT_META_L4PROTO, dreg); break;
	case KEY_SKUID: add_meta(r, NFT_META_SKUID, dreg); break;
	case KEY_SKGID: add_meta(r, NFT_META_SKGID, dreg); break;
	case KEY_CTSTATE: add_ct(r, NFT_CT_STATE, dreg); break;
	case KEY_SADDR:
		add_payload(r, NFT_PAYLOAD_NETWORK_HEADER, v6 ? 8 : 12, (uint32_t)len, dreg);
		break;
	case KEY_DADDR:
		add_payload(r, NFT_PAYLOAD_NETWORK_HEADER, v6 ? 24 : 16, (uint32_t)len, dreg);
		break;
	case KEY_SPORT: add_payload(r, NFT_PAYLOAD_TRANSPORT_HEADER, 0, 2, dreg); break;
	case KEY_DPORT: add_payload(r, NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2, dreg); break;
	default: BUG("key %d cannot be loaded", k);
	}
}

/* Load the key into register 1 (len: bytes of a shortened address load). */
static void add_load(struct nftnl_rule *r, RsKey k, AddrFamily fam, int len)
{
	add_load_to(r, k, fam, len, NFT_REG_1);
}

/* ---- sets ------------------------------------------------------------- */

static int ival_cmp_len;
/* qsort order of intervals: by lower bound. */
static int ival_cmp(const void *a, const void *b)
{
	const Ival *x = a, *y = b;
	int c = memcmp(x->lo, y->lo, (size_t)ival_cmp_len);

	return c ? c : memcmp(x->hi, y->hi, (size_t)ival_cmp_len);
}

/* Sort iv[0..n) and, when merge, join overlapping and adjacent intervals
 * (nft does for anonymous sets). Returns the new count. */
static int ivals_normalise(Ival *iv, int n, int len, bool merge)
{
	int out = 0;

	ival_cmp_len = len;
	qsort(iv, (size_t)n, sizeof *iv, ival_cmp);
	for (int i = 0; i < n; i++) {
		if (merge && out > 0) {
			Ival *last = &iv[out - 1];
			uint8_t next[16];
			bool ovf;

			memcpy(next, last->hi, 16);
			ovf = bytes_inc(next, len);
			if (ovf || memcmp(iv[i].lo, next, (size_t)len) <= 0) {
				if (memcmp(iv[i].hi, last->hi, (size_t)len) > 0)
					memcpy(last->hi, iv[i].hi, 16);
				continue;
			}
		}
		iv[out++] = iv[i];
	}
	return out;
}

/* Add one element of len key bytes to s: end marks the end of an interval,
 * open an interval open to the top, comment the element's comment (both
 * user data, as nft writes them). */
static void elem_add(struct nftnl_set *s, const uint8_t *key, int len,
		     bool end, bool open, const char *comment, int verdict)
{
	struct nftnl_set_elem *e = nftnl_set_elem_alloc();

	nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY, key, (uint32_t)len);
	if (verdict >= 0)
		nftnl_set_elem_set_u32(e, NFTNL_SET_ELEM_VERDICT, (uint32_t)verdict);
	if (end)
		nftnl_set_elem_set_u32(e, NFTNL_SET_ELEM_FLAGS, NFT_SET_ELEM_INTERVAL_END);
	if (open || comment) {
		struct nftnl_udata_buf *u = nftnl_udata_buf_alloc(512);

		if (comment)
			nftnl_udata_put_strz(u, NFTNL_UDATA_SET_ELEM_COMMENT, comment);
		if (open)
			nftnl_udata_put_u32(u, NFTNL_UDATA_SET_ELEM_FLAGS,
					    NFTNL_SET_ELEM_F_INTERVAL_OPEN);
		nftnl_set_elem_set(e, NFTNL_SET_ELEM_USERDATA, nftnl_udata_buf_data(u),
				   nftnl_udata_buf_len(u));
		nftnl_udata_buf_free(u);
	}
	nftnl_set_elem_add(s, e);
}

/* Fill s with the elements of iv[0..n) (normalised; a map's with their
 * verdicts); returns nft's description size for the set. */
static int set_fill(struct nftnl_set *s, const Ival *iv, int n, int len,
		    bool interval, bool map)
{
	static const uint8_t zero[16];
	int size = 0;

	if (!interval) {
		/* (a hash set's dump order is the kernel's, seeded at random) */
		for (int i = 0; i < n; i++)
			elem_add(s, iv[i].lo, len, false, false, iv[i].comment,
				 map ? iv[i].verdict : -1);
		return n;
	}
	if (n > 0 && memcmp(iv[0].lo, zero, (size_t)len)) {
		elem_add(s, zero, len, true, false, NULL, -1);
		size++;
	}
	for (int i = 0; i < n; i++) {
		uint8_t end[16];
		bool open;

		memcpy(end, iv[i].hi, 16);
		open = bytes_inc(end, len);
		elem_add(s, iv[i].lo, len, false, open, iv[i].comment,
			 map ? iv[i].verdict : -1);
		if (!open)
			elem_add(s, end, len, true, false, NULL, -1);
		size += 2;
	}
	return size;
}

/* Emit the set's messages (NEWSET, then NEWSETELEM in chunks). */
static void emit_set(NlBatch *b, struct nftnl_set *s, uint16_t fam, NlNote note)
{
	struct nlmsghdr *nlh = nlb_begin(b, NFT_MSG_NEWSET, fam, NLM_F_CREATE);
	struct nftnl_set_elems_iter *it;

	nftnl_set_nlmsg_build_payload(nlh, s);
	nlb_end(b, nlh, note);
	it = nftnl_set_elems_iter_create(s);
	if (!it)
		BUG("out of memory");
	/* returns 1 while elements remain for another message */
	for (int more = nftnl_set_elems_iter_cur(it) != NULL; more;) {
		nlh = nlb_begin(b, NFT_MSG_NEWSETELEM, fam, NLM_F_CREATE);
		more = nftnl_set_elems_nlmsg_build_payload_iter(nlh, it);
		if (more < 0)
			BUG("set elements do not fit a message");
		nlb_end(b, nlh, note);
	}
	nftnl_set_elems_iter_destroy(it);
}

/* The set's user data: key byte order, [merge], [typeof], [comment]. */
static void set_udata(struct nftnl_set *s, const KeyInfo *ki, bool anon,
		      bool interval, const char *comment)
{
	struct nftnl_udata_buf *u = nftnl_udata_buf_alloc(512);

	nftnl_udata_put_u32(u, NFTNL_UDATA_SET_KEYBYTEORDER, (uint32_t)ki->byteorder);
	if (anon && interval)
		nftnl_udata_put_u32(u, NFTNL_UDATA_SET_MERGE_ELEMENTS, 1);
	if (anon) {
		struct nftnl_udata *outer = nftnl_udata_nest_start(u, NFTNL_UDATA_SET_KEY_TYPEOF);
		struct nftnl_udata *inner;

		nftnl_udata_put_u32(u, NFTNL_UDATA_SET_TYPEOF_EXPR, (uint32_t)ki->typeof_expr);
		inner = nftnl_udata_nest_start(u, NFTNL_UDATA_SET_TYPEOF_DATA);
		nftnl_udata_put_u32(u, 0, (uint32_t)ki->typeof_a);
		if (ki->typeof_expr == 7)
			nftnl_udata_put_u32(u, 1, (uint32_t)ki->typeof_b);
		nftnl_udata_nest_end(u, inner);
		nftnl_udata_nest_end(u, outer);
	}
	if (comment)
		nftnl_udata_put_strz(u, NFTNL_UDATA_SET_COMMENT, comment);
	nftnl_set_set_data(s, NFTNL_SET_USERDATA, nftnl_udata_buf_data(u),
			   nftnl_udata_buf_len(u));
	nftnl_udata_buf_free(u);
}

/* A set of table t of key type ki, with flags and batch id, not yet in a
 * batch. */
static struct nftnl_set *set_new(const RsTable *t, const char *name,
				 const KeyInfo *ki, uint32_t flags, uint32_t id)
{
	struct nftnl_set *s = nftnl_set_alloc();

	nftnl_set_set_str(s, NFTNL_SET_TABLE, t->name);
	nftnl_set_set_str(s, NFTNL_SET_NAME, name);
	nftnl_set_set_u32(s, NFTNL_SET_FAMILY, nf_family(t->family));
	nftnl_set_set_u32(s, NFTNL_SET_FLAGS, flags);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_TYPE, ki->settype);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_LEN, (uint32_t)ki->len);
	nftnl_set_set_u32(s, NFTNL_SET_ID, id);
	return s;
}

/* The key a named set of type ty holds. */
static RsKey settype_key(RsSetType ty, AddrFamily *fam)
{
	*fam = FAM_IP4;
	switch (ty) {
	case SETTYPE_IFNAME: return KEY_IIFNAME;
	case SETTYPE_IPV4: return KEY_SADDR;
	case SETTYPE_IPV6: *fam = FAM_IP6; return KEY_SADDR;
	case SETTYPE_SERVICE: return KEY_DPORT;
	case SETTYPE_UID: return KEY_SKUID;
	default: BUG("set type %d", ty);
	}
}

/* Messages adding named set rs of t and its elements; 0 or -1. */
static int add_named_set(NlBatch *b, const RsTable *t, const RsSet *rs, Buf *err)
{
	AddrFamily fam;
	RsKey k = settype_key(rs->type, &fam);
	KeyInfo ki = key_info(k, fam, 0);
	Ival *iv = xcalloc((size_t)rs->n_elems + 1, sizeof *iv);
	struct nftnl_set *s;
	int n;

	for (int i = 0; i < rs->n_elems; i++)
		if (value_ival(&rs->elems[i], k, &ki, &iv[i], err) < 0) {
			buf_printf(err, " (in set %s)", rs->name);
			free(iv);
			return -1;
		}
	n = ivals_normalise(iv, rs->n_elems, ki.len, false);
	s = set_new(t, rs->name, &ki, rs->interval ? NFT_SET_INTERVAL : 0,
		    ++b->set_id);
	set_udata(s, &ki, false, rs->interval, rs->comment);
	set_fill(s, iv, n, ki.len, rs->interval, false);
	emit_set(b, s, nf_family(t->family),
		 note_obj(b, "set %s%s", rs->name, NULL));
	nftnl_set_free(s);
	free(iv);
	return 0;
}

/* ---- rules ------------------------------------------------------------ */

typedef struct RuleCtx {
	NlBatch *b;
	const RsTable *t;
	NlNote note;
	int l4;			/* the L4PROTO in force, or 0 */
	AddrFamily fam;		/* the NFPROTO in force */
	int fixed;		/* the family a match fixed (4, 6), else 0 */
} RuleCtx;

/* m's values as set elements (xcalloc'ed, each with its rule's comment);
 * *interval: some value is a range. NULL after an error in err. */
static Ival *match_ivals(const RsMatch *m, const KeyInfo *ki, bool *interval, Buf *err)
{
	Ival *iv = xcalloc((size_t)m->n_vals, sizeof *iv);

	*interval = false;
	for (int i = 0; i < m->n_vals; i++) {
		if (value_ival(&m->vals[i], m->key, ki, &iv[i], err) < 0) {
			free(iv);
			return NULL;
		}
		if (m->vals[i].prov)
			iv[i].comment = m->vals[i].prov->comment;
		if (!ival_point(&iv[i], ki->len))
			*interval = true;
	}
	return iv;
}

/* An anonymous set for m's values, and the lookup on it. */
static int add_anon_lookup(RuleCtx *c, struct nftnl_rule *r, const RsMatch *m,
			   const KeyInfo *ki, Buf *err)
{
	bool interval;
	Ival *iv = match_ivals(m, ki, &interval, err);
	struct nftnl_set *s;
	uint32_t id = ++c->b->set_id;
	int n, size;

	if (!iv)
		return -1;
	n = ivals_normalise(iv, m->n_vals, ki->len, interval);
	s = set_new(c->t, "__set%d", ki,
		    NFT_SET_ANONYMOUS | NFT_SET_CONSTANT |
		    (interval ? NFT_SET_INTERVAL : 0), id);
	set_udata(s, ki, true, interval, NULL);
	size = set_fill(s, iv, n, ki->len, interval, false);
	nftnl_set_set_u32(s, NFTNL_SET_DESC_SIZE, (uint32_t)size);
	emit_set(c->b, s, nf_family(c->t->family), c->note);
	nftnl_set_free(s);
	free(iv);
	add_load(r, m->key, c->fam, ki->len);
	add_lookup(r, "__set%d", id, m->neg);
	return 0;
}

/* A verdict map of m's values (an anonymous map, as nft writes `KEY
 * vmap { v : accept, ... }`) and the lookup whose result is the verdict. */
static int add_anon_vmap(RuleCtx *c, struct nftnl_rule *r, const RsMatch *m,
			 const KeyInfo *ki, Buf *err)
{
	bool interval;
	Ival *iv = match_ivals(m, ki, &interval, err);
	struct nftnl_set *s;
	struct nftnl_expr *e;
	uint32_t id = ++c->b->set_id;
	int n, size;

	if (!iv)
		return -1;
	for (int i = 0; i < m->n_vals; i++) {
		if (m->vmap[i] != VERDICT_ACCEPT && m->vmap[i] != VERDICT_DROP)
			BUG("verdict map element of verdict %d", m->vmap[i]);
		iv[i].verdict = m->vmap[i] == VERDICT_ACCEPT ? NF_ACCEPT : NF_DROP;
	}
	n = ivals_normalise(iv, m->n_vals, ki->len, false);
	s = set_new(c->t, "__map%d", ki,
		    NFT_SET_ANONYMOUS | NFT_SET_CONSTANT | NFT_SET_MAP |
		    (interval ? NFT_SET_INTERVAL : 0), id);
	nftnl_set_set_u32(s, NFTNL_SET_DATA_TYPE, NFT_DATA_VERDICT);
	nftnl_set_set_u32(s, NFTNL_SET_DATA_LEN, 0);
	set_udata(s, ki, true, false, NULL);
	size = set_fill(s, iv, n, ki->len, interval, true);
	nftnl_set_set_u32(s, NFTNL_SET_DESC_SIZE, (uint32_t)size);
	emit_set(c->b, s, nf_family(c->t->family), c->note);
	nftnl_set_free(s);
	free(iv);
	if (m->key == KEY_CTSTATE)
		add_ct(r, NFT_CT_STATE, NFT_REG_1);
	else
		add_load(r, m->key, c->fam, ki->len);
	e = nftnl_expr_alloc("lookup");
	nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_DREG, NFT_REG_VERDICT);
	nftnl_expr_set_str(e, NFTNL_EXPR_LOOKUP_SET, "__map%d");
	nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SET_ID, id);
	nftnl_rule_add_expr(r, e);
	return 0;
}

enum { SET_CONCAT = 0x80 };	/* NFT_SET_CONCAT */

/* A concatenation's key k (of m) as it is loaded: its info and the
 * bytes it takes in the registers (a multiple of 4). */
static KeyInfo cat_info(const RuleCtx *c, const RsMatch *m, int k, int *padded)
{
	const RsValue *v = &m->vals[k];
	KeyInfo ki = key_info(m->cat[k], v->kind == VAL_ADDR ? v->fam : c->fam, c->l4);

	*padded = (ki.len + 3) / 4 * 4;
	return ki;
}

/* An anonymous set (or verdict map) of m's tuples, keyed by the
 * concatenation of its keys (each loaded into the 32-bit registers from
 * NFT_REG32_00 on, padded to 4 bytes, as nft does), and the lookup. */
static int add_anon_concat(RuleCtx *c, struct nftnl_rule *r, const RsMatch *m,
			   Buf *err)
{
	KeyInfo ki = { 0 };
	uint8_t fields[16];
	int off = 0, size = 0, n = m->n_cat;
	bool interval = false;
	uint32_t id = ++c->b->set_id, type = 0;
	struct nftnl_set *s;
	struct nftnl_expr *e;

	if (n > 16)
		BUG("a concatenation of %d keys", n);
	for (int k = 0; k < n; k++) {
		int pad;
		KeyInfo kk = cat_info(c, m, k, &pad);

		fields[k] = (uint8_t)kk.len;
		type = type << 6 | kk.settype;
		off += pad;
		for (int i = 0; i < m->n_vals; i++) {
			Ival iv;

			if (value_ival(&m->vals[i * n + k], m->cat[k], &kk, &iv, err) < 0)
				return -1;
			interval |= !ival_point(&iv, kk.len);
		}
	}
	if (off > 64) {
		buf_printf(err, "a concatenation of %d bytes does not fit the registers", off);
		return -1;
	}
	ki = (KeyInfo){ off, type, BO_BIG, 0, 0, 0 };
	/* with ranges: a set of intervals of concatenations (NFT_SET_CONCAT,
	 * 0x80, not in every kernel header), told its fields' lengths */
	s = set_new(c->t, m->vmap ? "__map%d" : "__set%d", &ki,
		    NFT_SET_ANONYMOUS | NFT_SET_CONSTANT | (m->vmap ? NFT_SET_MAP : 0) |
		    (interval ? NFT_SET_INTERVAL | SET_CONCAT : 0), id);
	if (m->vmap) {
		nftnl_set_set_u32(s, NFTNL_SET_DATA_TYPE, NFT_DATA_VERDICT);
		nftnl_set_set_u32(s, NFTNL_SET_DATA_LEN, 0);
	}
	if (interval)
		nftnl_set_set_data(s, NFTNL_SET_DESC_CONCAT, fields, (uint32_t)n);
	{
		struct nftnl_udata_buf *u = nftnl_udata_buf_alloc(64);

		nftnl_udata_put_u32(u, NFTNL_UDATA_SET_KEYBYTEORDER, BO_BIG);
		nftnl_set_set_data(s, NFTNL_SET_USERDATA, nftnl_udata_buf_data(u),
				   nftnl_udata_buf_len(u));
		nftnl_udata_buf_free(u);
	}
	for (int i = 0; i < m->n_vals; i++) {
		uint8_t lo[64] = { 0 }, hi[64] = { 0 };
		struct nftnl_set_elem *el = nftnl_set_elem_alloc();
		const RsProv *pv = m->vals[i * n].prov;

		off = 0;
		for (int k = 0; k < n; k++) {
			int pad;
			KeyInfo kk = cat_info(c, m, k, &pad);
			Ival iv;

			value_ival(&m->vals[i * n + k], m->cat[k], &kk, &iv, err);
			memcpy(lo + off, iv.lo, (size_t)kk.len);
			memcpy(hi + off, iv.hi, (size_t)kk.len);
			off += pad;
		}
		nftnl_set_elem_set(el, NFTNL_SET_ELEM_KEY, lo, (uint32_t)off);
		if (interval)
			nftnl_set_elem_set(el, NFTNL_SET_ELEM_KEY_END, hi, (uint32_t)off);
		if (m->vmap)
			nftnl_set_elem_set_u32(el, NFTNL_SET_ELEM_VERDICT,
					       m->vmap[i] == VERDICT_ACCEPT ? NF_ACCEPT : NF_DROP);
		if (pv && pv->comment) {
			struct nftnl_udata_buf *u = nftnl_udata_buf_alloc(512);

			nftnl_udata_put_strz(u, NFTNL_UDATA_SET_ELEM_COMMENT, pv->comment);
			nftnl_set_elem_set(el, NFTNL_SET_ELEM_USERDATA, nftnl_udata_buf_data(u),
					   nftnl_udata_buf_len(u));
			nftnl_udata_buf_free(u);
		}
		nftnl_set_elem_add(s, el);
		size++;
	}
	nftnl_set_set_u32(s, NFTNL_SET_DESC_SIZE, (uint32_t)size);
	emit_set(c->b, s, nf_family(c->t->family), c->note);
	nftnl_set_free(s);
	off = 0;
	for (int k = 0; k < n; k++) {
		int pad;
		KeyInfo kk = cat_info(c, m, k, &pad);
		const RsValue *v = &m->vals[k];

		add_load_to(r, m->cat[k], v->kind == VAL_ADDR ? v->fam : c->fam, kk.len,
			    (uint32_t)(NFT_REG32_00 + off / 4));
		off += pad;
	}
	e = nftnl_expr_alloc("lookup");
	nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SREG, NFT_REG32_00);
	if (m->vmap)
		nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_DREG, NFT_REG_VERDICT);
	nftnl_expr_set_str(e, NFTNL_EXPR_LOOKUP_SET, m->vmap ? "__map%d" : "__set%d");
	nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SET_ID, id);
	nftnl_rule_add_expr(r, e);
	return 0;
}

/* ct state: one mask, tested as nft does. */
static void add_ctstate(struct nftnl_rule *r, const RsMatch *m)
{
	uint32_t mask = 0, zero = 0;

	for (int i = 0; i < m->n_vals; i++)
		mask |= (uint32_t)m->vals[i].lo;
	add_ct(r, NFT_CT_STATE, NFT_REG_1);
	if (m->neg) {
		add_cmp(r, NFT_CMP_NEQ, &mask, 4);
		return;
	}
	add_bitwise(r, &mask, 4);
	add_cmp(r, NFT_CMP_NEQ, &zero, 4);
}

/* One value: cmp, a shortened or masked address prefix, or a range. */
static int add_single(RuleCtx *c, struct nftnl_rule *r, const RsMatch *m,
		      const KeyInfo *ki, Buf *err)
{
	uint32_t op = m->neg ? NFT_CMP_NEQ : NFT_CMP_EQ;
	const RsValue *v = &m->vals[0];
	Ival iv;
	int plen;

	if (value_ival(v, m->key, ki, &iv, err) < 0)
		return -1;
	if (v->kind == VAL_IFNAME) {
		add_load(r, m->key, c->fam, ki->len);
		add_cmp(r, op, iv.lo, v->wildcard ? (uint32_t)strlen(v->name) : 16);
		return 0;
	}
	if (ival_point(&iv, ki->len)) {
		add_load(r, m->key, c->fam, ki->len);
		add_cmp(r, op, iv.lo, (uint32_t)ki->len);
		return 0;
	}
	plen = v->kind == VAL_ADDR ? ival_prefix(&iv, ki->len) : -1;
	if (plen > 0 && plen % 8 == 0) {
		add_load(r, m->key, c->fam, plen / 8);
		add_cmp(r, op, iv.lo, (uint32_t)plen / 8);
		return 0;
	}
	if (plen > 0) {
		uint8_t mask[16] = { 0 };

		for (int i = 0; i < plen; i++)
			mask[i / 8] |= (uint8_t)(0x80 >> (i % 8));
		add_load(r, m->key, c->fam, ki->len);
		add_bitwise(r, mask, (uint32_t)ki->len);
		add_cmp(r, op, iv.lo, (uint32_t)ki->len);
		return 0;
	}
	add_load(r, m->key, c->fam, ki->len);
	if (m->neg) {
		add_range_neq(r, iv.lo, iv.hi, (uint32_t)ki->len);
	} else {
		add_cmp(r, NFT_CMP_GTE, iv.lo, (uint32_t)ki->len);
		add_cmp(r, NFT_CMP_LTE, iv.hi, (uint32_t)ki->len);
	}
	return 0;
}

/* The expressions of one match; 0, or -1 when m cannot be written. */
static int add_match(RuleCtx *c, struct nftnl_rule *r, const RsMatch *m, Buf *err)
{
	AddrFamily fam = c->fam;
	KeyInfo ki;

	if (m->key == KEY_UNKNOWN) {
		buf_printf(err, "an undecoded expression (%s) cannot be written",
			   m->unknown ? m->unknown : "?");
		return -1;
	}
	if ((m->key == KEY_SADDR || m->key == KEY_DADDR) && m->n_vals > 0 &&
	    m->vals[0].kind == VAL_ADDR)
		fam = m->vals[0].fam;
	if (m->key == KEY_SADDR || m->key == KEY_DADDR) {
		c->fam = fam;
		if (!m->neg)
			c->fixed = fam;
	}
	ki = key_info(m->key, fam, c->l4);
	if (m->set) {
		const RsSet *s = rs_set_find(c->t, m->set);

		if (s && (s->type == SETTYPE_IPV6))
			c->fam = FAM_IP6;
		add_load(r, m->key, c->fam, ki.len);
		add_lookup(r, m->set, 0, m->neg);
		return 0;
	}
	if (m->n_vals == 0) {
		buf_printf(err, "a match without values");
		return -1;
	}
	if (m->n_cat)
		return add_anon_concat(c, r, m, err);
	if (m->vmap)
		return add_anon_vmap(c, r, m, &ki, err);
	if (m->key == KEY_CTSTATE) {
		add_ctstate(r, m);
		return 0;
	}
	if (m->key == KEY_NFPROTO && m->n_vals == 1) {
		c->fam = m->vals[0].lo == 10 ? FAM_IP6 : FAM_IP4;
		if (!m->neg)
			c->fixed = c->fam;
	}
	if (m->key == KEY_L4PROTO && m->n_vals == 1 && !m->neg)
		c->l4 = (int)m->vals[0].lo;
	if (m->n_vals > 1)
		return add_anon_lookup(c, r, m, &ki, err);
	return add_single(c, r, m, &ki, err);
}

/* Store comment in r's user data, as nft does. */
static void rule_comment(struct nftnl_rule *r, const char *comment)
{
	struct nftnl_udata_buf *u = nftnl_udata_buf_alloc(512);

	nftnl_udata_put_strz(u, NFTNL_UDATA_RULE_COMMENT, comment);
	nftnl_rule_set_data(r, NFTNL_RULE_USERDATA, nftnl_udata_buf_data(u),
			    nftnl_udata_buf_len(u));
	nftnl_udata_buf_free(u);
}

/* nft's reject: tcp reset, or port unreachable as ICMP / ICMPv6 when the
 * table or the rule's matches fix the family (fam 4/6), else icmpx. */
static void add_reject(struct nftnl_rule *r, RsRejectKind kind, int fam)
{
	struct nftnl_expr *e = nftnl_expr_alloc("reject");
	uint32_t type, code;

	if (kind == REJECT_TCP_RESET) {
		type = NFT_REJECT_TCP_RST;
		code = 0;
	} else if (kind != REJECT_DEFAULT) {
		BUG("reject kind %d", kind);
	} else if (fam == FAM_IP4 || fam == FAM_IP6) {
		type = NFT_REJECT_ICMP_UNREACH;
		code = fam == FAM_IP6 ? 4 : 3;	/* port unreachable */
	} else {
		type = NFT_REJECT_ICMPX_UNREACH;
		code = NFT_REJECT_ICMPX_PORT_UNREACH;
	}
	nftnl_expr_set_u32(e, NFTNL_EXPR_REJECT_TYPE, type);
	nftnl_expr_set_u8(e, NFTNL_EXPR_REJECT_CODE, (uint8_t)code);
	nftnl_rule_add_expr(r, e);
}

/* The message adding rule idx of ch (and its anonymous sets); 0 or -1. */
static int add_rule(NlBatch *b, const RsTable *t, const RsChain *ch, int idx,
		    Buf *err)
{
	const RsRule *rr = &ch->rules[idx];
	struct nftnl_rule *r = nftnl_rule_alloc();
	RuleCtx c = { b, t, { 0 }, 0, t->family == RS_IP6 ? FAM_IP6 : FAM_IP4, 0 };
	struct nlmsghdr *nlh;

	c.note.what = arena_printf(b->arena, "rule %d of chain %s%s%s", idx + 1,
				   ch->name, rr->origin_what ? " for " : "",
				   rr->origin_what ? rr->origin_what : "");
	c.note.loc = rr->origin;
	nftnl_rule_set_u32(r, NFTNL_RULE_FAMILY, nf_family(t->family));
	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, t->name);
	nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, ch->name);
	for (int i = 0; i < rr->n_matches; i++)
		if (add_match(&c, r, &rr->matches[i], err) < 0) {
			buf_printf(err, " (%s)", c.note.what);
			nftnl_rule_free(r);
			return -1;
		}
	if ((rr->verdict == VERDICT_JUMP || rr->verdict == VERDICT_GOTO) && !rr->target)
		BUG("jump without a target chain");
	if (rr->counter)
		nftnl_rule_add_expr(r, nftnl_expr_alloc("counter"));
	switch (rr->verdict) {
	case VERDICT_CONTINUE: break;
	case VERDICT_ACCEPT: add_verdict(r, NF_ACCEPT, NULL); break;
	case VERDICT_DROP: add_verdict(r, NF_DROP, NULL); break;
	case VERDICT_REJECT:
		add_reject(r, rr->reject, t->family == RS_IP ? FAM_IP4 :
			   t->family == RS_IP6 ? FAM_IP6 : c.fixed);
		break;
	case VERDICT_JUMP: add_verdict(r, NFT_JUMP, rr->target); break;
	case VERDICT_GOTO: add_verdict(r, NFT_GOTO, rr->target); break;
	case VERDICT_RETURN: add_verdict(r, NFT_RETURN, NULL); break;
	default: BUG("verdict %d", rr->verdict);
	}
	if (rr->comment)
		rule_comment(r, rr->comment);
	nlh = nlb_begin(b, NFT_MSG_NEWRULE, nf_family(t->family),
			NLM_F_CREATE | NLM_F_APPEND);
	nftnl_rule_nlmsg_build_payload(nlh, r);
	nlb_end(b, nlh, c.note);
	nftnl_rule_free(r);
	return 0;
}

/* The message adding chain ch (base chain with hook, priority and policy). */
static void add_chain(NlBatch *b, const RsTable *t, const RsChain *ch)
{
	struct nftnl_chain *c = nftnl_chain_alloc();
	struct nlmsghdr *nlh;
	static const uint32_t hooks[] = {
		[HOOK_PREROUTING] = NF_INET_PRE_ROUTING,
		[HOOK_INPUT] = NF_INET_LOCAL_IN,
		[HOOK_FORWARD] = NF_INET_FORWARD,
		[HOOK_OUTPUT] = NF_INET_LOCAL_OUT,
		[HOOK_POSTROUTING] = NF_INET_POST_ROUTING,
		[HOOK_INGRESS] = NF_INET_INGRESS,
	};

	nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, t->name);
	nftnl_chain_set_str(c, NFTNL_CHAIN_NAME, ch->name);
	if (ch->hook != HOOK_NONE) {
		if ((unsigned)ch->hook >= sizeof hooks / sizeof *hooks)
			BUG("hook %d", ch->hook);
		nftnl_chain_set_str(c, NFTNL_CHAIN_TYPE, ch->type ? ch->type : "filter");
		nftnl_chain_set_u32(c, NFTNL_CHAIN_POLICY,
				    ch->policy == VERDICT_DROP ? NF_DROP : NF_ACCEPT);
		nftnl_chain_set_u32(c, NFTNL_CHAIN_HOOKNUM, hooks[ch->hook]);
		nftnl_chain_set_s32(c, NFTNL_CHAIN_PRIO, ch->priority);
	}
	if (ch->comment) {
		struct nftnl_udata_buf *u = nftnl_udata_buf_alloc(512);

		nftnl_udata_put_strz(u, NFTNL_UDATA_CHAIN_COMMENT, ch->comment);
		nftnl_chain_set_data(c, NFTNL_CHAIN_USERDATA, nftnl_udata_buf_data(u),
				     nftnl_udata_buf_len(u));
		nftnl_udata_buf_free(u);
	}
	nlh = nlb_begin(b, NFT_MSG_NEWCHAIN, nf_family(t->family), NLM_F_CREATE);
	nftnl_chain_nlmsg_build_payload(nlh, c);
	nlb_end(b, nlh, note_obj(b, "chain %s%s", ch->name, NULL));
	nftnl_chain_free(c);
}

/* see nl_int.h */
const RsSet *rs_set_find(const RsTable *t, const char *name)
{
	for (int i = 0; i < t->n_sets; i++)
		if (!strcmp(t->sets[i].name, name))
			return &t->sets[i];
	return NULL;
}

/* see nl.h */
int nl_batch_add_table(NlBatch *b, const RsTable *t, Buf *err)
{
	struct nftnl_table *nt = nftnl_table_alloc();
	struct nlmsghdr *nlh;

	nftnl_table_set_str(nt, NFTNL_TABLE_NAME, t->name);
	nftnl_table_set_u32(nt, NFTNL_TABLE_FLAGS, 0);
	nlh = nlb_begin(b, NFT_MSG_NEWTABLE, nf_family(t->family), NLM_F_CREATE);
	nftnl_table_nlmsg_build_payload(nlh, nt);
	nlb_end(b, nlh, note_obj(b, "table %s%s", t->name, NULL));
	nftnl_table_free(nt);
	for (int i = 0; i < t->n_sets; i++)
		if (add_named_set(b, t, &t->sets[i], err) < 0)
			return -1;
	for (int i = 0; i < t->n_chains; i++)
		add_chain(b, t, &t->chains[i]);
	for (int i = 0; i < t->n_chains; i++)
		for (int j = 0; j < t->chains[i].n_rules; j++)
			if (add_rule(b, t, &t->chains[i], j, err) < 0)
				return -1;
	return 0;
}

/* ---- commit ----------------------------------------------------------- */

/* The note of the message with sequence seq (relative numbering), or NULL. */
static const NlNote *note_of(const NlBatch *b, uint32_t base, uint32_t seq)
{
	uint32_t i = seq - base - 1;

	return i < (uint32_t)b->n_notes ? &b->notes[i] : NULL;
}

/* One refused message: an error on b's Diag when it has one and the
 * message a policy location, else a line in err. */
static void report_refusal(const NlBatch *b, uint32_t base,
			   const struct nlmsgerr *e, Buf *err)
{
	const NlNote *n = note_of(b, base, e->msg.nlmsg_seq);

	if (n && n->loc.file && b->diag)
		diag_error(b->diag, n->loc, "the kernel refused %s: %s", n->what,
			   nl_strerror(-e->error));
	else if (n && n->loc.file)
		buf_printf(err, "%s:%d:%d: error: the kernel refused %s: %s\n",
			   n->loc.file, n->loc.first_line, n->loc.first_col,
			   n->what, nl_strerror(-e->error));
	else
		buf_printf(err, "error: the kernel refused %s: %s\n",
			   n ? n->what : "the batch", nl_strerror(-e->error));
}

/* Renumber the messages base+1.. and wrap them in begin/end. */
static Buf frame(NlBatch *b, uint32_t base)
{
	char hdr[256];
	Buf out = { 0 };
	size_t off = 0;
	uint32_t seq = base;

	buf_append(&out, nftnl_batch_begin(hdr, seq++), NLMSG_ALIGN(sizeof(struct nlmsghdr) + sizeof(struct nfgenmsg)));
	while (off < b->msgs.len) {
		struct nlmsghdr *nlh = (struct nlmsghdr *)(b->msgs.data + off);
		size_t at = out.len;

		buf_append(&out, nlh, NLMSG_ALIGN(nlh->nlmsg_len));
		((struct nlmsghdr *)(out.data + at))->nlmsg_seq = seq++;
		off += NLMSG_ALIGN(nlh->nlmsg_len);
	}
	buf_append(&out, nftnl_batch_end(hdr, seq), NLMSG_ALIGN(sizeof(struct nlmsghdr) + sizeof(struct nfgenmsg)));
	return out;
}

/* see nl.h */
int nl_commit(NlSock *s, NlBatch *b, Buf *err)
{
	uint32_t base = s->seq;
	Buf out = frame(b, base);
	char hdr[256];
	struct nlmsghdr *gen;
	uint32_t genseq;
	int bufsz = (int)out.len + 65536, failed = 0, done = 0;
	static char rbuf[1 << 17];

	if (getenv("FPC_NL_DUMP")) {	/* debugging: the batch as sent */
		FILE *f = fopen(getenv("FPC_NL_DUMP"), "w");

		if (f) {
			fwrite(out.data, 1, out.len, f);
			fclose(f);
		}
	}
	s->seq += (uint32_t)b->n_notes + 4;
	genseq = s->seq++;
	setsockopt(mnl_socket_get_fd(s->nl), SOL_SOCKET, SO_SNDBUFFORCE, &bufsz,
		   sizeof bufsz);
	bufsz = 1 << 22;
	setsockopt(mnl_socket_get_fd(s->nl), SOL_SOCKET, SO_RCVBUFFORCE, &bufsz,
		   sizeof bufsz);
	if (mnl_socket_sendto(s->nl, out.data, out.len) < 0) {
		buf_printf(err, "error: cannot send the batch (%zu bytes): %s\n",
			   out.len, nl_strerror(errno));
		buf_free(&out);
		return -1;
	}
	buf_free(&out);
	gen = nftnl_nlmsg_build_hdr(hdr, NFT_MSG_GETGEN, AF_UNSPEC, NLM_F_ACK, genseq);
	if (mnl_socket_sendto(s->nl, gen, gen->nlmsg_len) < 0) {
		buf_printf(err, "error: netlink: %s\n", nl_strerror(errno));
		return -1;
	}
	while (!done) {
		ssize_t n = mnl_socket_recvfrom(s->nl, rbuf, sizeof rbuf);
		struct nlmsghdr *nlh = (struct nlmsghdr *)rbuf;
		int len = (int)n;

		if (n < 0) {
			buf_printf(err, "error: netlink: %s\n", nl_strerror(errno));
			return -1;
		}
		for (; mnl_nlmsg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh, &len)) {
			if (nlh->nlmsg_seq == genseq) {
				if (nlh->nlmsg_type == NLMSG_ERROR)
					done = 1;
				continue;
			}
			if (nlh->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);

				if (e->error) {
					report_refusal(b, base, e, err);
					failed++;
				}
			}
		}
	}
	return failed ? -1 : 0;
}
