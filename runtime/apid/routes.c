/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * routes.c: the job API.
 *
 *   GET    /health                 no token
 *   POST   /jobs                   201 created, 200 for a known client_job_id
 *   GET    /jobs?status=S&limit=N  newest first, limit 1..100 (default 20)
 *   GET    /jobs/{id}
 *   GET    /jobs/{id}/output?tail=N   the last N lines (1..10000, default 100)
 *   DELETE /jobs/{id}              200 cancelled / 202 cancelling / 409 finished
 */
#include "apid.h"
#include "base.h"

#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

enum {
	LIST_DEFAULT = 20, LIST_MAX = 100,
	TAIL_DEFAULT = 100, TAIL_MAX = 10000,
	TAIL_BYTES = 1 << 20,	/* read at most the last MiB of a log */
};

/* see apid.h */
bool route_needs_auth(const char *method, const char *path)
{
	return !(!strcmp(path, "/health") && (!strcmp(method, "GET") || !strcmp(method, "HEAD")));
}

/* An ISO 8601 UTC time with milliseconds, or JSON null for 0. */
static json_t *time_json(int64_t ms)
{
	char buf[64];
	struct tm tm;
	time_t t = (time_t)(ms / 1000);

	if (!ms)
		return json_null();
	gmtime_r(&t, &tm);
	snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms % 1000));
	return json_string(buf);
}

static json_t *str_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

/* see apid.h */
json_t *job_to_json(const Job *j)
{
	json_t *o = json_object();

	json_object_set_new(o, "id", json_string(j->id));
	json_object_set_new(o, "client_job_id", str_or_null(j->client_job_id));
	json_object_set_new(o, "type", json_string(j->type));
	json_object_set_new(o, "status", json_string(job_status_name(j->status)));
	if (j->kind == FP_JOB_COMMAND) {
		json_object_set_new(o, "command", str_or_null(j->command));
	} else {
		json_object_set_new(o, "task", str_or_null(j->task));
		json_object_set_new(o, "context", str_or_null(j->context));
		json_object_set_new(o, "git_branch", str_or_null(j->git_branch));
	}
	json_object_set_new(o, "files_id", str_or_null(j->files_id));
	json_object_set_new(o, "image", str_or_null(j->image));
	json_object_set_new(o, "cpus", json_integer(j->cpus));
	json_object_set_new(o, "memory_gb", json_integer(j->memory_gb));
	json_object_set_new(o, "timeout_minutes", json_integer(j->timeout_minutes));
	json_object_set_new(o, "exit_code", j->has_exit_code ? json_integer(j->exit_code) : json_null());
	json_object_set_new(o, "error", str_or_null(j->error));
	json_object_set_new(o, "container", str_or_null(j->container));
	json_object_set_new(o, "created_at", time_json(j->created_ms));
	json_object_set_new(o, "started_at", time_json(j->started_ms));
	json_object_set_new(o, "finished_at", time_json(j->finished_ms));
	return o;
}

static void storage_error(ApiError *e)
{
	api_error_set(e, 503, "storage_unavailable", NULL,
		      "the job store could not be read or written; retry");
}

/* A fresh job id: 16 lower-case hex digits. */
static void new_job_id(char out[17])
{
	unsigned char rnd[8];

	if (getrandom(rnd, sizeof rnd, 0) != sizeof rnd)
		abort();
	for (int i = 0; i < 8; i++)
		snprintf(out + 2 * i, 3, "%02x", rnd[i]);
}

/* POST /jobs */
static void post_job(const Request *r, Reply *out, ApiError *e)
{
	const char *ct = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Content-Type");
	json_error_t jerr;
	json_t *body;
	Job j, existing = { 0 };
	char id[17];
	StoreResult sr;

	/* "application/json", optionally with parameters; absent is refused too */
	if (!ct || strncasecmp(ct, "application/json", 16) ||
	    (ct[16] && ct[16] != ';' && ct[16] != ' ' && ct[16] != '\t')) {
		api_error_set(e, 415, "unsupported_media_type",
			      json_pack("{s:s?}", "content_type", ct),
			      "the body must be application/json (Content-Type)");
		return;
	}
	body = json_loadb(r->body ? r->body : "", r->body_len, JSON_REJECT_DUPLICATES, &jerr);
	if (!body) {
		api_error_set(e, 400, "invalid_json",
			      json_pack("{s:i,s:i}", "line", jerr.line, "column", jerr.column),
			      "the body is not valid JSON: %s", jerr.text);
		return;
	}
	if (validate_job(r->env->bundle, body, &j, e) < 0) {
		json_decref(body);
		return;
	}
	json_decref(body);
	new_job_id(id);
	j.id = strdup(id);
	j.created_ms = now_ms();
	j.status = JOB_QUEUED;
	sr = store_insert(r->env->store, &j, &existing);
	if (sr == STORE_OK) {
		daemon_log("request %s: job %s queued (%s)", r->request_id, j.id, j.type);
		executor_wake(r->env->executor);
		out->http = 201;
		out->json = job_to_json(&j);
	} else if (sr == STORE_EXISTS) {
		out->http = 200;
		out->json = job_to_json(&existing);
	} else {
		storage_error(e);
	}
	job_clear(&existing);
	job_clear(&j);
}

/* A query argument as a number in min..max (def when absent): 0, or -1
 * and e. */
static int query_num(const Request *r, const char *name, long min, long max, long def,
		     long *out, ApiError *e)
{
	const char *v = MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, name);

	*out = def;
	if (!v)
		return 0;
	if (parse_long(v, min, max, out) == 0)
		return 0;
	api_error_set(e, 400, "invalid_query",
		      json_pack("{s:s,s:I,s:I}", "field", name, "min", (json_int_t)min,
				"max", (json_int_t)max),
		      "'%s' must be a number in %ld..%ld", name, min, max);
	return -1;
}

/* GET /jobs */
static void list_jobs(const Request *r, Reply *out, ApiError *e)
{
	const char *sv = MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, "status");
	int status = -1, n = 0;
	long limit;
	Job *jobs = NULL;
	json_t *arr;

	if (sv) {
		status = job_status_parse(sv);
		if (status < 0) {
			json_t *allowed = json_array();
			for (int i = 0; i < JOB_NSTATUS; i++)
				json_array_append_new(allowed, json_string(job_status_name((JobStatus)i)));
			api_error_set(e, 400, "invalid_query",
				      json_pack("{s:s,s:o}", "field", "status", "allowed", allowed),
				      "'status' is not a job status");
			return;
		}
	}
	if (query_num(r, "limit", 1, LIST_MAX, LIST_DEFAULT, &limit, e) < 0)
		return;
	if (store_list(r->env->store, status, (int)limit, &jobs, &n) != STORE_OK) {
		free(jobs);
		storage_error(e);
		return;
	}
	arr = json_array();
	for (int i = 0; i < n; i++) {
		json_array_append_new(arr, job_to_json(&jobs[i]));
		job_clear(&jobs[i]);
	}
	free(jobs);
	out->http = 200;
	out->json = json_pack("{s:o,s:i}", "jobs", arr, "count", n);
}

/* Load job id into j: 0, or -1 and e (404 or 503). */
static int load_job(const Request *r, const char *id, Job *j, ApiError *e)
{
	StoreResult sr = bundle_valid_id(id) ? store_get(r->env->store, id, j) : STORE_NOTFOUND;

	if (sr == STORE_OK)
		return 0;
	if (sr == STORE_NOTFOUND && bundle_valid_id(id))
		api_error_set(e, 404, "job_not_found", json_pack("{s:s}", "id", id),
			      "no job '%s'", id);
	else if (sr == STORE_NOTFOUND)
		api_error_set(e, 404, "job_not_found", NULL, "no such job");
	else
		storage_error(e);
	return -1;
}

/* Append s[0..n) to b with invalid UTF-8 and NUL replaced by U+FFFD. */
static void utf8_clean(Buf *b, const unsigned char *s, size_t n)
{
	for (size_t i = 0; i < n;) {
		int len = s[i] ? utf8_len(s + i, n - i) : 0;

		if (len) {
			buf_append(b, s + i, (size_t)len);
			i += (size_t)len;
		} else {
			buf_puts(b, "\xef\xbf\xbd");
			i++;
		}
	}
}

/* The last n lines of the file at path (at most TAIL_BYTES read) into b;
 * *lines gets how many. Missing file: empty. */
static int read_tail(const char *path, long n, Buf *b, long *lines, bool *truncated)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	struct stat st;
	off_t from;
	char *data;
	ssize_t got;
	size_t start;

	*lines = 0;
	*truncated = false;
	if (fd < 0)
		return errno == ENOENT ? 0 : -1;
	if (fstat(fd, &st) < 0) {
		close(fd);
		return -1;
	}
	from = st.st_size > TAIL_BYTES ? st.st_size - TAIL_BYTES : 0;
	data = malloc(TAIL_BYTES + 1);
	if (!data)
		abort();
	got = pread(fd, data, (size_t)(st.st_size - from), from);
	close(fd);
	if (got < 0) {
		free(data);
		return -1;
	}
	start = (size_t)got;
	if (start && data[start - 1] == '\n')
		start--;
	while (start > 0 && *lines < n) {
		start--;
		if (data[start] == '\n') {
			(*lines)++;
			if (*lines == n) {
				start++;
				break;
			}
		}
	}
	if (start == 0 && got > 0 && *lines < n)
		(*lines)++;
	*truncated = start > 0 || from > 0;
	utf8_clean(b, (unsigned char *)data + start, (size_t)got - start);
	free(data);
	return 0;
}

/* GET /jobs/{id}/output */
static void job_output(const Request *r, const char *id, Reply *out, ApiError *e)
{
	char path[4096];
	long tail, lines;
	bool truncated;
	Buf b = { 0 };
	Job j;

	if (query_num(r, "tail", 1, TAIL_MAX, TAIL_DEFAULT, &tail, e) < 0 ||
	    load_job(r, id, &j, e) < 0)
		return;
	snprintf(path, sizeof path, "%s/%s.log", r->env->cfg->log_dir, j.id);
	buf_puts(&b, "");
	if (read_tail(path, tail, &b, &lines, &truncated) < 0) {
		api_error_set(e, 500, "output_unavailable", NULL, "the job's log cannot be read");
	} else {
		out->http = 200;
		out->json = json_pack("{s:s,s:s,s:s%,s:I,s:b}", "id", j.id,
				      "status", job_status_name(j.status),
				      "output", b.data, b.len, "lines", (json_int_t)lines,
				      "truncated", truncated);
	}
	buf_free(&b);
	job_clear(&j);
}

/* DELETE /jobs/{id} */
static void delete_job(const Request *r, const char *id, Reply *out, ApiError *e)
{
	CancelResult cr;
	Job j;

	if (load_job(r, id, &j, e) < 0)
		return;
	job_clear(&j);
	cr = executor_cancel(r->env->executor, id);
	switch (cr) {
	case CANCEL_DONE:
	case CANCEL_STARTED:
		if (load_job(r, id, &j, e) < 0)
			return;
		out->http = cr == CANCEL_DONE ? 200 : 202;
		out->json = job_to_json(&j);
		job_clear(&j);
		return;
	case CANCEL_FINISHED:
		if (load_job(r, id, &j, e) < 0)
			return;
		api_error_set(e, 409, "job_finished",
			      json_pack("{s:s,s:s}", "id", id, "status", job_status_name(j.status)),
			      "job '%s' has already finished (%s)", id, job_status_name(j.status));
		job_clear(&j);
		return;
	case CANCEL_NOTFOUND:
		api_error_set(e, 404, "job_not_found", json_pack("{s:s}", "id", id), "no job '%s'", id);
		return;
	case CANCEL_ERROR:
		storage_error(e);
		return;
	default:
		BUG("cancel result %d", (int)cr);
	}
}

static void method_not_allowed(ApiError *e, const char *allowed)
{
	api_error_set(e, 405, "method_not_allowed", json_pack("{s:s}", "allowed", allowed),
		      "allowed here: %s", allowed);
}

/* see apid.h */
void route_dispatch(const Request *r, Reply *out, ApiError *e)
{
	const char *p = r->path, *m = r->method;
	char id[APID_ID_MAX + 1];
	const char *rest;
	size_t n;

	if (!strcmp(p, "/health")) {
		if (strcmp(m, "GET") && strcmp(m, "HEAD")) {
			method_not_allowed(e, "GET");
			return;
		}
		out->http = 200;
		out->json = json_pack("{s:s,s:s,s:s,s:s}", "status", "healthy",
				      "version", APID_VERSION,
				      "policy", bundle_policy_name(r->env->bundle),
				      "policy_sha256", bundle_policy_sha256(r->env->bundle));
		return;
	}
	if (!strcmp(p, "/jobs")) {
		if (!strcmp(m, "POST"))
			post_job(r, out, e);
		else if (!strcmp(m, "GET"))
			list_jobs(r, out, e);
		else
			method_not_allowed(e, "GET, POST");
		return;
	}
	if (strncmp(p, "/jobs/", 6))
		goto notfound;
	n = strcspn(p + 6, "/");
	rest = p + 6 + n;
	if (!n || n > APID_ID_MAX)
		goto notfound;
	memcpy(id, p + 6, n);
	id[n] = '\0';
	if (!*rest) {
		if (!strcmp(m, "GET")) {
			Job j;
			if (load_job(r, id, &j, e) < 0)
				return;
			out->http = 200;
			out->json = job_to_json(&j);
			job_clear(&j);
		} else if (!strcmp(m, "DELETE")) {
			delete_job(r, id, out, e);
		} else {
			method_not_allowed(e, "GET, DELETE");
		}
		return;
	}
	if (!strcmp(rest, "/output")) {
		if (strcmp(m, "GET"))
			method_not_allowed(e, "GET");
		else
			job_output(r, id, out, e);
		return;
	}
notfound:
	api_error_set(e, 404, "not_found", json_pack("{s:s}", "path", p), "no such route");
}
