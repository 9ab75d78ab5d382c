/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * back.h: the compiler's back ends, Policy -> Ruleset IR -> artifacts.
 * Exports in pipeline order; the Ruleset IR's types are in ruleset.h,
 * which this header includes.
 *
 *   lower.c      Policy -> Ruleset (and the ruleset.h helpers)
 *   lookup.c     runs of rules -> sets, verdict maps, concatenations, and
 *                back (declared in ruleset.h: the prover uses them too)
 *   emit_nft.c   Ruleset -> nft text (flashpods.nft, flashpods.body.nft)
 *   emit_pb.c    Policy -> the daemons' bundle (policy.pb)
 *   emit_json.c  Policy -> mounts.json, privileges.json
 *   emit_nix.c   Policy -> nixos.json (what nix/module.nix reads)
 *   dump.c       a loaded bundle -> JSON (`fpc dump`)
 *   artifacts.c  the table of the files a compile writes
 *
 * May use: front/, common/, runtime/lib/ (the bundle loader checks what
 * emit_pb wrote). Used by: prove/, kernel/ and the driver (compile.c).
 *
 * Ownership: lowering allocates in the Policy's arena; emitters append to
 * a caller-owned Buf; strings they return live in the given arena. Every
 * `*_artifact` function has the driver's Artifact signature: append the
 * file to out and return 0, or print why it cannot be and return -1.
 */
#ifndef FPC_BACK_H
#define FPC_BACK_H

#include "front.h"
#include "ruleset.h"

/* lower.c: the Ruleset IR the policy compiles to (in p's arena). */
Ruleset *lower(const Policy *p);

/* emit_nft.c: the ruleset as nft text (`nft -f` input), deterministic. */
void emit_nft(const Ruleset *rs, Buf *out);
int emit_nft_artifact(const Policy *p, const Ruleset *rs, Buf *out);
/* the lines strictly between `table inet NAME {` and its `}` in emit_nft's
 * output, byte for byte (of the ruleset's first table): the content NixOS
 * puts in networking.nftables.tables.NAME.content. */
void emit_nft_body(const Ruleset *rs, Buf *out);
int emit_nft_body_artifact(const Policy *p, const Ruleset *rs, Buf *out);
/* nft's value name of IP protocol p for `meta l4proto` ("tcp"), or NULL */
const char *emit_nft_l4proto_name(uint64_t p);
/* an address of family fam as nft prints it ("10.0.0.1", "fd00::1") */
void emit_nft_addr(AddrFamily fam, const uint8_t *a, Buf *out);
/* one value as nft prints it for key (key decides how ints read: ct state
 * bits, protocol names); user names quoted ("list" is a keyword) */
void emit_nft_value(RsKey key, const RsValue *v, Buf *out);
/* the nft expression matching key ("tcp dport"): v6 picks ip6 for addresses,
 * l4 ("tcp", "udp", else "th") qualifies ports; NULL for KEY_UNKNOWN */
const char *emit_nft_key_name(RsKey key, bool v6, const char *l4);
/* the verdict's keyword ("accept"); NULL for continue */
const char *emit_nft_verdict_name(RsVerdictKind v);

/* emit_pb.c: the bundle of p (proto/policy.proto), packed (deterministic). */
void emit_pb(const Policy *p, Buf *out);
/* policy.pb, checked with the daemons' loader first: a bundle it refuses
 * is reported and fpc exits 1 */
int emit_pb_artifact(const Policy *p, const Ruleset *rs, Buf *out);
/* "10.0.0.2" (a host), "10.0.0.0/24", "fd00::/64": a prefix as text */
char *emit_pb_prefix(Arena *a, const Prefix *p);
/* the mode privilege pv's jobs get mount m in: the mount's own mode, else
 * the privilege's `mount NAME ro|rw`, else MODE_UNSET (not mounted) */
MountMode emit_pb_grant(const Privilege *pv, const Mount *m);
/* the SHA-256 of p's source text, 64 lower-case hex digits and a NUL */
void emit_pb_sha256(const Policy *p, char hex[65]);

/* emit_json.c: mounts.json and privileges.json (sorted keys, 2-space
 * indent, trailing newline). */
void emit_json_mounts(const Policy *p, Buf *out);
void emit_json_privileges(const Policy *p, Buf *out);
int emit_json_mounts_artifact(const Policy *p, const Ruleset *rs, Buf *out);
int emit_json_privileges_artifact(const Policy *p, const Ruleset *rs, Buf *out);
/* append j pretty-printed (sorted keys, 2-space indent) and a newline;
 * frees j */
struct json_t;
void emit_json_out(struct json_t *j, Buf *out);

/* emit_nix.c: nixos.json, what nix/module.nix reads from the compiled
 * policy (table family and name, firewall ports per interface, the
 * container user and its pinned uid, sockets, tmpfiles directories,
 * daemon paths). */
int emit_nix_artifact(const Policy *p, const Ruleset *rs, Buf *out);

/* emit_layers.c: the layers beside the firewall. wireguard.conf (`wg
 * setconf`, no private key) and wireguard.json (the peers for NixOS's
 * networking.wireguard), rsyncd.conf (the upload module and its
 * allowlist) and rsyncd.json (the same for services.rsyncd),
 * spire-entries.json (`spire-server entry create -data`). */
int emit_wg_conf_artifact(const Policy *p, const Ruleset *rs, Buf *out);
int emit_wg_json_artifact(const Policy *p, const Ruleset *rs, Buf *out);
int emit_rsyncd_artifact(const Policy *p, const Ruleset *rs, Buf *out);
int emit_rsyncd_json_artifact(const Policy *p, const Ruleset *rs, Buf *out);
int emit_spire_artifact(const Policy *p, const Ruleset *rs, Buf *out);

/* artifacts.c: the files `fpc POLICY -o DIR` writes, in write order (the
 * driver writes them, `fpc diff` compares them, `fpc report` lists them). */
typedef struct Artifact {
	const char *name;	/* file name inside the output directory */
	const char *what;	/* what it is for, one line */
	/* append the file to out; 0, or -1 after printing why it cannot be */
	int (*emit)(const Policy *p, const Ruleset *rs, Buf *out);
} Artifact;
extern const Artifact artifacts[];
extern const int n_artifacts;

/* dump.c: a loaded bundle as JSON (sorted keys, trailing newline);
 * `fpc dump BUNDLE` (exit 1 if the loader refuses it). */
typedef struct FpBundle FpBundle;
void dump_bundle(const FpBundle *b, Buf *out);
int cmd_dump(int argc, char **argv);

#endif
