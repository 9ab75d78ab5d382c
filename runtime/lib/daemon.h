/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * daemon.h: what fp-apid and fp-tokend share around HTTP, one heading per
 * file in the order a connection meets them:
 *
 *   dlog (log lines, exit statuses) -> peer (who is connecting: uid, pid,
 *   container) -> conntrack (per-peer connection cap, whole-request
 *   deadline) -> http (framing checks, JSON replies, libmicrohttpd's log)
 *
 * Ownership: a ConnTrack is freed by conntrack_free; a TrackedConn belongs
 * to its ConnTrack until conntrack_remove. Reply bodies passed to
 * http_reply are owned by it from the call on.
 */
#ifndef FP_DAEMON_H
#define FP_DAEMON_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <jansson.h>
#include <microhttpd.h>

#include "ratelimit.h"

/* ---- dlog.c: log lines and exit statuses -------------------------------- */

/* Exit statuses of both daemons. */
enum {
	DAEMON_EXIT_OK = 0,
	DAEMON_EXIT_CONFIG = 1,		/* bundle, token, secrets, files, store */
	DAEMON_EXIT_USAGE = 2,		/* the command line */
	DAEMON_EXIT_SOCKET = 3,		/* the listening socket / serving */
};

/* Name the program for daemon_log ("fp-apid"); before any thread starts. */
void daemon_log_init(const char *prog);
/* One line "TIME PROG: message" on stderr with one write() (thread-safe:
 * lines never interleave). */
void daemon_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---- peer.c: who is on the other end ------------------------------------- */

enum { PEER_CONTAINER_MAX = 64 };

/* A unix-socket peer: SO_PEERCRED at connect time, and the container its
 * process belongs to, found as SPIRE's podman/docker attestors find it: a
 * 64-hex-digit container id in the cgroup path of /proc/PID/cgroup. */
typedef struct PeerCred {
	bool known;
	pid_t pid;
	uid_t uid;
	gid_t gid;
	char container[PEER_CONTAINER_MAX + 1];	/* "" if none */
	RateKey key;	/* container, else (uid, cgroup path), else uid */
} PeerCred;

/* Fill p for the connected unix socket fd (p->known false if the kernel
 * does not say). */
void peer_cred_read(int fd, PeerCred *p);
/* The container id in the text of a /proc/PID/cgroup file: the last
 * 64-hex-digit run that is a whole path component or sits between a
 * "<engine>-" prefix and a ".scope" suffix (libpod-ID.scope, docker-ID.scope,
 * /libpod/ID). Copied into out (PEER_CONTAINER_MAX + 1 bytes); false if none. */
bool peer_container_of(const char *cgroup, char *out);
/* The key of a peer: its container, else its uid with its cgroup v2 path
 * (a process in a cgroup of its own is a peer of its own), else its uid. */
RateKey peer_key(uid_t uid, const char *container, const char *cgroup_path);

/* ---- conntrack.c: connection caps and the request deadline --------------- */

typedef struct ConnTrack ConnTrack;
typedef struct TrackedConn TrackedConn;

/* A tracker: connections that have not delivered a whole request within
 * deadline_s seconds of their start (or of the end of their previous
 * request) are shut down by a reaper thread; at most per_key connections
 * of one key are open at once. NULL when out of memory or no thread. */
ConnTrack *conntrack_new(double deadline_s, int per_key);
void conntrack_free(ConnTrack *t);
/* A connection on fd from key started: tracked and returned, or NULL if
 * its key already holds per_key connections (then it is shut down here). */
TrackedConn *conntrack_add(ConnTrack *t, int fd, RateKey key);
/* Its request was answered: its deadline starts again. */
void conntrack_done(ConnTrack *t, TrackedConn *c);
/* It closed: forget it (NULL is ignored). */
void conntrack_remove(ConnTrack *t, TrackedConn *c);

/* ---- http.c: framing, replies, libmicrohttpd's log ----------------------- */

/* Why the request on c is framed ambiguously (RFC 9112 section 6.3), or
 * NULL: two Content-Length or Transfer-Encoding headers, both of them, or
 * more than one Authorization. Such a request gets 400 and the connection
 * is closed (http_reply with close). */
const char *http_framing_error(struct MHD_Connection *c);

/* An extra response header. */
typedef struct HttpHeader {
	const char *name, *value;
} HttpHeader;

/* Queue status with body (heap, NUL-terminated, owned from here on; freed
 * with free_body, or free() if NULL) and the headers every answer carries
 * (application/json, Cache-Control: no-store, nosniff), then the n extra
 * ones; with close, "Connection: close" too. MHD_NO if body is NULL. */
enum MHD_Result http_reply(struct MHD_Connection *c, unsigned status, char *body,
			   void (*free_body)(void *), const HttpHeader *extra,
			   size_t n, bool close);
/* o (consumed) as one compact JSON line ending in "\n"; NULL on failure. */
char *http_json_line(json_t *o);
/* libmicrohttpd's error log (MHD_OPTION_EXTERNAL_LOGGER) into daemon_log. */
void http_mhd_log(void *cls, const char *fmt, va_list ap);

#endif
