/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * audit.c: one JSON line per token exchange, appended with a single write()
 * so concurrent lines never interleave. A line that cannot be written in
 * full makes the caller refuse the request: no secret leaves unrecorded.
 * Secret names are logged, values never. The file is bounded: past its
 * size limit it becomes PATH.1 (one generation kept) and a new one starts;
 * SIGHUP reopens it for external rotation (logrotate).
 */
#include "tokend.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

struct Audit {
	pthread_mutex_t lock;
	int fd;
	char *path;	/* NULL: standard error */
	long long max_bytes;
};

/* Open path for appending, created 0600; -1 with a message. */
static int audit_open_fd(const char *path, char *err, size_t errlen)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY |
			    O_NOFOLLOW, 0600);

	if (fd < 0)
		snprintf(err, errlen, "audit log %s: %s", path, strerror(errno));
	return fd;
}

Audit *audit_open(const char *path, long long max_bytes, char *err, size_t errlen)
{
	Audit *a = calloc(1, sizeof *a);

	if (!a) {
		snprintf(err, errlen, "audit log: out of memory");
		return NULL;
	}
	a->fd = STDERR_FILENO;
	a->max_bytes = max_bytes;
	if (path) {
		a->path = strdup(path);
		a->fd = a->path ? audit_open_fd(path, err, errlen) : -1;
		if (a->fd < 0) {
			if (!a->path)
				snprintf(err, errlen, "audit log: out of memory");
			free(a->path);
			free(a);
			return NULL;
		}
	}
	pthread_mutex_init(&a->lock, NULL);
	return a;
}

int audit_reopen(Audit *a, char *err, size_t errlen)
{
	int fd, old;

	if (!a->path)
		return 0;
	fd = audit_open_fd(a->path, err, errlen);
	if (fd < 0)
		return -1;
	pthread_mutex_lock(&a->lock);
	old = a->fd;
	a->fd = fd;
	pthread_mutex_unlock(&a->lock);
	close(old);
	return 0;
}

void audit_close(Audit *a)
{
	if (!a)
		return;
	if (a->path)
		close(a->fd);
	pthread_mutex_destroy(&a->lock);
	free(a->path);
	free(a);
}

/* The current UTC time as 2026-01-02T03:04:05.678Z into out. */
static void audit_time(char *out, size_t n)
{
	struct timespec ts;
	struct tm tm;
	char sec[32];

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(sec, sizeof sec, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out, n, "%s.%03ldZ", sec, ts.tv_nsec / 1000000);
}

/* A JSON string, or null for NULL or "". */
static json_t *audit_str(const char *s)
{
	return s && s[0] ? json_string(s) : json_null();
}

/* The audit record of ev as one line with its newline; NULL on failure.
 * The caller frees. */
static char *audit_line(const AuditEvent *ev, size_t *len)
{
	char when[48];
	json_t *o, *names = json_array();
	char *text, *line = NULL;

	audit_time(when, sizeof when);
	for (int i = 0; names && i < ev->n_secrets; i++)
		json_array_append_new(names, json_string(ev->secrets[i]));
	o = json_pack("{s:s, s:s, s:I, s:I, s:I, s:o, s:o, s:o, s:s, s:i, s:o, s:o, s:o*}",
		      "time", when, "event", "token_exchange",
		      "pid", (json_int_t)ev->pid, "uid", (json_int_t)ev->uid,
		      "gid", (json_int_t)ev->gid,
		      "spiffe_id", audit_str(ev->spiffe_id), "kid", audit_str(ev->kid),
		      "identity", audit_str(ev->identity),
		      "decision", ev->error ? "deny" : "allow", "status", ev->status,
		      "error", audit_str(ev->error),
		      "reason", audit_str(ev->error ? ev->reason : NULL),
		      "secrets", names);
	if (o && ev->container && ev->container[0])
		json_object_set_new(o, "container", json_string(ev->container));
	if (o && ev->suppressed)
		json_object_set_new(o, "suppressed_refusals",
				    json_integer((json_int_t)ev->suppressed));
	text = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	if (text) {
		*len = strlen(text);
		line = realloc(text, *len + 2);
		if (!line) {
			free(text);
			return NULL;
		}
		line[(*len)++] = '\n';
		line[*len] = '\0';
	}
	return line;
}

/* Past the size limit: PATH becomes PATH.1 and a new PATH is opened. A
 * failure keeps the current file (the next line tries again). */
static void audit_rotate_locked(Audit *a)
{
	struct stat st;
	char old[4096], err[256];
	int fd;

	if (!a->path || fstat(a->fd, &st) < 0 || st.st_size < a->max_bytes)
		return;
	snprintf(old, sizeof old, "%s.1", a->path);
	if (rename(a->path, old) < 0) {
		daemon_log("audit log %s: cannot rotate: %s", a->path, strerror(errno));
		return;
	}
	fd = audit_open_fd(a->path, err, sizeof err);
	if (fd < 0) {
		daemon_log("%s", err);
		return;
	}
	close(a->fd);
	a->fd = fd;
}

int audit_write(Audit *a, const AuditEvent *ev)
{
	size_t len = 0;
	char *line = audit_line(ev, &len);
	ssize_t w;

	if (!line)
		return -1;
	pthread_mutex_lock(&a->lock);
	do
		w = write(a->fd, line, len);
	while (w < 0 && errno == EINTR);
	if (w == (ssize_t)len)
		audit_rotate_locked(a);
	pthread_mutex_unlock(&a->lock);
	free(line);
	return w == (ssize_t)len ? 0 : -1;
}
