/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * classes.h: packet equivalence classes and their evaluation on a Ruleset
 * (the engine under prove.c, explain.c and diff.c).
 *
 * A Space collects the atoms that occur in rulesets, policies and packets
 * (interface names and prefixes, address ranges, protocols, port ranges,
 * uids, gids, ct states), then cuts each packet field into the elementary
 * intervals those atoms make: the classes. A Box is a set of packets as a
 * set of class intervals per field; evaluation splits a box only where a
 * rule cuts it, so each leaf box is one equivalence class of packets and is
 * evaluated once. Packets are never enumerated.
 *
 * Ownership: everything (sets, compiled rulesets, representative names)
 * lives in the Space and is freed by space_free().
 */
#ifndef FPC_CLASSES_H
#define FPC_CLASSES_H

#include "prove.h"

/* The fields of a packet the prover distinguishes. */
typedef enum {
	D_IIF, D_OIF, D_NFPROTO, D_L4PROTO, D_SADDR, D_DADDR, D_SPORT,
	D_DPORT, D_SKUID, D_SKGID, D_CTSTATE, D_N
} Dim;

typedef struct ISet ISet;	/* a sorted set of class intervals, immutable */
typedef struct Space Space;
typedef struct CRuleset CRuleset;

/* A set of packets: one class set per field, and how they reach the host.
 * Boxes are values; the sets they point to are shared and never change. */
typedef struct Box {
	const ISet *d[D_N];
	PktPath path;
} Box;

/* A trace as a list from the last step back to the first. */
typedef struct TNode {
	TraceStep s;
	const struct TNode *prev;
} TNode;

Space *space_new(void);
void space_free(Space *sp);
/* Register the atoms of a ruleset, a policy (its vias, services and the
 * uids it pins) or a packet. Only before space_seal(). */
void space_add_ruleset(Space *sp, const Ruleset *rs);
void space_add_policy(Space *sp, const Policy *p);
void space_add_packet(Space *sp, const Packet *pkt);
/* Cut every field into classes; afterwards sets and rulesets can be made. */
void space_seal(Space *sp);
/* Compile rs (registered before sealing) for evaluation. */
CRuleset *space_compile(Space *sp, const Ruleset *rs);
/* The uid a user name stands for: pinned by a policy, else the host's
 * passwd, else a fixed placeholder uid above 2^31 (the name is kept for
 * printing). */
long space_uid_of(Space *sp, const char *user);

/* Class sets of one field (all in the Space): */
const ISet *sp_all(Space *sp, Dim d);	/* every value a real packet can have */
const ISet *sp_int(Space *sp, Dim d, uint64_t lo, uint64_t hi);
const ISet *sp_family(Space *sp, Dim d, AddrFamily fam);	/* D_SADDR/D_DADDR */
const ISet *sp_prefixes(Space *sp, Dim d, const Prefix *pfx, int n,
			AddrFamily fam);	/* those of family fam only */
const ISet *sp_addr(Space *sp, Dim d, AddrFamily fam, const uint8_t *addr);
const ISet *sp_ifpatterns(Space *sp, Dim d, const IfPattern *ifs, int n);
const ISet *sp_ifname(Space *sp, Dim d, const char *name);
const ISet *sp_absent(Space *sp, Dim d);	/* D_SKUID/D_SKGID: no socket */
/* D_IIF/D_OIF: every interface name but lo (and not "", no interface). */
const ISet *sp_ifs_but_lo(Space *sp, Dim d);
/* D_SKUID/D_SKGID: every uid or gid, and no socket. */
const ISet *sp_any_owner(Space *sp, Dim d);
bool iset_empty(const ISet *s);
/* The classes in both a and b. */
const ISet *iset_meet(Space *sp, const ISet *a, const ISet *b);

/* The box of one packet. */
void space_box_of_packet(Space *sp, const Packet *pkt, Box *b);
/* A representative packet of b (the lowest class of every field); its
 * names point into the Space. */
void space_packet_of_box(Space *sp, const Box *b, Packet *pkt);

/* Called for each class of a box with its outcome (PROVE_ACCEPT or
 * PROVE_DROP), the trace that led there, and how many undecodable
 * expressions were assumed to match or not on the way. Return nonzero to
 * stop the evaluation. */
typedef int (*LeafFn)(void *ctx, const Box *b, int outcome,
		      const TNode *trace, int assumed);

/* Evaluate every packet of b that is in none of the boxes excl[0..n_excl)
 * on crs; call fn once per class and outcome. Returns the number of
 * classes evaluated. fn may call space_eval again (nested). */
long space_eval(Space *sp, const CRuleset *crs, const Box *b,
		const Box *excl, int n_excl, LeafFn fn, void *ctx);

/* An index of the boxes bx[0..n) (in the Space; bx must outlive it), for
 * evaluations that exclude many boxes. */
typedef struct BoxIndex BoxIndex;
const BoxIndex *space_index_boxes(Space *sp, const Box *bx, int n);
/* space_eval excluding excl[0..n_excl), where ix indexes excl[0..m) for
 * some m >= n_excl (a prefix of an indexed list is fine) or is NULL, and
 * excluding extra[0..n_extra) too (a few boxes, not indexed). */
long space_eval_ix(Space *sp, const CRuleset *crs, const Box *b,
		   const Box *excl, int n_excl, const BoxIndex *ix,
		   const Box *extra, int n_extra, LeafFn fn, void *ctx);

/* Copy a trace list into tr (first step first). */
void trace_from_nodes(const TNode *last, int outcome, Trace *tr);

/* prove.c: the packets of a policy's sources, as boxes. */
typedef VEC(Box) Boxes;
typedef VEC(const Via *) Vias;

/* Does interface name match pattern pat ("wg*" matches "wg0")? */
bool if_pattern_match(const IfPattern *pat, const char *name);
/* Append the boxes of source s's packets to network service v (one per via
 * clause, address family and path; vias[i] is the clause of box i). */
void prove_source_boxes(Space *sp, Arena *a, const Source *s, const Service *v,
			Boxes *out, Vias *vias);
/* Append the boxes of every row above s with a cell in column v (the
 * packets those rows claim first); returns how many rows. */
int prove_rows_above(Space *sp, Arena *a, const Policy *p, const Source *s,
		     const Service *v, Boxes *out);
/* A prefix as policy text: "10.0.0.2" (a host), "10.0.0.0/24". */
void prove_print_prefix(const Prefix *p, Buf *out);
/* A service's kind, ports or path and listen address as policy text
 * ("tcp 8080 on 10.0.0.1"); with dests, an egress service's " to A, B". */
void prove_print_service(const Service *v, bool dests, Buf *out);
/* One trace step as an indented line (and its policy origin). */
void prove_print_step(const Policy *p, const TraceStep *s, const char *ind,
		      Buf *out);

#endif
