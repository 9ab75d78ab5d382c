/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fpc.h: the exports of each pipeline stage, one heading per file, in the
 * order main.c drives them:
 *
 *   parse -> sema -> lower -> prove -> emit_* -> write artifacts
 *
 * Ownership: stages allocate in the Policy's / Ruleset's arena; emitters
 * append to a caller-owned Buf.
 */
#ifndef FPC_H
#define FPC_H

#include "base.h"
#include "diag.h"
#include "policy.h"
#include "ruleset.h"

typedef struct Ast Ast;

/* grammar/parser.y: parse text into an AST; syntax errors go to d.
 * Returns NULL only when nothing could be parsed at all. */
Ast *parse_policy(Arena *a, Diag *d, const char *file, const char *text,
		  size_t len);

/* sema.c: check an AST and resolve it into a Policy (NULL if any error). */
Policy *sema(Arena *a, Diag *d, const Ast *ast, const char *file,
	     const char *text, size_t len);

/* fmt.c: print the AST normalised (aligned trust table) to out. */
void fmt_policy(const Ast *ast, const char *text, Buf *out);

/* load.c: read path, parse and check it; diagnostics are printed to stderr
 * before it returns, NULL on any error. The Policy owns a fresh arena (policy_free). */
Policy *policy_load(const char *path, Diag *d);
/* read and parse only (for fmt): the AST and the text (*text, *len) live in
 * arena a; the text is registered with d for quoting. */
Ast *policy_parse_file(const char *path, Arena *a, Diag *d, const char **text,
		       size_t *len);
void policy_free(Policy *p);

/* lower.c: the Ruleset IR the policy compiles to (in p's arena). */
Ruleset *lower(const Policy *p);

/* emit_nft.c: the ruleset as nft text (`nft -f` input), deterministic. */
void emit_nft(const Ruleset *rs, Buf *out);
/* the same, as an Artifact emitter */
int emit_nft_artifact(const Policy *p, const Ruleset *rs, Buf *out);

/* prove.c: prove the invariants and the trust table on rs. Problems go to d
 * (with counterexample packets); a one-line summary is appended to report.
 * Returns the number of failed proofs. */
int prove_policy(const Policy *p, const Ruleset *rs, Diag *d, Buf *report);

/* compile.c: the files `fpc POLICY -o DIR` writes, in write order. */
typedef struct Artifact {
	const char *name;	/* file name inside the output directory */
	/* append the file to out; 0, or -1 after printing why it cannot be */
	int (*emit)(const Policy *p, const Ruleset *rs, Buf *out);
} Artifact;
extern const Artifact artifacts[];
extern const int n_artifacts;

/* Commands: argv[0] is the command name; return the exit status
 * (0 ok, 1 user error / proof failure / difference, 2 usage error). */
int cmd_compile(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_fmt(int argc, char **argv);

/* ---- prove.c, explain.c, diff.c, import_json.c, verify.c (issue 3) ----
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
			   prerouting and input on lo (no socket there) */
} PktPath;

/* One concrete packet. Unset names are "" (no interface). */
typedef struct Packet {
	PktPath path;
	const char *iifname;	/* PKT_NET: the interface it arrives on */
	const char *oifname;	/* PKT_LOCAL: the output interface, "lo" for a
				   local destination */
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

/* import_json.c: a Ruleset from `nft -j list ruleset` text (all tables, in
 * arena a). NULL on malformed input, with one line of reason in err.
 * Expressions it does not decode become KEY_UNKNOWN matches. */
Ruleset *import_nft_json(Arena *a, const char *text, size_t len, Buf *err);

/* verify.c: read and import a `nft -j` file ("-": stdin) into a; NULL with
 * the reason printed to stderr. */
Ruleset *verify_load_ruleset(Arena *a, const char *path);

int cmd_explain(int argc, char **argv);
int cmd_query(int argc, char **argv);
int cmd_diff(int argc, char **argv);
int cmd_verify(int argc, char **argv);

/* ---- emit_nix.c (issue 8) ----
 * nixos.json: what nix/module.nix reads from the compiled policy (table
 * family and name, firewall ports per interface, the container user and its
 * pinned uid, sockets, tmpfiles directories, daemon paths). Appends to out. */
int emit_nix_artifact(const Policy *p, const Ruleset *rs, Buf *out);

/* ---- lower.c, emit_nft.c (issue 2) ----
 * lower.c also defines the ruleset.h helpers (rs_family_name, rs_hook_name,
 * rs_chain, rs_set). */

/* emit_nft.c: the lines strictly between `table inet NAME {` and its `}`
 * in emit_nft's output, byte for byte (of the ruleset's first table): the
 * content NixOS puts in networking.nftables.tables.NAME.content. */
void emit_nft_body(const Ruleset *rs, Buf *out);
/* the same, as the Artifact flashpods.body.nft */
int emit_nft_body_artifact(const Policy *p, const Ruleset *rs, Buf *out);
/* nft's value name of IP protocol p for `meta l4proto` ("tcp"), or NULL */
const char *emit_nft_l4proto_name(uint64_t p);
/* an address of family fam as nft prints it ("10.0.0.1", "fd00::1") */
void emit_nft_addr(AddrFamily fam, const uint8_t *a, Buf *out);
/* one value as nft prints it for key (key decides how ints read: ct state
 * bits, protocol names); users unquoted */
void emit_nft_value(RsKey key, const RsValue *v, Buf *out);
/* the nft expression matching key ("tcp dport"): v6 picks ip6 for addresses,
 * l4 ("tcp", "udp", else "th") qualifies ports; NULL for KEY_UNKNOWN */
const char *emit_nft_key_name(RsKey key, bool v6, const char *l4);
/* the verdict's keyword ("accept"); NULL for continue */
const char *emit_nft_verdict_name(RsVerdictKind v);

/* ---- emit_pb.c, emit_json.c, dump.c (issue 4) ----
 * policy.pb (proto/policy.proto), mounts.json and privileges.json; the
 * bundle's loader and its look-ups are runtime/lib/bundle.h. Emitters
 * append to out; strings they return live in the given arena. */
typedef struct FpBundle FpBundle;

/* emit_pb.c: the bundle of p, packed (deterministic bytes). */
void emit_pb(const Policy *p, Buf *out);
/* the same as the Artifact policy.pb, checked with the daemons' loader
 * first: a bundle it refuses is reported and fpc exits 1 */
int emit_pb_artifact(const Policy *p, const Ruleset *rs, Buf *out);
/* "10.0.0.2" (a host), "10.0.0.0/24", "fd00::/64": a prefix as text */
char *emit_pb_prefix(Arena *a, const Prefix *p);
/* the mode privilege pv's jobs get mount m in: the mount's own mode, else
 * the privilege's `mount NAME ro|rw`, else MODE_UNSET (not mounted) */
MountMode emit_pb_grant(const Privilege *pv, const Mount *m);
/* the SHA-256 of p's source text, 64 lower-case hex digits and a NUL */
void emit_pb_sha256(const Policy *p, char hex[65]);

/* emit_json.c: mounts.json and privileges.json (sorted keys, 2-space
 * indent, trailing newline), and the same as Artifacts. */
void emit_json_mounts(const Policy *p, Buf *out);
void emit_json_privileges(const Policy *p, Buf *out);
int emit_json_mounts_artifact(const Policy *p, const Ruleset *rs, Buf *out);
int emit_json_privileges_artifact(const Policy *p, const Ruleset *rs, Buf *out);
/* append j pretty-printed (sorted keys, 2-space indent) and a newline;
 * frees j (dump.c uses it too) */
struct json_t;
void emit_json_out(struct json_t *j, Buf *out);

/* dump.c: a loaded bundle as JSON (sorted keys, trailing newline);
 * `fpc dump BUNDLE` (exit 1 if the loader refuses it). */
void dump_bundle(const FpBundle *b, Buf *out);
int cmd_dump(int argc, char **argv);

/* ---- apply.c, verify_live.c, nl_write.c, nl_read.c (issue 7) ----
 * `fpc apply` sends the Ruleset IR to the kernel as one netlink batch
 * (libnftnl); `fpc verify-live` reads every table back (nl.h) and runs
 * prove_report on it plus a drift check against lower(). Both need
 * CAP_NET_ADMIN; --netns NAME enters /run/netns/NAME first. */
int cmd_apply(int argc, char **argv);
int cmd_verify_live(int argc, char **argv);

#endif
