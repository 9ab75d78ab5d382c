/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * server.c: HTTP with libmicrohttpd (epoll, internal thread pool). A peer
 * the bundle's trust table does not allow to reach the service is refused
 * when its connection is accepted, before a byte is read (libmicrohttpd's
 * accept policy). Every request then passes, in this order: framing (400
 * and close for two Content-Length or Transfer-Encoding headers, both, or
 * two Authorization headers), the allowlist again (403), the rate limit
 * (429), the header limit (431), the bearer token (401; not for GET
 * /health), the body limit (413); then routes.c answers. Every answer
 * carries X-Request-Id. Connections that have not delivered a whole request
 * within --request-timeout are shut down (runtime/lib's ConnTrack).
 */
#include "apid.h"
#include "base.h"

#include <arpa/inet.h>
#include <ctype.h>
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

struct Server {
	ServerEnv env;
	struct MHD_Daemon *mhd;
	ConnTrack *ct;		/* the whole-request deadline */
	double refused_logged;	/* when a refused peer was last logged */
	RateKey refused_peer;	/* ... which one */
	unsigned long refused;	/* refused since then */
	pthread_mutex_t lock;	/* guards refused_logged, refused_peer, refused */
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
int api_server_listen(const ApidConfig *cfg, const FpBundle *b, char *err, size_t errlen)
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
	daemon_log("listening on %s (service %s)", where, cfg->service);
	return fd;
}

/* ---- replies ------------------------------------------------------------ */

/* Queue status with body json (consumed), X-Request-Id and the headers
 * every answer carries (http_reply), one more if extra_hdr; with close, the
 * connection is closed after it. */
static enum MHD_Result send_json(struct MHD_Connection *c, ReqState *rs, int status,
				 json_t *json, const char *extra_hdr, const char *extra_val,
				 bool close)
{
	HttpHeader h[2] = { { "X-Request-Id", rs->rid }, { extra_hdr, extra_val } };
	char *text = http_json_line(json);

	if (!text)
		abort();
	rs->http = status;
	rs->answered = true;
	return http_reply(c, (unsigned)status, text, NULL, h, 2, close);
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
	r = send_json(c, rs, e->http, j, hdr, val, e->http == 400 && !strcmp(e->code, "bad_request"));
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
	const char *bad = http_framing_error(c);
	int wait;
	long n;

	if (bad) {
		api_error_set(e, 400, "bad_request", json_pack("{s:s}", "reason", bad),
			      "the request is framed ambiguously: %s", bad);
		return -1;
	}
	if (!sa || !bundle_peer_allowed(env->bundle, env->cfg->service, sa)) {
		peer_text(sa, peer, sizeof peer);
		daemon_log("request %s: peer %s refused: the policy does not allow it to reach %s",
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
		AuthResult ar = auth_token_check(env->token,
			MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization"));
		if (ar != AUTH_OK) {
			peer_text(sa, peer, sizeof peer);
			daemon_log("request %s: peer %s: %s", rs->rid, peer,
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
	return send_json(c, rs, out.http, out.json, NULL, NULL, false);
}

/* A request is over: log it, restart its connection's deadline, free. */
static void on_completed(void *cls, struct MHD_Connection *c, void **req_cls,
			 enum MHD_RequestTerminationCode toe)
{
	Server *s = cls;
	ReqState *rs = *req_cls;
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

	(void)toe;
	if (ci)
		conntrack_done(s->ct, ci->socket_context);
	if (!rs)
		return;
	if (s->env.cfg->access_log)
		daemon_log("request %s: %d in %.1f ms", rs->rid, rs->http,
			   (mono_now() - rs->t0) * 1000.0);
	buf_free(&rs->body);
	free(rs);
	*req_cls = NULL;
}

/* Track connections for the request deadline (one key: the per-address
 * cap is libmicrohttpd's). */
static void on_connection(void *cls, struct MHD_Connection *c, void **socket_ctx,
			  enum MHD_ConnectionNotificationCode code)
{
	Server *s = cls;
	RateKey none = { { 0 } };

	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		const union MHD_ConnectionInfo *ci =
			MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
		*socket_ctx = conntrack_add(s->ct, ci ? ci->connect_fd : -1, none);
		return;
	}
	conntrack_remove(s->ct, *socket_ctx);
	*socket_ctx = NULL;
}

/* libmicrohttpd's accept policy: a peer the trust table does not let reach
 * this service is closed before anything is read from it. A refusal is
 * logged when it comes from another peer than the last one logged, else
 * at most once a second, with how many there were. */
static enum MHD_Result on_accept(void *cls, const struct sockaddr *addr, socklen_t len)
{
	Server *s = cls;
	char peer[64];
	RateKey key = ratekey_addr(addr);
	double now;
	unsigned long n = 0;

	(void)len;
	if (addr && bundle_peer_allowed(s->env.bundle, s->env.cfg->service, addr))
		return MHD_YES;
	now = mono_now();
	pthread_mutex_lock(&s->lock);
	s->refused++;
	if (now - s->refused_logged >= 1.0 || memcmp(&key, &s->refused_peer, sizeof key)) {
		n = s->refused;
		s->refused = 0;
		s->refused_logged = now;
		s->refused_peer = key;
	}
	pthread_mutex_unlock(&s->lock);
	if (n) {
		peer_text(addr, peer, sizeof peer);
		daemon_log("peer %s refused at connect: the policy does not allow it to "
			   "reach %s (%lu refused connections since the last such line)", peer,
			   s->env.cfg->service, n);
	}
	return MHD_NO;
}

/* Decode %XX in a URL path or argument in place, but never %00: a NUL
 * would cut the path short ("/jobs%00/x" routing as "/jobs"), so it stays
 * as the three characters and matches no route. Returns the new length. */
static size_t unescape_no_nul(void *cls, struct MHD_Connection *c, char *s)
{
	char *w = s;

	(void)cls;
	(void)c;
	for (const char *r = s; *r; r++) {
		unsigned v;

		if (r[0] == '%' && isxdigit((unsigned char)r[1]) &&
		    isxdigit((unsigned char)r[2]) && sscanf(r + 1, "%2x", &v) == 1 && v) {
			*w++ = (char)v;
			r += 2;
		} else {
			*w++ = *r;
		}
	}
	*w = '\0';
	return (size_t)(w - s);
}

/* see apid.h */
Server *api_server_start(const ServerEnv *env, int fd, char *err, size_t errlen)
{
	Server *s = calloc(1, sizeof *s);
	size_t mem = (size_t)env->cfg->max_headers + 16384;

	if (!s)
		abort();
	s->env = *env;
	pthread_mutex_init(&s->lock, NULL);
	s->ct = conntrack_new((double)env->cfg->request_timeout, INT_MAX);
	if (!s->ct) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if (mem < 32768)
		mem = 32768;
	s->mhd = MHD_start_daemon(MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ERROR_LOG | MHD_USE_ITC |
				  MHD_USE_TURBO, 0, on_accept, s, on_request, s,
				  MHD_OPTION_EXTERNAL_LOGGER, http_mhd_log, s,
				  MHD_OPTION_LISTEN_SOCKET, fd,
				  MHD_OPTION_THREAD_POOL_SIZE, (unsigned)env->cfg->threads,
				  MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)env->cfg->request_timeout,
				  MHD_OPTION_CONNECTION_MEMORY_LIMIT, mem,
				  MHD_OPTION_CONNECTION_LIMIT, (unsigned)1024,
				  MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)256,
				  MHD_OPTION_UNESCAPE_CALLBACK, unescape_no_nul, s,
				  MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
				  MHD_OPTION_NOTIFY_CONNECTION, on_connection, s,
				  MHD_OPTION_END);
	if (!s->mhd) {
		snprintf(err, errlen, "cannot start the HTTP server");
		goto fail;
	}
	return s;
fail:
	conntrack_free(s->ct);
	pthread_mutex_destroy(&s->lock);
	free(s);
	return NULL;
}

/* see apid.h */
int api_server_add_connection(Server *s, int fd, const struct sockaddr *sa, socklen_t len)
{
	return MHD_add_connection(s->mhd, fd, sa, len) == MHD_YES ? 0 : -1;
}

/* see apid.h */
void api_server_stop(Server *s)
{
	if (!s)
		return;
	MHD_stop_daemon(s->mhd);
	conntrack_free(s->ct);
	pthread_mutex_destroy(&s->lock);
	free(s);
}
