/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * bundle.h: the policy bundle (policy.pb, written by fpc) as the daemons see
 * it: loaded, validated in full, then immutable. Both fp-apid and fp-tokend
 * take every path, port, label, identity and privilege from here and restate
 * none of them.
 *
 * Ownership: caller frees FpBundle (bundle_free), argv (bundle_argv_free); the rest is the bundle's.
 *
 * Errors: a loader or argv error is one line in the caller's buffer that
 * names the field, e.g.
 *   policy.pb: identities[1].spiffe_id: "spiffe://evil.org/x" is outside
 *   trust domain "flashpods.local"
 * On error nothing is returned: no partial bundle, no partial argv.
 *
 * Order: every array keeps the order of the policy (sources in trust-table
 * row order, services in column order, the rest in declaration order),
 * except bundle_secrets(), which is sorted by name (byte order).
 *
 * Thread safety: a loaded bundle is never modified, so any number of
 * threads may read it at once.
 */
#ifndef FP_BUNDLE_H
#define FP_BUNDLE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

/* The bundle format this loader reads (Bundle.format_version). */
#define BUNDLE_FORMAT_VERSION 1

/* A buffer this large holds any error message of this API. */
#define BUNDLE_ERR_MAX 512
/* The largest bundle file loaded, in bytes (bundle_load_file). */
#define BUNDLE_FILE_MAX (16 * 1024 * 1024)

/* The largest single argv element bundle_job_argv() accepts (the kernel's
 * MAX_ARG_STRLEN is 128 KiB; this leaves room for "NAME="). */
#define BUNDLE_ARG_MAX (128 * 1024 - 64)

typedef struct FpBundle FpBundle;

typedef enum { FP_MODE_RO, FP_MODE_RW } FpMode;

typedef enum { FP_VIA_NET, FP_VIA_USER, FP_VIA_ANY } FpViaKind;

/* One `via` clause of a source. */
typedef struct FpVia {
	FpViaKind kind;
	/* FP_VIA_NET: interface patterns as written ("wg0", "podman*") and
	 * address prefixes as text ("10.0.0.2", "fd00::/64"); either list may
	 * be empty (any interface / any address), not both. */
	const char *const *ifaces;
	int n_ifaces;
	const char *const *addrs;
	int n_addrs;
	/* FP_VIA_USER: the user name and its pinned uid (-1: not pinned). */
	const char *user;
	long uid;
} FpVia;

/* A trust-table row. */
typedef struct FpSource {
	const char *name;
	const FpVia *vias;
	int n_vias;
	bool catch_all;		/* `via any`: the last word on every service */
} FpSource;

typedef enum { FP_SVC_TCP, FP_SVC_UDP, FP_SVC_UNIX, FP_SVC_EGRESS } FpServiceKind;

/* A trust-table column. */
typedef struct FpService {
	const char *name;
	FpServiceKind kind;
	/* TCP/UDP: ports lo..hi (lo == hi: one port), and the address the
	 * daemon listens on as text ("10.0.0.1"), or NULL: any. */
	int port_lo, port_hi;
	const char *listen;
	/* UNIX: absolute socket path, owner, group, mode (<= 07777). */
	const char *path, *owner, *group;
	int mode;
	/* EGRESS: destination prefixes as text (none: everywhere). */
	const char *const *dests;
	int n_dests;
} FpService;

typedef enum { FP_CELL_NONE, FP_CELL_ALLOW, FP_CELL_DENY } FpCell;

/* A secret: its policy name and its key in secrets.json (lower(name)). */
typedef struct FpSecret {
	const char *name;	/* "ANTHROPIC_API_KEY" */
	const char *key;	/* "anthropic_api_key" */
} FpSecret;

/* A mount as declared. host may hold placeholders ({job_id}, {upload_id},
 * {privilege}); target never does. Both are absolute, without "..", ':'
 * or ','. A service mount has host == target == the service's socket. */
typedef struct FpMount {
	const char *name;
	const char *host;
	const char *target;
	bool has_mode;		/* false: each privilege sets the mode */
	FpMode mode;
	const char *service;	/* `mount NAME service SVC`: SVC, else NULL */
} FpMount;

/* A mount a privilege's jobs get, with the mode they get it in. */
typedef struct FpGrant {
	const FpMount *mount;
	FpMode mode;
} FpGrant;

/* An inclusive range and the default used when a job does not ask. */
typedef struct FpRange {
	long min, max, def;
} FpRange;

typedef struct FpPrivilege {
	const char *name;
	const FpSecret *const *secrets;	/* declaration order */
	int n_secrets;
	const FpGrant *grants;		/* every mount its jobs get, in
					   mount declaration order */
	int n_grants;
	bool has_work;			/* a grant's target is "/work" */
	FpMode work_mode;		/* its mode, if has_work */
	FpRange cpus;			/* whole CPUs */
	FpRange memory_gb;		/* GiB */
	FpRange timeout_min;		/* minutes */
} FpPrivilege;

typedef struct FpIdentity {
	const char *name;
	const char *spiffe_id;		/* spiffe://<trust domain>/<path> */
	const char *const *selectors;	/* SPIRE selectors, as written */
	int n_selectors;
	const FpPrivilege *privilege;
} FpIdentity;

typedef struct FpLabel {
	const char *key;
	const char *value;	/* may hold placeholders */
} FpLabel;

/* The container profile every job runs under. */
typedef struct FpContainer {
	const char *source;	/* the trust-table row jobs are, or NULL */
	const char *engine;	/* "podman": argv[0] of bundle_job_argv() */
	bool rootless;
	const char *user;	/* host user the engine runs as */
	long uid;		/* its pinned uid, or -1 */
	const char *userns;	/* "keep-id", or NULL: podman's default */
	const char *network;	/* "slirp4netns", or NULL: podman's default */
	const char *image;	/* default image */
	const char *const *cap_drop;
	int n_cap_drop;
	const char *const *security_opts;
	int n_security_opts;
	const FpLabel *labels;
	int n_labels;
} FpContainer;

typedef struct FpInvariant {
	const char *name;
	const char *text;
} FpInvariant;

/* --- loading -------------------------------------------------------- */

/* Decode and validate len bytes of a bundle. Returns the bundle, or NULL
 * with a one-line message naming the field in err (errlen bytes, may be
 * BUNDLE_ERR_MAX). Checks: format version, required fields, SPIFFE ID
 * syntax and trust domain, absolute paths without "..", only the known
 * placeholders, ranges min <= def <= max within sane bounds, ports
 * 1-65535, modes <= 07777, names unique, every reference resolved. */
FpBundle *bundle_load(const void *data, size_t len, char *err, size_t errlen);

/* The same for a file; messages start with "PATH: ". */
FpBundle *bundle_load_file(const char *path, char *err, size_t errlen);

/* Free b and everything it returned (NULL is fine). */
void bundle_free(FpBundle *b);

/* --- metadata ------------------------------------------------------- */

unsigned bundle_format_version(const FpBundle *b);
const char *bundle_fpc_version(const FpBundle *b);	/* "0.1.0" */
const char *bundle_policy_sha256(const FpBundle *b);	/* 64 lower hex */
const char *bundle_policy_name(const FpBundle *b);	/* `policy NAME` */
const char *bundle_table_family(const FpBundle *b);	/* "inet" */
const char *bundle_table_name(const FpBundle *b);	/* "flashpods" */
/* "flashpods.local"; NULL only in a bundle without identities */
const char *bundle_trust_domain(const FpBundle *b);

/* --- whole lists (for dumps and start-up logs) ---------------------- */

const FpSource *bundle_sources(const FpBundle *b, int *n);
const FpService *bundle_services(const FpBundle *b, int *n);
/* The trust-table cell of row src, column svc (indexes into the above). */
FpCell bundle_cell(const FpBundle *b, int src, int svc);
const FpIdentity *bundle_identities(const FpBundle *b, int *n);
const FpPrivilege *bundle_privileges(const FpBundle *b, int *n);
const FpMount *bundle_mounts(const FpBundle *b, int *n);
const FpInvariant *bundle_invariants(const FpBundle *b, int *n);
/* The container profile; NULL only for a firewall-only policy (no
 * container block, hence no mounts, privileges or identities): a daemon
 * that runs or serves jobs refuses such a bundle at start. */
const FpContainer *bundle_container(const FpBundle *b);
/* Every secret any privilege holds, once, sorted by name: what
 * secrets.json must provide and what a token response lists. */
const FpSecret *bundle_secrets(const FpBundle *b, int *n);

/* --- look-ups ------------------------------------------------------- */

/* The privilege of the identity whose SPIFFE ID is exactly spiffe_id
 * (case-sensitive, no normalisation), or NULL: unknown identity. */
const FpPrivilege *bundle_privilege_for_spiffe(const FpBundle *b,
					       const char *spiffe_id);
/* The identity itself, or NULL. */
const FpIdentity *bundle_identity_for_spiffe(const FpBundle *b,
					     const char *spiffe_id);
/* A privilege, service or source by name, or NULL. */
const FpPrivilege *bundle_privilege(const FpBundle *b, const char *name);
const FpService *bundle_service(const FpBundle *b, const char *name);
const FpSource *bundle_source(const FpBundle *b, const char *name);

/* Whether privilege p holds the secret called name (e.g. "GITHUB_TOKEN"). */
bool bundle_privilege_holds(const FpPrivilege *p, const char *name);

/*
 * Whether a peer at address sa (AF_INET or AF_INET6; a v4-mapped v6
 * address counts as IPv4) may reach the tcp/udp service named service,
 * decided as the firewall decides it, from what an application can see:
 * the peer address. The trust rows are walked in order; for each row whose
 * cell for the service is allow or deny:
 *   - a catch-all row (`via any`) decides: allow admits, deny refuses;
 *   - a row with a `via` clause listing addresses decides for a peer inside
 *     one of them (its interfaces, if any, are not visible and ignored);
 *   - clauses matching only by interface or by user cannot be told apart
 *     by address: they neither admit nor refuse, the walk goes on.
 * A peer no row decides is refused, as is every peer of an unknown, unix
 * or egress service. So an address-bearing allow row admits its addresses,
 * and a catch-all deny refuses the rest.
 */
bool bundle_peer_allowed(const FpBundle *b, const char *service,
			 const struct sockaddr *sa);

/* --- the container of a job ----------------------------------------- */

typedef enum {
	FP_JOB_COMMAND,	/* a worker-style job: runs /bin/sh -c COMMAND */
	FP_JOB_AGENT,	/* an agent-style job: env FLASHPODS_*, /entrypoint.sh */
} FpJobKind;

/* What bundle_job_argv() needs to know about a job. A string's _len is its
 * length in bytes (0: strlen()); a NUL before _len is an error, so values
 * taken from JSON with their lengths cannot smuggle one in. */
typedef struct FpJob {
	FpJobKind kind;
	const char *privilege;	/* privilege name ("worker", "agent") */
	const char *job_id;	/* [A-Za-z0-9][A-Za-z0-9_-]{0,63} */
	const char *upload_id;	/* same set; NULL if no mount needs it */
	const char *image;	/* NULL: the profile's default image */
	long cpus;		/* 0: the privilege's default */
	long memory_gb;		/* 0: the privilege's default */
	/* FP_JOB_COMMAND */
	const char *command;
	size_t command_len;
	/* FP_JOB_AGENT (each may be NULL: the variable is set empty) */
	const char *task;
	size_t task_len;
	const char *context;
	size_t context_len;
	const char *git_branch;
	size_t git_branch_len;
} FpJob;

/*
 * The argv (NULL-terminated) that starts job's container, to be run with
 * execvp() and never through a shell; every value is one element:
 *
 *   podman run --userns=keep-id --network=slirp4netns
 *     --security-opt no-new-privileges --cap-drop ALL --cpus N --memory Ng
 *     --rm --name job_ID --label K=V... -v HOST:TARGET:ro|rw...
 *     [-e FLASHPODS_TASK=... -e FLASHPODS_CONTEXT=...
 *      -e FLASHPODS_GIT_BRANCH=... -e FLASHPODS_JOB_ID=ID]
 *     IMAGE  /bin/sh -c COMMAND | /entrypoint.sh
 *
 * (the profile's engine, userns, network, security options, dropped
 * capabilities and labels; the privilege's grants in mount order).
 *
 * The container is attached (no -d): the caller supervises the child,
 * sends its stdout/stderr to the job's log and gets the exit status;
 * --rm removes the container when it exits. Returns NULL with a message
 * naming the field (job_id, upload_id, image, cpus, memory_gb, command,
 * task, context, git_branch, privilege; container if the policy has no
 * container profile) if a value is not acceptable.
 */
char **bundle_job_argv(const FpBundle *b, const FpJob *job, char *err,
		       size_t errlen);
void bundle_argv_free(char **argv);

/* The checks bundle_job_argv() applies, for callers that validate a
 * request before queueing it: true if s is acceptable. */
bool bundle_valid_id(const char *s);		/* job and upload ids */
bool bundle_valid_image(const char *s);		/* [host[:port]/]path[:tag][@algo:hex] */
/* a podman option word: [A-Za-z0-9_.:=/,+-]+, not starting with '-', at
 * most 4096 bytes (fpc's sema checks the policy with the same rule) */
bool bundle_valid_token(const char *s);

#endif
