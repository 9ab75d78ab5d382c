/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * prove.h: the prover, packets decided on a Ruleset IR with nftables
 * semantics, and the commands built on it.
 *
 *   classes*.c     the engine: packet equivalence classes (classes.h,
 *                  private to prove/)
 *   prove.c        packets, traces, the invariants and the trust table
 *   explain.c      `fpc explain`, `fpc query`
 *   diff.c         `fpc diff`
 *   import_json.c  `nft -j list ruleset` text -> Ruleset
 *   verify.c       `fpc verify`
 *
 * May use: back/, front/, common/. Used by: kernel/ and the driver.
 */
#ifndef FPC_PROVE_H
#define FPC_PROVE_H

#include "back.h"

/*
 * The prover decides packets on a Ruleset IR (all its tables together) with
 * nftables semantics and proves a Policy's invariants and trust table on it.
 * The same entry points serve the compile-time proof (prove_policy), `fpc
 * verify` (a `nft -j list ruleset` file), and `fpc verify-live` (the kernel's
 * tables read through libnftnl into a Ruleset). Nothing here keeps pointers
 * into its arguments after it returns; Trace points into the Ruleset. */

/* How a packet reaches the host. */
typedef enum {
	PKT_NET,	/* arrives from the network: prerouting, input */
	PKT_LOCAL,	/* sent by a local process: output, postrouting, then
			   (out lo) prerouting and input on lo (no socket
			   there); out another interface it leaves the host */
	PKT_FWD,	/* arrives from the network and is routed out another
			   interface: prerouting, forward, postrouting */
} PktPath;

/* One concrete packet. Unset names are "" (no interface). */
typedef struct Packet {
	PktPath path;
	const char *iifname;	/* PKT_NET, PKT_FWD: the interface it arrives on */
	const char *oifname;	/* PKT_LOCAL, PKT_FWD: the output interface,
				   "lo" for a local destination */
	AddrFamily fam;
	uint8_t saddr[16], daddr[16];	/* network byte order */
	int l4proto;		/* 6 tcp, 17 udp, ... */
	int sport, dport;
	long uid, gid;		/* PKT_LOCAL: the socket's owner (-1: none) */
	int ctstate;		/* one KEY_CTSTATE bit; 8 (new) for a new connection */
	const char *user, *group;	/* names of uid, gid for printing, or NULL */
} Packet;

/* Fill pkt with defaults: PKT_NET, IPv4, tcp, ct state new, no socket,
 * sport 40000, addresses 0. */
void packet_init(Packet *pkt);

/* Possible outcomes of a packet (a mask: both bits when an undecodable
 * KEY_UNKNOWN expression decides; it is assumed to match either way). */
enum { PROVE_ACCEPT = 1, PROVE_DROP = 2 };

enum { TRACE_MAX = 64 };

/* One rule (or chain policy) a packet's verdict went through. */
typedef struct TraceStep {
	const RsTable *table;
	const RsChain *chain;
	const RsRule *rule;	/* NULL: the chain's policy decided */
	int rule_index;		/* index in chain->rules, -1 for the policy */
	RsHook hook;
	RsVerdictKind verdict;	/* what this step did */
	const RsMatch *assumed;	/* a KEY_UNKNOWN match assumed to match, or NULL */
} TraceStep;

/* The rules that decided a packet, in the order they acted (jumps, the
 * accept of each base chain, the final drop). Caller-owned, no heap. */
typedef struct Trace {
	int outcome;		/* PROVE_ACCEPT or PROVE_DROP: this trace's end */
	TraceStep steps[TRACE_MAX];
	int n_steps;
	bool truncated;		/* more than TRACE_MAX steps */
} Trace;

/* Decide pkt on every inet/ip/ip6 table of rs. Returns the mask of possible
 * outcomes; tr (may be NULL) gets the trace of the worst one (accept if
 * accept is possible, for a "may" answer). */
int prove_packet(const Ruleset *rs, const Packet *pkt, Trace *tr);

/* Print pkt as one line ("tcp 10.0.0.2:40000 -> 10.0.0.1:8080 iif wg0 ...")
 * and tr as indented lines naming table, chain, rule, its policy line (from
 * the rule's origin, quoted from p's text when p is given) and any
 * undecodable expression. */
void prove_print_packet(const Packet *pkt, Buf *out);
/* One rule in nft syntax (named sets by name, protocol dependencies implicit). */
void prove_print_rule(const RsRule *r, Buf *out);
void prove_print_trace(const Policy *p, const Trace *tr, Buf *out);

/* What prove_report checks and how it words findings. */
typedef struct ProveOpts {
	const char *what;	/* "the emitted ruleset", "ruleset.json", "the kernel" */
	bool emitter;		/* rs was lowered from p: an unrealised cell is an
				   emitter bug */
	bool no_cells;		/* skip the trust table */
} ProveOpts;

/* Counts from one proof. */
typedef struct ProveStats {
	long classes;		/* equivalence classes evaluated */
	int invariants, invariants_failed;	/* clauses x services proved */
	int cells, cells_failed;	/* allow/deny cells of network services */
	int unknown;		/* distinct KEY_UNKNOWN expressions in rs */
	int rules;		/* rules in rs */
} ProveStats;

/* Prove p's invariants and check every allow/deny cell of a network service
 * is realised by rs (all the tables a host holds). Findings, each with a
 * counterexample packet, its trace and policy lines, and the undecodable
 * expressions rs holds, are appended to out as text; st gets the counts.
 * Returns 0 when all holds, 1 when an invariant fails (or cannot be proved
 * because of undecodable expressions), 3 when the invariants hold but a cell
 * is not realised. Used by verify and verify-live as is. */
int prove_report(const Policy *p, const Ruleset *rs, const ProveOpts *o,
		 Buf *out, ProveStats *st);

/* prove.c: prove the invariants and the trust table on rs. Problems go to d
 * (with counterexample packets); a one-line summary is appended to report.
 * Returns the number of failed proofs. */
int prove_policy(const Policy *p, const Ruleset *rs, Diag *d, Buf *report);

/* Does the mount list the back end emits (emit_pb_grant: what fp-apid
 * mounts into each job container) give src's containers unix service v's
 * socket? 1 yes (*got: the first privilege that gets it), 0 no, -1 src is
 * not the job containers' source: no artifact decides it (the socket's
 * owner and mode on the host do). Never read from the trust table. */
int prove_socket_mounted(const Policy *p, const Source *src, const Service *v,
			 const Privilege **got);

/* prove_socket_mounted's answer as a phrase (in a). */
const char *prove_socket_why(Arena *a, const Policy *p, const Source *src,
			     const Service *v, int mounted, const Privilege *got);

/* The invariants prove_policy proves: the policy's, then the built-in one
 * (builtin_no_spawn) when the policy has a container profile and an "api"
 * tcp service. Sets *out (allocated in ar); returns how many. */
int prove_all_invariants(Arena *ar, const Policy *p, const Invariant **out);

/* import_json.c: a Ruleset from `nft -j list ruleset` text (all tables, in
 * arena a). NULL on malformed input, with one line of reason in err.
 * Expressions it does not decode become KEY_UNKNOWN matches. */
Ruleset *import_nft_json(Arena *a, const char *text, size_t len, Buf *err);

/* verify.c: read and import a `nft -j` file ("-": stdin) into a; NULL with
 * the reason printed to stderr. */
Ruleset *verify_load_ruleset(Arena *a, const char *path);

/* Commands (argv[0] is the command's name); each returns its exit status
 * (0 ok, 1 proof failure or difference, 2 usage error). */
int cmd_explain(int argc, char **argv);
int cmd_query(int argc, char **argv);
int cmd_diff(int argc, char **argv);

/* diff.c: the canonical one-line descriptions `fpc diff` compares, for
 * other views of a policy: a source's vias ("via "wg0" from 10.0.0.2; via
 * user flashpods (uid 990)") and a service ("tcp 8080 on 10.0.0.1"). */
void describe_source(const Source *s, Buf *out);
void describe_service(const Service *v, Buf *out);
int cmd_verify(int argc, char **argv);

#endif
