/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * server.c: HTTP with libmicrohttpd (epoll, internal thread pool). Every
 * request passes, in this order: the peer allowlist of the bundle's trust
 * table (403 before anything else), the rate limit (429), the header
 * limit (431), the bearer token (401; not for GET /health), the body
 * limit (413); then routes.c answers. Every answer carries X-Request-Id.
 * A reaper thread closes connections that have not delivered a whole
 * request within --request-timeout (slow clients).
 */
#include "apid.h"
#include "base.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

/* One TCP connection, for the reaper. */
typedef struct Conn {
	struct Conn *prev, *next;
	int fd;
	double since;		/* start, or end of its last request */
	bool closing;
} Conn;

struct Server {
	ServerEnv env;
	struct MHD_Daemon *mhd;
	pthread_t reaper;
	pthread_mutex_t lock;	/* guards conns, stopping */
	pthread_cond_t cond;
	bool stopping;
	Conn *conns;
};

/* One request's state across the calls of the access handler. */
typedef struct ReqState {
	char rid[72];
	Buf body;
	bool too_large;
	bool answered;
	int http;
	double t0;
} ReqState;

/* ---- listening ---------------------------------------------------------- */

/* Parse "ADDR:PORT" or "[V6]:PORT" into ss. */
static int parse_hostport(const char *s, struct sockaddr_storage *ss, socklen_t *len)
{
	char host[128];
	const char *colon;
	long port;

	memset(ss, 0, sizeof *ss);
	if (s[0] == '[') {
		const char *end = strchr(s, ']');
		if (!end || end[1] != ':' || (size_t)(end - s - 1) >= sizeof host)
			return -1;
		memcpy(host, s + 1, (size_t)(end - s - 1));
		host[end - s - 1] = '\0';
		colon = end + 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon || (size_t)(colon - s) >= sizeof host)
			return -1;
		memcpy(host, s, (size_t)(colon - s));
		host[colon - s] = '\0';
	}
	if (parse_long(colon + 1, 1, 65535, &port) < 0)
		return -1;
	struct sockaddr_in *v4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)ss;
	if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
		v4->sin_family = AF_INET;
		v4->sin_port = htons((uint16_t)port);
		*len = sizeof *v4;
		return 0;
	}
	if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
		v6->sin6_family = AF_INET6;
		v6->sin6_port = htons((uint16_t)port);
		*len = sizeof *v6;
		return 0;
	}
	return -1;
}

/* see apid.h */
int server_listen(const ApidConfig *cfg, const FpBundle *b, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t len = 0;
	char where[160];
	int fd, one = 1;

	if (cfg->listen) {
		snprintf(where, sizeof where, "%s", cfg->listen);
	} else {
		const FpService *svc = bundle_service(b, cfg->service);
		if (!svc || svc->kind != FP_SVC_TCP || svc->port_lo != svc->port_hi) {
			snprintf(err, errlen, "the policy has no single-port tcp service '%s'",
				 cfg->service);
			return -1;
		}
		if (svc->listen && strchr(svc->listen, ':'))
			snprintf(where, sizeof where, "[%s]:%d", svc->listen, svc->port_lo);
		else
			snprintf(where, sizeof where, "%s:%d",
				 svc->listen ? svc->listen : "0.0.0.0", svc->port_lo);
	}
	if (parse_hostport(where, &ss, &len) < 0) {
		snprintf(err, errlen, "listen address '%s' is not ADDR:PORT", where);
		return -1;
	}
	/* free-bind: at boot the policy's address (on wg0) may not be up yet */
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
	    (ss.ss_family == AF_INET6
		     ? setsockopt(fd, IPPROTO_IPV6, IPV6_FREEBIND, &one, sizeof one)
		     : setsockopt(fd, IPPROTO_IP, IP_FREEBIND, &one, sizeof one)) < 0 ||
	    bind(fd, (struct sockaddr *)&ss, len) < 0 || listen(fd, 512) < 0) {
		snprintf(err, errlen, "listen on %s: %s", where, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	apid_log("listening on %s (service %s)", where, cfg->service);
	return fd;
}

/* ---- replies ------------------------------------------------------------ */

/* Queue status with body json (consumed) and the headers every answer
 * carries. */
static enum MHD_Result send_json(struct MHD_Connection *c, ReqState *rs, int status,
				 json_t *json, const char *extra_hdr, const char *extra_val)
{
	char *text = json_dumps(json, JSON_COMPACT);
	size_t len;
	struct MHD_Response *resp;
	enum MHD_Result r;

	json_decref(json);
	if (!text)
		abort();
	len = strlen(text);
	text = realloc(text, len + 2);
	if (!text)
		abort();
	text[len++] = '\n';
	resp = MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE);
	MHD_add_response_header(resp, "Content-Type", "application/json");
	MHD_add_response_header(resp, "X-Request-Id", rs->rid);
	MHD_add_response_header(resp, "Cache-Control", "no-store");
	if (extra_hdr)
		MHD_add_response_header(resp, extra_hdr, extra_val);
	r = MHD_queue_response(c, (unsigned)status, resp);
	MHD_destroy_response(resp);
	rs->http = status;
	rs->answered = true;
	return r;
}

/* Queue the error e in CONTEXT.md's format. */
static enum MHD_Result send_error(struct MHD_Connection *c, ReqState *rs, ApiError *e)
{
	json_t *details = e->details ? json_incref(e->details) : json_object();
	json_t *j = json_pack("{s:s,s:s,s:o}", "error", e->code, "message", e->message,
			      "details", details);
	const char *hdr = NULL;
	char val[32] = "";
	enum MHD_Result r;

	if (!j)		/* a message or detail that is not UTF-8 */
		j = json_pack("{s:s,s:s,s:{}}", "error", e->code, "message",
			      "(the message could not be encoded)", "details");

	if (e->http == 401) {
		hdr = "WWW-Authenticate";
		snprintf(val, sizeof val, "Bearer");
	} else if (e->http == 429) {
		hdr = "Retry-After";
		snprintf(val, sizeof val, "%lld", (long long)json_integer_value(
				 json_object_get(details, "retry_after_seconds")));
	}
	r = send_json(c, rs, e->http, j, hdr, val);
	api_error_clear(e);
	return r;
}

/* ---- request ids -------------------------------------------------------- */

/* The client's X-Request-Id if it is [A-Za-z0-9._-]{1,64}, else a fresh
 * random one. */
static void request_id(struct MHD_Connection *c, char *out, size_t outlen)
{
	const char *v = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Request-Id");
	unsigned char rnd[8];
	size_t n = v ? strlen(v) : 0;
	bool ok = n > 0 && n <= 64;

	for (size_t i = 0; ok && i < n; i++) {
		char ch = v[i];
		ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		     (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' || ch == '-';
	}
	if (ok) {
		snprintf(out, outlen, "%s", v);
		return;
	}
	if (getrandom(rnd, sizeof rnd, 0) != sizeof rnd)
		abort();
	for (size_t i = 0; i < sizeof rnd; i++)
		snprintf(out + 2 * i, outlen - 2 * i, "%02x", rnd[i]);
}

/* ---- the gate: peer, rate, headers, token, length ----------------------- */

static enum MHD_Result count_header(void *cls, enum MHD_ValueKind kind,
				   const char *key, const char *value)
{
	(void)kind;
	*(size_t *)cls += strlen(key) + (value ? strlen(value) : 0) + 4;
	return MHD_YES;
}

static void peer_text(const struct sockaddr *sa, char *out, size_t len)
{
	snprintf(out, len, "?");
	if (sa && sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, out, (socklen_t)len);
	else if (sa && sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, out, (socklen_t)len);
}

/* Decide the request before its body is read: 0 to go on, or -1 with e
 * set (the answer). */
static int gate(Server *s, struct MHD_Connection *c, const char *url,
		const char *method, ReqState *rs, ApiError *e)
{
	const ServerEnv *env = &s->env;
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *sa = ci ? ci->client_addr : NULL;
	size_t hdr = strlen(url) + strlen(method);
	const char *cl;
	char peer[64];
	int wait;
	long n;

	if (!sa || !bundle_peer_allowed(env->bundle, env->cfg->service, sa)) {
		peer_text(sa, peer, sizeof peer);
		apid_log("request %s: peer %s refused: the policy does not allow it to reach %s",
			 rs->rid, peer, env->cfg->service);
		api_error_set(e, 403, "source_not_allowed",
			      json_pack("{s:s,s:s}", "peer", peer, "service", env->cfg->service),
			      "the policy does not allow this peer to reach %s",
			      env->cfg->service);
		return -1;
	}
	wait = ratelimit_take(env->rl, ratekey_addr(sa), mono_now());
	if (wait) {
		api_error_set(e, 429, "rate_limited",
			      json_pack("{s:i}", "retry_after_seconds", wait),
			      "too many requests; retry after %d s", wait);
		return -1;
	}
	MHD_get_connection_values(c, MHD_HEADER_KIND, count_header, &hdr);
	if (hdr > (size_t)env->cfg->max_headers) {
		api_error_set(e, 431, "headers_too_large",
			      json_pack("{s:I}", "max_bytes", (json_int_t)env->cfg->max_headers),
			      "the request line and headers exceed %ld bytes",
			      env->cfg->max_headers);
		return -1;
	}
	if (route_needs_auth(method, url)) {
		AuthResult ar = auth_check(env->token,
			MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization"));
		if (ar != AUTH_OK) {
			peer_text(sa, peer, sizeof peer);
			apid_log("request %s: peer %s: %s", rs->rid, peer,
				 ar == AUTH_MISSING ? "no token" : ar == AUTH_MALFORMED ?
				 "malformed Authorization" : "wrong token");
		}
		switch (ar) {
		case AUTH_OK:
			break;
		case AUTH_MISSING:
			api_error_set(e, 401, "missing_authorization", NULL,
				      "an Authorization: Bearer token is required");
			return -1;
		case AUTH_MALFORMED:
			api_error_set(e, 401, "malformed_authorization", NULL,
				      "the Authorization header must be 'Bearer <token>'");
			return -1;
		case AUTH_INVALID:
			api_error_set(e, 401, "invalid_token", NULL, "the token is not valid");
			return -1;
		default:
			BUG("auth result %d", (int)ar);
		}
	}
	cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
	if (cl && (parse_long(cl, 0, LONG_MAX, &n) < 0 || n > env->cfg->max_body)) {
		api_error_set(e, 413, "payload_too_large",
			      json_pack("{s:I}", "max_bytes", (json_int_t)env->cfg->max_body),
			      "the body exceeds %ld bytes", env->cfg->max_body);
		return -1;
	}
	return 0;
}

/* ---- the access handler ------------------------------------------------- */

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c,
				  const char *url, const char *method,
				  const char *version, const char *upload_data,
				  size_t *upload_size, void **req_cls)
{
	Server *s = cls;
	ReqState *rs = *req_cls;
	ApiError e = { 0 };
	Request r;
	Reply out = { 0 };

	(void)version;
	if (!rs) {
		rs = calloc(1, sizeof *rs);
		if (!rs)
			abort();
		rs->t0 = mono_now();
		request_id(c, rs->rid, sizeof rs->rid);
		*req_cls = rs;
		if (gate(s, c, url, method, rs, &e) < 0)
			return send_error(c, rs, &e);
		return MHD_YES;
	}
	if (rs->answered)
		return MHD_NO;
	if (*upload_size) {
		if (rs->body.len + *upload_size > (size_t)s->env.cfg->max_body)
			rs->too_large = true;
		else
			buf_append(&rs->body, upload_data, *upload_size);
		*upload_size = 0;
		return MHD_YES;
	}
	if (rs->too_large) {
		api_error_set(&e, 413, "payload_too_large",
			      json_pack("{s:I}", "max_bytes", (json_int_t)s->env.cfg->max_body),
			      "the body exceeds %ld bytes", s->env.cfg->max_body);
		return send_error(c, rs, &e);
	}
	r = (Request){ .env = &s->env, .method = method, .path = url,
		       .request_id = rs->rid, .conn = c,
		       .body = rs->body.data, .body_len = rs->body.len };
	route_dispatch(&r, &out, &e);
	if (e.code)
		return send_error(c, rs, &e);
	return send_json(c, rs, out.http, out.json, NULL, NULL);
}

/* A request is over: log it, mark its connection's progress, free. */
static void on_completed(void *cls, struct MHD_Connection *c, void **req_cls,
			 enum MHD_RequestTerminationCode toe)
{
	Server *s = cls;
	ReqState *rs = *req_cls;
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

	(void)toe;
	if (ci && ci->socket_context) {
		pthread_mutex_lock(&s->lock);
		((Conn *)ci->socket_context)->since = mono_now();
		pthread_mutex_unlock(&s->lock);
	}
	if (!rs)
		return;
	if (s->env.cfg->access_log)
		apid_log("request %s: %d in %.1f ms", rs->rid, rs->http,
			 (mono_now() - rs->t0) * 1000.0);
	buf_free(&rs->body);
	free(rs);
	*req_cls = NULL;
}

/* Track connections for the reaper. */
static void on_connection(void *cls, struct MHD_Connection *c, void **socket_ctx,
			  enum MHD_ConnectionNotificationCode code)
{
	Server *s = cls;
	Conn *cn;

	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		const union MHD_ConnectionInfo *ci =
			MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
		cn = calloc(1, sizeof *cn);
		if (!cn)
			abort();
		cn->fd = ci ? ci->connect_fd : -1;
		cn->since = mono_now();
		pthread_mutex_lock(&s->lock);
		cn->next = s->conns;
		if (s->conns)
			s->conns->prev = cn;
		s->conns = cn;
		pthread_mutex_unlock(&s->lock);
		*socket_ctx = cn;
		return;
	}
	cn = *socket_ctx;
	if (!cn)
		return;
	pthread_mutex_lock(&s->lock);
	if (cn->prev)
		cn->prev->next = cn->next;
	else
		s->conns = cn->next;
	if (cn->next)
		cn->next->prev = cn->prev;
	pthread_mutex_unlock(&s->lock);
	free(cn);
	*socket_ctx = NULL;
}

/* Close (shut down) connections that sat on one request too long. The fd
 * is still MHD's: it closes it after telling on_connection, which needs
 * the lock we hold, so the fd cannot be reused under us. */
static void *reaper_main(void *arg)
{
	Server *s = arg;
	double limit = (double)s->env.cfg->request_timeout;

	pthread_mutex_lock(&s->lock);
	while (!s->stopping) {
		struct timespec ts;
		double now = mono_now();

		for (Conn *cn = s->conns; cn; cn = cn->next)
			if (!cn->closing && cn->fd >= 0 && now - cn->since > limit) {
				shutdown(cn->fd, SHUT_RDWR);
				cn->closing = true;
			}
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 250 * 1000 * 1000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		pthread_cond_timedwait(&s->cond, &s->lock, &ts);
	}
	pthread_mutex_unlock(&s->lock);
	return NULL;
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	char buf[512];

	(void)cls;
	vsnprintf(buf, sizeof buf, fmt, ap);
	buf[strcspn(buf, "\n")] = '\0';
	apid_log("http: %s", buf);
}

/* see apid.h */
Server *server_start(const ServerEnv *env, int fd, char *err, size_t errlen)
{
	Server *s = calloc(1, sizeof *s);
	size_t mem = (size_t)env->cfg->max_headers + 16384;
	int rc;

	if (!s)
		abort();
	s->env = *env;
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->cond, NULL);
	if (mem < 32768)
		mem = 32768;
	s->mhd = MHD_start_daemon(MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ERROR_LOG |
				  MHD_USE_TURBO, 0, NULL, NULL, on_request, s,
				  MHD_OPTION_EXTERNAL_LOGGER, mhd_log, s,
				  MHD_OPTION_LISTEN_SOCKET, fd,
				  MHD_OPTION_THREAD_POOL_SIZE, (unsigned)env->cfg->threads,
				  MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)env->cfg->request_timeout,
				  MHD_OPTION_CONNECTION_MEMORY_LIMIT, mem,
				  MHD_OPTION_CONNECTION_LIMIT, (unsigned)1024,
				  MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)256,
				  MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
				  MHD_OPTION_NOTIFY_CONNECTION, on_connection, s,
				  MHD_OPTION_END);
	if (!s->mhd) {
		snprintf(err, errlen, "cannot start the HTTP server");
		goto fail;
	}
	rc = pthread_create(&s->reaper, NULL, reaper_main, s);
	if (rc) {
		snprintf(err, errlen, "reaper thread: %s", strerror(rc));
		MHD_stop_daemon(s->mhd);
		goto fail;
	}
	return s;
fail:
	pthread_cond_destroy(&s->cond);
	pthread_mutex_destroy(&s->lock);
	free(s);
	return NULL;
}

/* see apid.h */
void server_stop(Server *s)
{
	if (!s)
		return;
	pthread_mutex_lock(&s->lock);
	s->stopping = true;
	pthread_cond_signal(&s->cond);
	pthread_mutex_unlock(&s->lock);
	pthread_join(s->reaper, NULL);
	MHD_stop_daemon(s->mhd);
	pthread_cond_destroy(&s->cond);
	pthread_mutex_destroy(&s->lock);
	free(s);
}
