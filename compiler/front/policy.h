/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * policy.h: the Policy IR, what sema makes of a checked policy file.
 *
 * Every name is resolved to a pointer, every value is checked, and the
 * trust table is a full matrix. All of it lives in the compilation's arena
 * (Policy.arena) and is freed by policy_free().
 *
 * Order: sources are kept in trust-table row order (which is rule order:
 * a "-" cell falls through to the rows below), services in trust-table
 * column order. Identities, privileges, mounts and invariants are in
 * declaration order.
 */
#ifndef FPC_POLICY_H
#define FPC_POLICY_H

#include "base.h"

typedef enum { FAM_IP4 = 4, FAM_IP6 = 6 } AddrFamily;

/* An address prefix; host bits are zero (sema checks). len 32/128 = host. */
typedef struct Prefix {
	AddrFamily fam;
	uint8_t addr[16];	/* network byte order; IPv4 uses the first 4 */
	int len;
	Loc loc;
} Prefix;

/* An interface pattern: "wg0" exact, "podman*" -> name "podman", wildcard. */
typedef struct IfPattern {
	const char *name;
	bool wildcard;
	Loc loc;
} IfPattern;

typedef enum {
	VIA_NET,	/* arrives on interfaces and/or from addresses (input hook) */
	VIA_USER,	/* sent by a local socket owned by a user (output hook) */
	VIA_ANY,	/* every packet: the catch-all row */
} ViaKind;

/* One `via` clause; a source is the union of its clauses. */
typedef struct Via {
	ViaKind kind;
	Loc loc;
	/* VIA_NET: n_ifaces == 0 means any interface, n_addrs == 0 any address;
	 * at least one of them is non-empty. */
	IfPattern *ifaces;
	int n_ifaces;
	Prefix *addrs;
	int n_addrs;
	/* VIA_USER: a user name (resolved when the ruleset is loaded) and the
	 * uid pinned for it by the container profile, or -1. */
	const char *user;
	long uid;
} Via;

typedef struct Source {
	const char *name;
	Loc loc;	/* the `source` declaration */
	Loc row_loc;	/* its row in the trust table */
	int index;	/* row index */
	Via *vias;
	int n_vias;
	bool catch_all;	/* has a VIA_ANY clause (then it is its only clause) */
} Source;

typedef enum { SVC_TCP, SVC_UDP, SVC_UNIX, SVC_EGRESS } ServiceKind;

typedef struct Service {
	const char *name;
	Loc loc;
	int index;	/* column index */
	ServiceKind kind;
	/* SVC_TCP, SVC_UDP: destination ports lo..hi (lo == hi for one port),
	 * and the address the daemon listens on (has_listen; firewall rules do
	 * not match on it). */
	int port_lo, port_hi;
	bool has_listen;
	Prefix listen;
	/* SVC_UNIX: socket path, owner, group, mode. */
	const char *path, *owner, *group;
	int mode;
	/* SVC_EGRESS: destinations (none = everywhere), and the protocol
	 * (eproto 6 tcp, 17 udp, with ports port_lo..port_hi; 0: any
	 * protocol and port). */
	Prefix *dests;
	int n_dests;
	int eproto;
} Service;

/* A network service is one that nftables enforces. */
static inline bool service_is_network(const Service *s)
{
	return s->kind == SVC_TCP || s->kind == SVC_UDP;
}

/* Services the ruleset decides (and the prover proves on it): network
 * services on the input hook, egress ones on the forward and output hooks. */
static inline bool service_on_ruleset(const Service *s)
{
	return s->kind != SVC_UNIX;
}

typedef enum { CELL_NONE, CELL_ALLOW, CELL_DENY } CellKind;

typedef struct Cell {
	CellKind kind;
	Loc loc;	/* the cell's text in the trust table */
} Cell;

/* `SOURCE cannot reach S1, S2;` or `SOURCE can reach ...;` */
typedef struct InvClause {
	Source *source;
	Service **services;
	int n_services;
	bool can;
	Loc loc;
} InvClause;

typedef struct Invariant {
	const char *name, *text;
	Loc loc;
	InvClause *clauses;
	int n_clauses;
} Invariant;

typedef enum { MODE_RO, MODE_RW, MODE_UNSET } MountMode;

typedef struct Mount {
	const char *name;
	Loc loc;
	const char *host;	/* template with placeholders, absolute */
	const char *target;	/* path in the container, absolute */
	MountMode mode;		/* MODE_UNSET: each privilege must say */
	struct Service *service;	/* `mount x service y`: the socket */
} Mount;

typedef struct Range {
	long min, max, def;
	bool has_def;
	Loc loc;
} Range;

typedef struct MountGrant {
	Mount *mount;
	MountMode mode;
	Loc loc;
} MountGrant;

typedef struct Privilege {
	const char *name;
	Loc loc;
	const char **secrets;	/* environment-style names, declaration order */
	int n_secrets;
	MountGrant *mounts;	/* modes this privilege sets for MODE_UNSET mounts */
	int n_mounts;
	Range cpus;		/* whole CPUs */
	Range memory_gb;	/* GiB */
	Range timeout_min;	/* minutes */
} Privilege;

typedef struct Identity {
	const char *name;
	Loc loc;
	const char *spiffe_id;
	const char **selectors;
	int n_selectors;
	Privilege *privilege;
} Identity;

typedef struct Label {
	const char *key, *value;	/* value may hold placeholders */
	Loc loc;
} Label;

typedef struct Container {
	Loc loc;
	const char *engine;	/* "podman" */
	bool rootless;
	const char *user;	/* host user the containers run as */
	long uid;		/* pinned uid of user, or -1 */
	const char *userns;	/* "keep-id" */
	const char *network;	/* "slirp4netns", "pasta", ... */
	const char *image;	/* default image */
	const char **cap_drop;
	int n_cap_drop;
	const char **security_opts;
	int n_security_opts;
	Label *labels;
	int n_labels;
	struct Source *source;	/* the trust-table row the jobs are */
} Container;

/* A WireGuard peer: the source whose packets it sends, its public key, and
 * the addresses it may send from (its AllowedIPs: exactly that source's
 * addresses on the interface, sema proves). */
typedef struct WgPeer {
	struct Source *source;
	const char *key;	/* 44 characters of base64, 32 bytes */
	bool placeholder;	/* the all-zero key: the operator still has to
				 * put the real one in (fpc warns) */
	Prefix *allowed;	/* sorted, none overlapping another peer's */
	int n_allowed;
	const char *endpoint;	/* "HOST:PORT", or NULL */
	int keepalive;		/* seconds; 0: off */
	Loc loc, key_loc;
} WgPeer;

/* `wireguard "IFACE" { ... }`: a WireGuard interface and its peers. */
typedef struct WgInterface {
	const char *name;	/* exact interface name */
	Loc loc;
	struct Service *listen;	/* the udp service it listens on */
	WgPeer *peers;		/* declaration order */
	int n_peers;
} WgInterface;

/* `rsyncd { ... }`: the upload daemon's one module. service == NULL: the
 * policy has no rsyncd block. */
typedef struct Rsyncd {
	Loc loc;
	struct Service *service;	/* the tcp service rsyncd is (port, `on`) */
	const char *module;
	Mount *mount;		/* the mount whose {upload_id} it fills */
	const char *path;	/* that mount's host path above /{upload_id} */
	int max_connections;	/* 0: no limit */
	Prefix *hosts_allow;	/* the addresses of the rows allowing service */
	int n_hosts_allow;
} Rsyncd;

typedef struct Policy {
	Arena *arena;
	const char *file;	/* as given on the command line */
	const char *text;	/* the source, for hashing and diagnostics */
	size_t text_len;
	const char *name;	/* `policy NAME` */
	Loc loc;
	const char *table_family;	/* "inet" */
	const char *table_name;		/* "flashpods" */
	/* the directories mount host paths must be below: `mount roots`, or
	 * /var/lib/NAME, /tmp/NAME, /run/NAME and /srv (policy_default_roots) */
	const char **mount_roots;
	int n_mount_roots;
	const char *trust_domain;
	Source **sources;
	int n_sources;
	Service **services;
	int n_services;
	Cell *cells;		/* n_sources * n_services, row-major */
	Loc table_loc;
	Invariant *invariants;
	int n_invariants;
	Identity *identities;
	int n_identities;
	Privilege *privileges;
	int n_privileges;
	Mount *mounts;
	int n_mounts;
	Container container;
	WgInterface *wg;	/* the wireguard block (n_wg is 0 or 1) */
	int n_wg;
	Rsyncd rsyncd;
	const char *spire_parent;	/* SPIRE registration entries' parent ID,
					 * or NULL */
} Policy;

static inline Cell *policy_cell(const Policy *p, int src, int svc)
{
	return &p->cells[src * p->n_services + svc];
}

Source *policy_source(const Policy *p, const char *name);
Service *policy_service(const Policy *p, const char *name);
Privilege *policy_privilege(const Policy *p, const char *name);
/* The order in which the egress cells of one row decide (lower.c emits
 * them so, prove.c proves them so): the more specific first, a < 0 when a
 * comes before b. A service whose packets are a subset of another's
 * (fewer destinations, a protocol, fewer ports) always comes first; the
 * rest by the number of destination addresses, protocol and ports, then
 * column order. */
int policy_egress_cmp(const Service *a, const Service *b);

/* The only placeholders templates may hold. */
extern const char *const policy_placeholders[3];

#endif
