/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * server.c: HTTP/1.1 over the token unix socket (libmicrohttpd; never TCP).
 *
 *   GET /tokens   Authorization: Bearer <JWT-SVID>
 *                 -> 200 {"ANTHROPIC_API_KEY": "...", "GITHUB_TOKEN": null}
 *                    every secret of the policy, null where the caller's
 *                    privilege does not hold it
 *   GET /health   -> 200 {"status":"healthy", ...}
 *
 * Every answer is JSON with Cache-Control: no-store; errors are
 * {"error": CODE, "message": TEXT}. The peer is who SO_PEERCRED says it is,
 * and the only thing read from a request is its Authorization header: a
 * job type, query string or any other header is ignored. Limits apply per
 * peer container (else uid): connections at once, requests and audited
 * refusals per second; every request must arrive whole within
 * --request-timeout, and an ambiguously framed one is refused and closed.
 */
#include "tokend.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <jansson.h>
#include <microhttpd.h>
#include <openssl/crypto.h>

enum {
	BODY_MAX = 4096,		/* bytes of request body tolerated */
	BODY_DRAIN_MAX = 64 * 1024,	/* ... read and dropped before a 413 */
	CONN_MEMORY = 32 * 1024,	/* per-connection pool: headers live here */
	LISTEN_BACKLOG = 128,
};

struct Server {
	struct MHD_Daemon *mhd;
	pthread_mutex_t lock;	/* guards snap */
	Snapshot *snap;
	Audit *audit;
	RateLimit *rl;
	int leeway;
	RateLimit *audit_rl;	/* audited refusals per peer */
	ConnTrack *ct;		/* connections per peer, request deadline */
	int max_lifetime;
	bool low_s_only;
	char *path;		/* the socket we made */
	bool path_is_override;
	dev_t dev;		/* ... and its inode: only it is ever re-owned */
	ino_t ino;		/* or removed */
	int audit_failing;	/* logged once per failure streak */
	unsigned long suppressed;	/* refusals not audited since the last line */
};

/* A connection: who is on the other end (SO_PEERCRED at connect time) and
 * its entry in the connection tracker. */
typedef struct ConnCtx {
	PeerCred peer;
	TrackedConn *tc;
} ConnCtx;

/* Per request: how much body was seen, whether an answer is queued. */
typedef struct Request {
	size_t body;
	bool answered;
} Request;

/* --- answers -------------------------------------------------------- */

/* Free a response body after wiping it (it may hold secrets). */
static void wipe_free(void *p)
{
	if (p) {
		OPENSSL_cleanse(p, strlen(p));
		free(p);
	}
}

/* Queue status with body (heap, wiped when sent) and the common headers,
 * plus one extra header if name. */
static enum MHD_Result reply(struct MHD_Connection *c, unsigned status,
			     char *body, const char *name, const char *value)
{
	HttpHeader h = { name, value };

	return http_reply(c, status, body, wipe_free, &h, 1, false);
}

/* The JSON error body {"error": code, "message": msg}. */
static char *error_body(const char *code, const char *msg)
{
	return http_json_line(json_pack("{s:s, s:s}", "error", code, "message", msg));
}

static enum MHD_Result reply_error(struct MHD_Connection *c, unsigned status,
				   const char *code, const char *msg)
{
	return reply(c, status, error_body(code, msg), NULL, NULL);
}

/* Append s to b as a JSON string (quotes included). */
static void json_quote(Buf *b, const char *s)
{
	buf_puts(b, "\"");
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\')
			buf_printf(b, "\\%c", ch);
		else if (ch < 0x20 || ch == 0x7f)
			buf_printf(b, "\\u%04x", ch);
		else
			buf_append(b, s, 1);
	}
	buf_puts(b, "\"");
}

/* The 200 body: every secret of the policy, its value if priv holds it,
 * else null. Built by hand so that the only copy of a value is this
 * buffer, wiped when sent. *granted gets the names handed out. NULL if a
 * held secret has no value (secrets_unavailable). */
static char *tokens_body(const Snapshot *snap, const FpPrivilege *priv,
			 const char **granted, int *n_granted)
{
	Buf b = { 0 };

	*n_granted = 0;
	buf_puts(&b, "{");
	for (int i = 0; i < snap->pol->n_secrets; i++) {
		const char *name = snap->pol->secrets[i].name;
		const char *value = NULL;

		if (bundle_privilege_holds(priv, name)) {
			value = secrets_get(snap->sec, name);
			if (!value) {
				wipe_free(b.data);
				return NULL;
			}
			granted[(*n_granted)++] = name;
		}
		if (i)
			buf_puts(&b, ",");
		json_quote(&b, name);
		buf_puts(&b, ":");
		if (value)
			json_quote(&b, value);
		else
			buf_puts(&b, "null");
	}
	buf_puts(&b, "}\n");
	return b.data;	/* malloc'd by Buf: wipe_free() can take it */
}

/* --- the peer ------------------------------------------------------- */

/* A connection starts: who it is, and whether its peer may open one more
 * (if not, the tracker has shut it down and MHD closes it). */
static void on_connection(void *cls, struct MHD_Connection *c,
			  void **socket_context,
			  enum MHD_ConnectionNotificationCode toe)
{
	Server *s = cls;
	ConnCtx *cc = *socket_context;

	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		const union MHD_ConnectionInfo *ci =
			MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);

		cc = calloc(1, sizeof *cc);
		if (cc && ci) {
			peer_cred_read(ci->connect_fd, &cc->peer);
			cc->tc = conntrack_add(s->ct, ci->connect_fd, cc->peer.key);
		}
		*socket_context = cc;
	} else {
		if (cc)
			conntrack_remove(s->ct, cc->tc);
		free(cc);
		*socket_context = NULL;
	}
}

/* The context of connection c (NULL when out of memory at connect). */
static ConnCtx *conn_of(struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

	return ci ? ci->socket_context : NULL;
}

/* --- GET /tokens ---------------------------------------------------- */

/* The outcome of one exchange before it is audited and sent. */
typedef struct Exchange {
	unsigned status;
	const char *error, *message;
	char *body;		/* 200 only */
	int retry_after;	/* 429 only */
	JwtResult jwt;
	const FpIdentity *identity;
	const char **granted;	/* room for every secret of the policy */
	int n_granted;
} Exchange;

/* The token of "Authorization: Bearer TOKEN", or NULL with x's error set. */
static const char *bearer_token(struct MHD_Connection *c, Exchange *x)
{
	const char *v = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
						    MHD_HTTP_HEADER_AUTHORIZATION);

	if (!v || !v[0])
		x->message = "send Authorization: Bearer <JWT-SVID>";
	else if (strncasecmp(v, "Bearer ", 7) || !v[7] || strchr(v + 7, ' '))
		x->message = "Authorization must be Bearer <JWT-SVID>";
	else
		return v + 7;
	x->status = MHD_HTTP_BAD_REQUEST;
	x->error = "missing_authorization";
	return NULL;
}

/* Decide the exchange: verify, look the identity up, build the body. */
static void tokens_decide(Server *s, const Snapshot *snap,
			  struct MHD_Connection *c, Exchange *x)
{
	const char *tok = bearer_token(c, x);
	const JwtCheck check = {
		.audience = TOKEND_AUDIENCE,
		.trust_domain = snap->pol->trust_domain,
		.now = time(NULL),
		.leeway = s->leeway,
		.max_lifetime = s->max_lifetime,
		.low_s_only = s->low_s_only,
	};

	if (!tok)
		return;
	if (jwt_verify(tok, strlen(tok), snap->jwks, &check, &x->jwt) != JWT_OK) {
		x->status = MHD_HTTP_UNAUTHORIZED;
		x->error = jwt_status_code(x->jwt.status);
		x->message = x->jwt.why;
		return;
	}
	x->identity = bundle_identity_for_spiffe(snap->pol->bundle, x->jwt.sub);
	if (!x->identity) {
		x->status = MHD_HTTP_FORBIDDEN;
		x->error = "unknown_identity";
		x->message = "no identity of the policy has this SPIFFE ID";
		return;
	}
	x->granted = calloc((size_t)snap->pol->n_secrets + 1, sizeof *x->granted);
	if (!x->granted || !(x->body = tokens_body(snap, x->identity->privilege,
						   x->granted, &x->n_granted))) {
		x->status = MHD_HTTP_INTERNAL_SERVER_ERROR;
		x->error = "secrets_unavailable";
		x->message = "a secret of this privilege is not loaded";
		x->n_granted = 0;
		return;
	}
	x->status = MHD_HTTP_OK;
}

/* Write the audit line of x; on failure x becomes a 500 and loses its body.
 * A 429 past the peer's audit rate is counted instead of written (the next
 * line says how many were): a flood cannot fill the disk, and nothing but
 * a refusal ever goes unwritten. */
static void tokens_audit(Server *s, const PeerCred *p, Exchange *x)
{
	AuditEvent ev = {
		.pid = p->pid, .uid = p->uid, .gid = p->gid, .container = p->container,
		.spiffe_id = x->jwt.sub, .kid = x->jwt.kid,
		.identity = x->identity ? x->identity->name : NULL,
		.status = (int)x->status, .error = x->error, .reason = x->message,
		.secrets = x->granted, .n_secrets = x->n_granted,
	};

	if (x->status == MHD_HTTP_TOO_MANY_REQUESTS &&
	    ratelimit_take(s->audit_rl, p->key, mono_now())) {
		__atomic_add_fetch(&s->suppressed, 1, __ATOMIC_RELAXED);
		return;
	}
	ev.suppressed = __atomic_exchange_n(&s->suppressed, 0, __ATOMIC_RELAXED);
	if (audit_write(s->audit, &ev) == 0) {
		if (__atomic_exchange_n(&s->audit_failing, 0, __ATOMIC_RELAXED))
			daemon_log("audit log writable again");
		return;
	}
	__atomic_add_fetch(&s->suppressed, ev.suppressed, __ATOMIC_RELAXED);
	if (!__atomic_exchange_n(&s->audit_failing, 1, __ATOMIC_RELAXED))
		daemon_log("cannot write the audit log (%s): refusing every "
			   "exchange until it can", strerror(errno));
	wipe_free(x->body);
	x->body = NULL;
	x->status = MHD_HTTP_INTERNAL_SERVER_ERROR;
	x->error = "audit_unavailable";
	x->message = "the exchange could not be audited";
}

static enum MHD_Result get_tokens(Server *s, struct MHD_Connection *c,
				  const PeerCred *p)
{
	Exchange x = { 0 };
	Snapshot *snap = server_snapshot(s);
	enum MHD_Result ret;
	char retry[16];

	x.retry_after = ratelimit_take(s->rl, p->key, mono_now());
	if (x.retry_after) {
		x.status = MHD_HTTP_TOO_MANY_REQUESTS;
		x.error = "rate_limited";
		x.message = "too many requests from this peer";
	} else {
		tokens_decide(s, snap, c, &x);
	}
	tokens_audit(s, p, &x);	/* names in x.granted point into snap */
	snapshot_unref(snap);
	free(x.granted);
	if (x.status == MHD_HTTP_OK)
		return reply(c, x.status, x.body, NULL, NULL);
	if (x.status == MHD_HTTP_TOO_MANY_REQUESTS) {
		snprintf(retry, sizeof retry, "%d", x.retry_after);
		ret = reply(c, x.status,
			    http_json_line(json_pack("{s:s, s:s, s:i}", "error", x.error,
						"message", x.message,
						"retry_after_seconds", x.retry_after)),
			    MHD_HTTP_HEADER_RETRY_AFTER, retry);
		return ret;
	}
	return reply_error(c, x.status, x.error, x.message);
}

/* --- GET /health and routing ----------------------------------------- */

static enum MHD_Result get_health(Server *s, struct MHD_Connection *c,
				  const PeerCred *p)
{
	Snapshot *snap;
	json_t *o;
	int wait = ratelimit_take(s->rl, p->key, mono_now());
	char retry[16];

	if (wait) {
		snprintf(retry, sizeof retry, "%d", wait);
		return reply(c, MHD_HTTP_TOO_MANY_REQUESTS,
			     error_body("rate_limited", "too many requests from this peer"),
			     MHD_HTTP_HEADER_RETRY_AFTER, retry);
	}
	snap = server_snapshot(s);
	o = json_pack("{s:s, s:s, s:s, s:i}", "status", "healthy",
		      "version", FPC_VERSION, "policy_sha256", snap->pol->sha256,
		      "trust_bundle_keys", snap->jwks->n_keys);
	snapshot_unref(snap);
	return reply(c, MHD_HTTP_OK, http_json_line(o), NULL, NULL);
}

/* The Content-Length of the request, 0 if none (SIZE_MAX if unparsable). */
static size_t body_announced(struct MHD_Connection *c)
{
	const char *v = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
						    MHD_HTTP_HEADER_CONTENT_LENGTH);
	const char *why;
	long long n;

	if (!v)
		return 0;
	n = parse_num(v, 0, LLONG_MAX, &why);
	return why ? SIZE_MAX : (size_t)n;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c,
				  const char *url, const char *method,
				  const char *version, const char *upload_data,
				  size_t *upload_data_size, void **req_cls)
{
	Server *s = cls;
	Request *rq = *req_cls;
	bool tokens = !strcmp(url, "/tokens"), health = !strcmp(url, "/health");
	ConnCtx *cc;
	const char *bad;

	(void)version;
	(void)upload_data;
	if (!rq) {
		if (!(rq = calloc(1, sizeof *rq)))
			return MHD_NO;
		*req_cls = rq;
		/* RFC 9112 section 6.3: no guessing where a request ends */
		if ((bad = http_framing_error(c))) {
			rq->answered = true;
			return http_reply(c, MHD_HTTP_BAD_REQUEST,
					  error_body("bad_request", bad), NULL, NULL, 0, true);
		}
		/* a body announced too large is refused before it is read */
		if (body_announced(c) > BODY_MAX) {
			rq->answered = true;
			return reply_error(c, MHD_HTTP_CONTENT_TOO_LARGE,
					   "request_too_large", "request body too large");
		}
		return MHD_YES;
	}
	if (*upload_data_size) {	/* bodies are read and dropped */
		rq->body += *upload_data_size;
		*upload_data_size = 0;
		/* a chunked body is answered 413 at its end, unless it goes
		 * on so long that the connection is better closed (MHD
		 * cannot answer in the middle of an upload) */
		return rq->body > BODY_DRAIN_MAX ? MHD_NO : MHD_YES;
	}
	if (rq->answered)
		return MHD_YES;
	rq->answered = true;
	if (rq->body > BODY_MAX)
		return reply_error(c, MHD_HTTP_CONTENT_TOO_LARGE,
				   "request_too_large", "request body too large");
	if (!tokens && !health)
		return reply_error(c, MHD_HTTP_NOT_FOUND, "not_found",
				   "no such path (GET /tokens, GET /health)");
	if (strcmp(method, MHD_HTTP_METHOD_GET))
		return reply(c, MHD_HTTP_METHOD_NOT_ALLOWED,
			     error_body("method_not_allowed", "only GET is served"),
			     MHD_HTTP_HEADER_ALLOW, "GET");
	cc = conn_of(c);
	if (!cc || !cc->peer.known)
		return reply_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal_error",
				   "cannot identify the peer");
	return tokens ? get_tokens(s, c, &cc->peer) : get_health(s, c, &cc->peer);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **req_cls,
			 enum MHD_RequestTerminationCode toe)
{
	Server *s = cls;
	ConnCtx *cc = conn_of(c);

	(void)toe;
	if (cc)
		conntrack_done(s->ct, cc->tc);
	free(*req_cls);
	*req_cls = NULL;
}

/* --- the socket ----------------------------------------------------- */

/* Format into err and return -1. */
static int sock_err(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int sock_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

int server_check_path(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sa;
	struct stat st;
	char *copy = strdup(path);
	const char *dir = copy ? dirname(copy) : NULL;
	int rc = 0;

	if (!dir)
		rc = sock_err(err, errlen, "out of memory");
	else if (strlen(path) >= sizeof sa.sun_path)
		rc = sock_err(err, errlen, "%s: socket path longer than %zu bytes",
			      path, sizeof sa.sun_path - 1);
	else if (lstat(path, &st) == 0 && !S_ISSOCK(st.st_mode))
		rc = sock_err(err, errlen, "%s exists and is not a socket", path);
	else if (stat(dir, &st) < 0)
		rc = sock_err(err, errlen, "%s: directory %s: %s", path, dir,
			      errno == ENOENT ? "does not exist" : strerror(errno));
	else if (!S_ISDIR(st.st_mode))
		rc = sock_err(err, errlen, "%s: %s is not a directory", path, dir);
	free(copy);
	return rc;
}

/* Remove a stale socket at path; -1 (message) if something else is there
 * or a live server still answers on it. */
static int sock_clear(const char *path, const struct sockaddr_un *sa,
		      char *err, size_t errlen)
{
	struct stat st;
	int fd, live;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : sock_err(err, errlen, "%s: %s", path,
						     strerror(errno));
	if (!S_ISSOCK(st.st_mode))
		return sock_err(err, errlen, "%s exists and is not a socket", path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	live = fd >= 0 && connect(fd, (const struct sockaddr *)sa, sizeof *sa) == 0;
	if (fd >= 0)
		close(fd);
	if (live)
		return sock_err(err, errlen, "%s: another server is listening on it", path);
	if (unlink(path) < 0)
		return sock_err(err, errlen, "%s: %s", path, strerror(errno));
	return 0;
}

/* Give the socket at path owner, group and mode, acting on that inode
 * only: it is opened O_PATH | O_NOFOLLOW and must be a socket (and, if
 * *dev is not 0, the one recorded in *dev and *ino when it was made), and
 * is changed through the descriptor. A symlink or another file put there
 * (the directory may belong to the containers' user) is never followed or
 * touched. Records the inode in *dev, *ino; 0, or -1 with a message. */
static int sock_own(const char *path, dev_t *dev, ino_t *ino, uid_t uid,
		    gid_t gid, int mode, char *err, size_t errlen)
{
	int fd = open(path, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	struct stat st;
	char self[64];
	int rc = 0;

	if (fd < 0)
		return sock_err(err, errlen, "%s: %s", path, strerror(errno));
	snprintf(self, sizeof self, "/proc/self/fd/%d", fd);
	if (fstat(fd, &st) < 0 || !S_ISSOCK(st.st_mode) ||
	    (*dev && (st.st_dev != *dev || st.st_ino != *ino)))
		rc = sock_err(err, errlen, "%s is no longer the socket fp-tokend made "
			      "(replaced, or a symlink): not touching it", path);
	else if (fchownat(fd, "", uid, gid, AT_EMPTY_PATH) < 0 ||
		 chmod(self, (mode_t)mode) < 0)
		rc = sock_err(err, errlen, "%s: %s", path, strerror(errno));
	if (rc == 0) {
		*dev = st.st_dev;
		*ino = st.st_ino;
	}
	close(fd);
	return rc;
}

/* Create, own and mode the listening socket at path (recording its inode
 * in *dev, *ino); fd or -1. */
static int sock_create(const char *path, uid_t uid, gid_t gid, int mode,
		       dev_t *dev, ino_t *ino, char *err, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	mode_t old;
	int fd, rc;

	if (server_check_path(path, err, errlen) < 0)
		return -1;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	if (sock_clear(path, &sa, err, errlen) < 0)
		return -1;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return sock_err(err, errlen, "socket: %s", strerror(errno));
	old = umask(0177);	/* nobody but us until it has its owner and mode */
	rc = bind(fd, (struct sockaddr *)&sa, sizeof sa);
	umask(old);
	if (rc < 0) {
		sock_err(err, errlen, "%s: bind: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	*dev = 0;
	if (sock_own(path, dev, ino, uid, gid, mode, err, errlen) < 0 ||
	    (listen(fd, LISTEN_BACKLOG) < 0 &&
	     sock_err(err, errlen, "%s: %s", path, strerror(errno)))) {
		unlink(path);
		close(fd);
		return -1;
	}
	return fd;
}

Server *server_start(const TokendConfig *cfg, Snapshot *snap, Audit *audit,
		     char *err, size_t errlen)
{
	Server *s = calloc(1, sizeof *s);
	const TokenPolicy *pol = snap->pol;
	int fd;

	if (!s) {
		sock_err(err, errlen, "out of memory");
		return NULL;
	}
	s->path_is_override = cfg->socket_override != NULL;
	s->path = strdup(cfg->socket_override ? cfg->socket_override : pol->socket_path);
	s->rl = ratelimit_new(cfg->rate, cfg->burst);
	s->audit_rl = ratelimit_new(cfg->audit_rate, 4.0 * cfg->audit_rate + 1);
	s->ct = conntrack_new(cfg->request_timeout, cfg->max_conns_per_peer);
	if (!s->path || !s->rl || !s->audit_rl || !s->ct) {
		sock_err(err, errlen, "out of memory");
		goto fail;
	}
	fd = sock_create(s->path, pol->owner_uid, pol->group_gid, pol->mode, &s->dev,
			 &s->ino, err, errlen);
	if (fd < 0)
		goto fail;
	pthread_mutex_init(&s->lock, NULL);
	snapshot_ref(snap);
	s->snap = snap;
	s->audit = audit;
	s->leeway = cfg->leeway;
	s->max_lifetime = cfg->max_lifetime;
	s->low_s_only = cfg->low_s_only;
	s->mhd = MHD_start_daemon(
		MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ERROR_LOG,
		0, NULL, NULL, on_request, s,
		MHD_OPTION_EXTERNAL_LOGGER, http_mhd_log, s,
		MHD_OPTION_LISTEN_SOCKET, fd,
		MHD_OPTION_THREAD_POOL_SIZE, (unsigned)(cfg->threads > 1 ? cfg->threads : 0),
		MHD_OPTION_CONNECTION_LIMIT, (unsigned)cfg->max_conns,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)cfg->timeout_s,
		MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CONN_MEMORY,
		MHD_OPTION_NOTIFY_CONNECTION, on_connection, s,
		MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
		MHD_OPTION_END);
	if (!s->mhd) {
		sock_err(err, errlen, "%s: libmicrohttpd would not start", s->path);
		unlink(s->path);
		close(fd);
		snapshot_unref(s->snap);
		pthread_mutex_destroy(&s->lock);
		goto fail;
	}
	return s;
fail:
	conntrack_free(s->ct);
	ratelimit_free(s->audit_rl);
	ratelimit_free(s->rl);
	free(s->path);
	free(s);
	return NULL;
}

void server_set_snapshot(Server *s, Snapshot *snap)
{
	Snapshot *old;

	snapshot_ref(snap);
	pthread_mutex_lock(&s->lock);
	old = s->snap;
	s->snap = snap;
	pthread_mutex_unlock(&s->lock);
	snapshot_unref(old);
}

Snapshot *server_snapshot(Server *s)
{
	Snapshot *snap;

	pthread_mutex_lock(&s->lock);
	snap = s->snap;
	snapshot_ref(snap);
	pthread_mutex_unlock(&s->lock);
	return snap;
}

int server_check_socket(Server *s, const Snapshot *snap, char *err, size_t errlen)
{
	const TokenPolicy *pol = snap->pol;

	if (!s->path_is_override && strcmp(s->path, pol->socket_path))
		return sock_err(err, errlen, "the token socket would move from %s to "
				"%s: restart fp-tokend for that", s->path,
				pol->socket_path);
	return sock_own(s->path, &s->dev, &s->ino, pol->owner_uid, pol->group_gid,
			pol->mode, err, errlen);
}

void server_stop(Server *s)
{
	struct stat st;

	if (!s)
		return;
	MHD_stop_daemon(s->mhd);	/* closes the listening socket */
	if (lstat(s->path, &st) == 0 && st.st_dev == s->dev && st.st_ino == s->ino)
		unlink(s->path);
	snapshot_unref(s->snap);
	conntrack_free(s->ct);
	ratelimit_free(s->audit_rl);
	ratelimit_free(s->rl);
	pthread_mutex_destroy(&s->lock);
	free(s->path);
	free(s);
}
