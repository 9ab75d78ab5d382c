/* SPDX-License-Identifier: GPL-2.0-or-later */
/* http.c: what both daemons' libmicrohttpd front ends share: framing
 * checks, JSON replies with the common headers, the error log. */
#include "daemon.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Header counts of one request. */
typedef struct Framing {
	int content_length, transfer_encoding, authorization;
} Framing;

static enum MHD_Result count_framing(void *cls, enum MHD_ValueKind kind,
				     const char *key, const char *value)
{
	Framing *f = cls;

	(void)kind;
	(void)value;
	f->content_length += !strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH);
	f->transfer_encoding += !strcasecmp(key, MHD_HTTP_HEADER_TRANSFER_ENCODING);
	f->authorization += !strcasecmp(key, MHD_HTTP_HEADER_AUTHORIZATION);
	return MHD_YES;
}

/* see daemon.h */
const char *http_framing_error(struct MHD_Connection *c)
{
	Framing f = { 0 };

	MHD_get_connection_values(c, MHD_HEADER_KIND, count_framing, &f);
	if (f.content_length > 1)
		return "more than one Content-Length header";
	if (f.transfer_encoding > 1)
		return "more than one Transfer-Encoding header";
	if (f.content_length && f.transfer_encoding)
		return "both Content-Length and Transfer-Encoding";
	if (f.authorization > 1)
		return "more than one Authorization header";
	return NULL;
}

/* see daemon.h */
enum MHD_Result http_reply(struct MHD_Connection *c, unsigned status, char *body,
			   void (*free_body)(void *), const HttpHeader *extra,
			   size_t n, bool close)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	if (!free_body)
		free_body = free;
	if (!body)
		return MHD_NO;	/* out of memory: drop the connection */
	r = MHD_create_response_from_buffer_with_free_callback(strlen(body), body,
								 free_body);
	if (!r) {
		free_body(body);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	for (size_t i = 0; i < n; i++)
		if (extra[i].name)
			MHD_add_response_header(r, extra[i].name, extra[i].value);
	if (close)
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

/* see daemon.h */
char *http_json_line(json_t *o)
{
	char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
	size_t n;
	char *line;

	json_decref(o);
	if (!text)
		return NULL;
	n = strlen(text);
	line = realloc(text, n + 2);
	if (!line) {
		free(text);
		return NULL;
	}
	memcpy(line + n, "\n", 2);
	return line;
}

/* see daemon.h */
void http_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[512];
	size_t n;

	(void)cls;
	vsnprintf(msg, sizeof msg, fmt, ap);
	n = strlen(msg);
	while (n && msg[n - 1] == '\n')
		msg[--n] = '\0';
	daemon_log("libmicrohttpd: %s", msg);
}
