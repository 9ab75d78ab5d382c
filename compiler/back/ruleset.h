/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ruleset.h: the Ruleset IR, what nftables will hold.
 *
 * lower.c makes it from a Policy; emit_nft.c prints it; prove.c decides
 * packets on it; import_json.c (nft -j) and the netlink reader make it from
 * what a host holds; apply.c sends it to the kernel. It is plain data, no
 * strings of nft syntax. Everything lives in the arena it was built in.
 *
 * A rule is a conjunction of matches followed by one verdict. A match tests
 * one key of the packet against a list of values (a set: any value matches);
 * neg inverts it. Protocol context is explicit: `tcp dport 8080` lowers to
 * two matches, L4PROTO {6} then DPORT {8080}; `ip saddr X` to NFPROTO {2}
 * then SADDR {X}.
 */
#ifndef FPC_RULESET_H
#define FPC_RULESET_H

#include "front.h"

typedef enum {
	RS_INET, RS_IP, RS_IP6, RS_ARP, RS_BRIDGE, RS_NETDEV
} RsFamily;

typedef enum {
	HOOK_NONE,	/* a regular chain, reached by jump/goto */
	HOOK_PREROUTING, HOOK_INPUT, HOOK_FORWARD, HOOK_OUTPUT,
	HOOK_POSTROUTING, HOOK_INGRESS,
} RsHook;

typedef enum {
	KEY_IIFNAME,	/* values: VAL_IFNAME */
	KEY_OIFNAME,
	KEY_NFPROTO,	/* values: VAL_INT, 2 = ipv4, 10 = ipv6 (NFPROTO_*) */
	KEY_L4PROTO,	/* values: VAL_INT, 6 tcp, 17 udp, 1 icmp, 58 icmpv6 */
	KEY_SADDR,	/* values: VAL_ADDR (the family is in the value) */
	KEY_DADDR,
	KEY_SPORT,	/* values: VAL_INT 0..65535; needs an earlier L4PROTO */
	KEY_DPORT,
	KEY_SKUID,	/* values: VAL_INT, or VAL_USER before resolution */
	KEY_SKGID,
	KEY_CTSTATE,	/* values: VAL_INT bit mask: 1 invalid, 2 established,
			   4 related, 8 new, 64 untracked */
	KEY_UNKNOWN,	/* an expression nothing here decodes: may match */
} RsKey;

typedef enum { VAL_INT, VAL_ADDR, VAL_IFNAME, VAL_USER } RsValKind;

/* Where one element of a merged lookup came from (lookup.c): the comment
 * nft holds on the element ("default.fp:30 laptop->api") and, when
 * compiled here, the policy text and what of it. */
typedef struct RsProv {
	const char *comment;
	Loc origin;
	const char *origin_what;
} RsProv;

typedef struct RsValue {
	RsValKind kind;
	/* VAL_INT: lo..hi inclusive (lo == hi for one value). For KEY_CTSTATE a
	 * value is a mask: matches when (state & lo) != 0. */
	uint64_t lo, hi;
	/* VAL_ADDR: the range addr_lo..addr_hi of family fam (a prefix or
	 * an nft interval), network byte order. */
	AddrFamily fam;
	uint8_t addr_lo[16], addr_hi[16];
	/* VAL_IFNAME: name, and wildcard for a "name*" prefix pattern;
	 * VAL_USER: a user name for skuid (nft resolves it at load). */
	const char *name;
	bool wildcard;
	/* an element of a lookup merged from several rules (lookup.c): its
	 * provenance, else NULL */
	const RsProv *prov;
} RsValue;

typedef enum {
	VERDICT_CONTINUE,	/* no verdict: go on with the next rule */
	VERDICT_ACCEPT, VERDICT_DROP, VERDICT_REJECT,
	VERDICT_JUMP, VERDICT_GOTO, VERDICT_RETURN,
} RsVerdictKind;

typedef struct RsMatch {
	RsKey key;
	bool neg;		/* `!=` */
	RsValue *vals;		/* any one matches */
	int n_vals;
	const char *set;	/* named set the values came from, or NULL */
	const char *unknown;	/* KEY_UNKNOWN: the expression, for reports */
	/* a verdict map (`KEY vmap { v : accept, ... }`): value i decides
	 * vmap[i] (VERDICT_ACCEPT or VERDICT_DROP); the values are disjoint,
	 * the match is positive and the rule's last, and the rule's own
	 * verdict is VERDICT_CONTINUE (no element: the next rule). NULL for
	 * a plain match. */
	const RsVerdictKind *vmap;
	/* a concatenation (`iifname . ip saddr . tcp dport`): n_cat >= 2
	 * keys cat[] (key is cat[0]); its n_vals elements are tuples,
	 * vals[i * n_cat + k] the k-th key's value of element i (one value
	 * or range each; the elements are disjoint). The protocol matches
	 * the keys need come before it. n_cat 0 for one key. */
	const RsKey *cat;
	int n_cat;
} RsMatch;


/* How a VERDICT_REJECT answers (the prover treats every kind as a drop). */
typedef enum {
	REJECT_DEFAULT,		/* nft `reject`: port unreachable, ICMP or ICMPv6 as
				   the packet is (nft holds and lists it as `with
				   icmp(v6) port-unreachable` when the rule's
				   matches fix the family, icmpx otherwise) */
	REJECT_TCP_RESET,	/* `reject with tcp reset`: the rule matches tcp only.
				   (A local IPv6 TCP connect ignores the ICMPv6
				   error and retries for minutes; a reset ends it.) */
} RsRejectKind;

typedef struct RsRule {
	RsMatch *matches;
	int n_matches;
	RsVerdictKind verdict;
	const char *target;	/* VERDICT_JUMP/GOTO: chain name */
	bool counter;
	const char *comment;	/* e.g. "default.fp:31 laptop->api" */
	Loc origin;		/* the policy text that produced it (trust cell) */
	const char *origin_what; /* "laptop->api", "catch-all", ... */
	uint64_t handle;	/* kernel handle when read back, else 0 */
	RsRejectKind reject;	/* VERDICT_REJECT: what is sent back */
	/* rules lookup_expand made of one rule's elements: the k-th element's
	 * rule has elem k (1 first); 0 for a whole rule */
	int elem;
} RsRule;

typedef struct RsChain {
	const char *name;
	RsHook hook;		/* HOOK_NONE: regular chain */
	const char *type;	/* "filter" for base chains */
	int priority;
	RsVerdictKind policy;	/* base chains: VERDICT_ACCEPT or VERDICT_DROP */
	RsRule *rules;
	int n_rules;
	const char *comment;
} RsChain;

typedef enum {
	SETTYPE_IFNAME, SETTYPE_IPV4, SETTYPE_IPV6, SETTYPE_SERVICE,
	SETTYPE_UID,
} RsSetType;

typedef struct RsSet {
	const char *name;
	RsSetType type;
	bool interval;
	RsValue *elems;
	int n_elems;
	const char *comment;
} RsSet;

typedef struct RsTable {
	RsFamily family;
	const char *name;
	RsSet *sets;
	int n_sets;
	RsChain *chains;
	int n_chains;
} RsTable;

typedef struct Ruleset {
	Arena *arena;
	RsTable *tables;
	int n_tables;
} Ruleset;

const char *rs_family_name(RsFamily f);	/* "inet" */
const char *rs_hook_name(RsHook h);	/* "input" */
RsChain *rs_chain(const RsTable *t, const char *name);
RsSet *rs_set(const RsTable *t, const char *name);
/* How many rules rs holds, over all its tables and chains. */
int ruleset_rule_count(const Ruleset *rs);

/* lookup.c: nftables' lookup shape and back.
 * Merge each run of consecutive rules of a chain of one shape (the same
 * keys, terminal verdicts: accept, drop, reject) that differ in the values
 * of some matches, whose elements (the tuples of those values) are
 * pairwise disjoint (and, for one key with a range, not adjacent: nft
 * would join them), into one rule: a set of every element when the
 * verdicts are the same, else a verdict map (accept and drop only, no
 * counter); several keys make a concatenation. Each value carries its
 * rule's provenance (RsValue.prov). First-match order is kept: a packet
 * the merged rule matches matched exactly one of the rules, and gets its
 * verdict. A rule with the same matches as the rule before it (both
 * terminal) never decides and is left out. In rs's arena. */
void lookup_merge(Ruleset *rs);
/* rs with every lookup split into the rules it stands for: a verdict map
 * or a concatenation into one rule per element, a set whose values carry
 * provenance into one rule per provenance (comment, origin and elem from
 * it), the way the
 * prover, explain and diff name the policy line a packet met; rs itself
 * when it has none. The same decision as rs: a set's values are
 * alternatives of one verdict, a map's disjoint. */
const Ruleset *lookup_expand(const Ruleset *rs);

#endif
