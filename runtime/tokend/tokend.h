/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * tokend.h: fp-tokend, the token service, one heading per file in the order
 * a request meets them:
 *
 *   b64url -> jwks (trust bundle) -> jwt (verify) -> config (bundle view,
 *   secrets, snapshot) -> ratelimit -> audit -> server (HTTP) -> main
 *
 * Ownership: jwks_*() and secrets_*() objects are reference-counted and
 * freed by their *_unref(); a Snapshot holds one reference to each of its
 * parts and is freed by snapshot_unref(). Strings handed out by a look-up
 * belong to the object they came from. Everything else is the caller's.
 */
#ifndef FP_TOKEND_H
#define FP_TOKEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include <openssl/evp.h>

#include "base.h"
#include "bundle.h"
#include "daemon.h"
#include "ratelimit.h"

/* The audience every JWT-SVID presented here must carry (CONTEXT.md). */
#define TOKEND_AUDIENCE "flashpods-token-service"
/* The largest token accepted, in bytes of its compact form. */
#define JWT_MAX_LEN 8192
/* The largest clock leeway accepted on exp, nbf and iat, in seconds. */
#define JWT_MAX_LEEWAY 60
/* Longest kid and SPIFFE ID accepted. */
#define JWT_KID_MAX 255
#define SPIFFE_ID_MAX 2048
/* A buffer this large holds any error message of tokend's loaders. */
#define TOKEND_ERR_MAX 640

/* Format a message into err (at most errlen bytes); returns NULL so that
 * loaders can `return tokend_errf(...)`. In config.c. */
void *tokend_errf(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* --- b64url.c ------------------------------------------------------- */

/* Decode len bytes of strict base64url (RFC 4648 section 5: no padding,
 * no white space, unused trailing bits zero). Returns a heap buffer the
 * caller frees (NUL-terminated for convenience, *outlen excludes it), or
 * NULL if the text is not canonical base64url or is empty. */
unsigned char *b64url_decode(const char *in, size_t len, size_t *outlen);
/* Encode len bytes; the caller frees the NUL-terminated result. */
char *b64url_encode(const unsigned char *in, size_t len);

/* --- jwks.c: the trust bundle --------------------------------------- */

typedef enum { JWK_EC, JWK_RSA } JwkType;

typedef struct JwkKey {
	char *kid;
	JwkType type;
	int curve_nid;		/* JWK_EC: NID_X9_62_prime256v1, ... */
	int bits;		/* modulus or field size in bits */
	char *alg;		/* the JWK's own "alg", or NULL */
	EVP_PKEY *pkey;
} JwkKey;

typedef struct Jwks {
	int refs;
	JwkKey *keys;
	int n_keys;
	int skipped;		/* keys whose use is not jwt-svid */
} Jwks;

/* Parse a JWKS or SPIFFE bundle (`{"keys":[...]}`). Keys whose "use" is
 * present and not "jwt-svid" are skipped; every other key must be a valid
 * EC (P-256/384/521, point on the curve) or RSA (>= 2048 bits) public key
 * with a unique kid, else the whole set is refused with a message in err.
 * Returns a set holding one reference. */
Jwks *jwks_parse(const char *text, size_t len, char *err, size_t errlen);
/* The same for a file (at most 1 MiB); messages start with "PATH: ". */
Jwks *jwks_load(const char *path, char *err, size_t errlen);
/* The key whose kid is exactly kid, or NULL. */
const JwkKey *jwks_find(const Jwks *s, const char *kid);
void jwks_ref(Jwks *s);
void jwks_unref(Jwks *s);

/* --- jwt.c: JWT-SVID verification ---------------------------------- */

typedef enum {
	JWT_OK,
	JWT_INVALID,		/* 401 invalid_jwt */
	JWT_BAD_AUDIENCE,	/* 401 invalid_audience */
	JWT_EXPIRED,		/* 401 expired_jwt */
} JwtStatus;

typedef struct JwtCheck {
	const char *audience;
	const char *trust_domain;
	time_t now;
	int leeway;		/* seconds, 0..JWT_MAX_LEEWAY */
	int max_lifetime;	/* seconds exp may lie after iat (or now) */
	bool low_s_only;	/* refuse ECDSA signatures with s > n/2 */
} JwtCheck;

#ifdef FPC_FUZZ
/* Fuzzing builds only: when set, a signature that does not verify does not
 * stop jwt_verify, so the claims and SPIFFE ID parsing get fuzzed too. */
extern bool jwt_fuzz_no_signature;
#endif

/* What a verification learnt; kid and sub are set as soon as they are
 * read (so a refusal can be audited), empty if never read. */
typedef struct JwtResult {
	JwtStatus status;
	const char *why;	/* static text saying why, "" on success */
	char kid[JWT_KID_MAX + 1];
	char sub[SPIFFE_ID_MAX + 1];
	long long exp;
} JwtResult;

/* Verify the compact JWS tok (len bytes, not NUL-terminated) against keys
 * and the claims rules of c. Fills *r and returns r->status. */
JwtStatus jwt_verify(const char *tok, size_t len, const Jwks *keys,
		     const JwtCheck *c, JwtResult *r);
/* Whether the JWS algorithm alg may be used with key k: RS and PS with
 * RSA keys, ES256/384/512 with P-256/384/521 only, and the JWK's own
 * "alg" if it names one. */
bool jws_alg_fits(const JwkKey *k, const char *alg);
/* Whether id is a SPIFFE ID with a non-empty path in trust_domain. */
bool spiffe_id_valid(const char *id, const char *trust_domain);
/* The error code of a status ("invalid_jwt", ...); BUG on JWT_OK. */
const char *jwt_status_code(JwtStatus s);

/* --- config.c: what a running tokend holds --------------------------- */

/* The parts of the policy bundle tokend uses, resolved. */
typedef struct TokenPolicy {
	int refs;
	FpBundle *bundle;
	const FpSecret *secrets;	/* every secret, sorted by name */
	int n_secrets;
	const char *trust_domain;
	const char *sha256;		/* of the policy text */
	/* the token socket */
	const char *socket_path;
	const char *owner, *group;	/* names, as the policy gives them */
	uid_t owner_uid;
	gid_t group_gid;
	int mode;
} TokenPolicy;

/* Load the bundle at path and find the unix service svc_name in it; the
 * owner and group must exist on this host. NULL with a message on error. */
TokenPolicy *policy_view_load(const char *path, const char *svc_name,
			      char *err, size_t errlen);
void policy_view_unref(TokenPolicy *p);

/* Secret values by policy name; values are wiped when freed. */
typedef struct Secrets {
	int refs;
	int n;
	char **names;		/* policy names ("GITHUB_TOKEN") */
	char **values;
} Secrets;

/* Read the secrets file: a regular file owned by this process's user that
 * neither group nor others may read or write, holding a JSON object with a
 * non-empty string under lower(name) for every secret of pol. */
Secrets *secrets_load(const char *path, const TokenPolicy *pol, char *err,
		      size_t errlen);
/* The value of the secret called name, or NULL. */
const char *secrets_get(const Secrets *s, const char *name);
void secrets_unref(Secrets *s);

/* One consistent view for a request: policy, secrets and trust bundle. */
typedef struct Snapshot {
	int refs;
	TokenPolicy *pol;
	Secrets *sec;
	Jwks *jwks;
} Snapshot;

/* A snapshot holding a new reference to each part. */
Snapshot *snapshot_new(TokenPolicy *pol, Secrets *sec, Jwks *jwks);
void snapshot_ref(Snapshot *s);
void snapshot_unref(Snapshot *s);

/* The paths and knobs fp-tokend runs with (command line). */
typedef struct TokendConfig {
	const char *bundle_path;
	const char *secrets_path;
	const char *jwks_path;
	const char *audit_path;		/* NULL: stderr */
	const char *socket_override;	/* NULL: the bundle's path */
	const char *service_name;	/* the unix service ("token") */
	int leeway;
	double rate;			/* requests/s per uid; 0: no limit */
	double burst;
	int threads;
	int timeout_s;
	int max_conns;
	int request_timeout;		/* s for a whole request */
	int max_conns_per_peer;		/* connections of one container */
	int max_lifetime;		/* s from iat to exp */
	int audit_rate;			/* refusal lines/s per peer */
	int audit_max_mb;		/* rotate the audit log past this */
	bool low_s_only;		/* --low-s-only */
	bool check_only;
} TokendConfig;

/* Load the bundle, the secrets and the trust bundle, in that order, into a
 * new snapshot; NULL with "what: why" in err if any step fails. */
Snapshot *config_load(const TokendConfig *cfg, char *err, size_t errlen);
/* Parse argv into cfg; returns 0, -1 after printing --help to stdout, or
 * DAEMON_EXIT_USAGE after printing the mistake to stderr. */
int config_parse_args(TokendConfig *cfg, int argc, char **argv);

/* rate limiting: runtime/lib/ratelimit.h, keyed by the peer's container
 * (runtime/lib/daemon.h's PeerCred), else its uid */

/* --- audit.c -------------------------------------------------------- */

typedef struct Audit Audit;

/* Open the audit log at path for appending (created 0600), or stderr when
 * path is NULL; past max_bytes it is renamed to PATH.1 (replacing the
 * previous one) and a new one started. NULL with a message on error. */
Audit *audit_open(const char *path, long long max_bytes, char *err, size_t errlen);
/* Reopen the same path (log rotation); keeps the old file on failure. */
int audit_reopen(Audit *a, char *err, size_t errlen);
void audit_close(Audit *a);

typedef struct AuditEvent {
	pid_t pid;
	uid_t uid;
	gid_t gid;
	const char *container;	/* the peer's container id, or "" */
	unsigned long suppressed;	/* refusals left out since the last line */
	const char *spiffe_id;	/* NULL or "" if unknown */
	const char *kid;	/* NULL or "" if unknown */
	const char *identity;	/* the policy identity, or NULL */
	int status;		/* HTTP status sent */
	const char *error;	/* error code, NULL on success */
	const char *reason;	/* why, for a refusal (static text), or NULL */
	const char *const *secrets;	/* names handed out (never values) */
	int n_secrets;
} AuditEvent;

/* Append one JSON line for ev with one write(); 0, or -1 if the whole
 * line could not be written (then the request must be refused). */
int audit_write(Audit *a, const AuditEvent *ev);

/* --- server.c ------------------------------------------------------- */

typedef struct Server Server;

/* Create the unix socket at pol's path (or cfg->socket_override) with the
 * policy's owner and mode and start serving on it. NULL with a message. */
Server *server_start(const TokendConfig *cfg, Snapshot *snap, Audit *audit,
		     char *err, size_t errlen);
/* Whether a socket could be made at path: not too long for sun_path, in a
 * directory that exists, and nothing but a (stale or live) socket there.
 * 0, or -1 with a message. Used by -n and before creating the socket. */
int server_check_path(const char *path, char *err, size_t errlen);
/* Swap in a new snapshot (takes its own reference). */
void server_set_snapshot(Server *s, Snapshot *snap);
/* The snapshot in force, with a reference for the caller. */
Snapshot *server_snapshot(Server *s);
/* Re-apply owner and mode of the socket from snap's policy; -1 + message
 * if the socket path itself would change (that needs a restart). */
int server_check_socket(Server *s, const Snapshot *snap, char *err,
			size_t errlen);
/* Stop serving, remove the socket, free s. */
void server_stop(Server *s);

/* --- daemon.c: start-up, signals, reloads ---------------------------- */

/* Exit statuses: DAEMON_EXIT_* (daemon.h); log lines: daemon_log. */

/* Everything main() does: parse args, start up in order, serve until
 * SIGTERM/SIGINT, reloading on SIGHUP and when the trust bundle changes. */
int tokend_main(int argc, char **argv);

#endif
