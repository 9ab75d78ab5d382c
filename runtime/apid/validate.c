/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * validate.c: a POST /jobs body checked against the bundle. Every
 * rejection names one field: 400 with a precise code and
 * details.field.
 */
#include "apid.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

enum {
	TEXT_MAX = 100 * 1024,	/* command, task, context: one argv element */
	BRANCH_MAX = 200,
	IMAGE_MAX = 255,
};

/* see apid.h */
void api_error_set(ApiError *e, int http, const char *code, json_t *details,
		   const char *fmt, ...)
{
	va_list ap;

	e->http = http;
	e->code = code;
	json_decref(e->details);
	e->details = details;
	va_start(ap, fmt);
	vsnprintf(e->message, sizeof e->message, fmt, ap);
	va_end(ap);
}

/* see apid.h */
void api_error_clear(ApiError *e)
{
	json_decref(e->details);
	memset(e, 0, sizeof *e);
}

/* A 400 about one field. */
#define field_error(e, code, field, ...) \
	api_error_set((e), 400, (code), json_pack("{s:s}", "field", (field)), __VA_ARGS__)

/* see apid.h: the privilege named "agent" runs agent-style jobs
 * (/entrypoint.sh with FLASHPODS_* variables), every other privilege
 * command-style ones (/bin/sh -c COMMAND), as CONTEXT.md describes. */
FpJobKind job_kind_for(const FpPrivilege *p)
{
	return strcmp(p->name, "agent") ? FP_JOB_COMMAND : FP_JOB_AGENT;
}

/* see apid.h */
char *template_fill(const char *tmpl, const char *job_id, const char *upload_id,
		    const char *privilege)
{
	static const char *const names[] = { "{job_id}", "{upload_id}", "{privilege}" };
	const char *vals[] = { job_id, upload_id, privilege };
	size_t cap = strlen(tmpl) + 1, len = 0;
	char *out;

	for (int i = 0; i < 3; i++)
		cap += vals[i] ? 4 * strlen(vals[i]) : 0;
	out = malloc(cap);
	if (!out)
		abort();
	for (const char *p = tmpl; *p;) {
		int hit = -1;
		for (int i = 0; i < 3; i++)
			if (!strncmp(p, names[i], strlen(names[i])))
				hit = i;
		if (hit < 0) {
			out[len++] = *p++;
			continue;
		}
		if (!vals[hit]) {
			free(out);
			return NULL;
		}
		size_t vl = strlen(vals[hit]);
		if (len + vl + 1 > cap) {
			cap = len + vl + strlen(p) + 1;
			out = realloc(out, cap);
			if (!out)
				abort();
		}
		memcpy(out + len, vals[hit], vl);
		len += vl;
		p += strlen(names[hit]);
	}
	out[len] = '\0';
	return out;
}

/* A git branch name a container may be handed: git's ref rules, narrowed
 * to [A-Za-z0-9._/-], never starting with '-' (an option) or '/'. */
static bool valid_branch(const char *s, size_t len)
{
	if (!len || len > BRANCH_MAX || s[0] == '-' || s[0] == '/' || s[0] == '.')
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-' ||
		      c == '/'))
			return false;
		if (i && ((c == '.' && s[i - 1] == '.') || (c == '/' && s[i - 1] == '/') ||
			  (c == '.' && s[i - 1] == '/')))
			return false;
	}
	if (s[len - 1] == '/' || s[len - 1] == '.')
		return false;
	return !(len >= 5 && !memcmp(s + len - 5, ".lock", 5));
}

static const char *const known_fields[] = {
	"client_job_id", "type", "command", "task", "context", "git_branch",
	"files_id", "image", "cpus", "memory_gb", "timeout_minutes",
};

/* 0 if every key of body is a known field, else -1 and e. */
static int check_fields(const json_t *body, ApiError *e)
{
	const char *key;
	json_t *v;

	json_object_foreach((json_t *)body, key, v) {
		bool known = false;
		for (size_t i = 0; i < sizeof known_fields / sizeof *known_fields; i++)
			known |= !strcmp(key, known_fields[i]);
		if (!known) {
			field_error(e, "unknown_field", key, "unknown field '%s'", key);
			return -1;
		}
	}
	return 0;
}

/* An optional string field: 0 with *out (a copy, NULL if absent and not
 * required), or -1 and e. max bounds its length in bytes. */
static int get_string(const json_t *body, const char *field, bool required,
		      size_t max, char **out, size_t *len, ApiError *e)
{
	json_t *v = json_object_get(body, field);

	*out = NULL;
	if (len)
		*len = 0;
	if (!v || json_is_null(v)) {
		if (required) {
			field_error(e, "missing_field", field, "'%s' is required", field);
			return -1;
		}
		return 0;
	}
	if (!json_is_string(v)) {
		field_error(e, "invalid_type", field, "'%s' must be a string", field);
		return -1;
	}
	if (json_string_length(v) == 0) {
		field_error(e, "empty_field", field, "'%s' must not be empty", field);
		return -1;
	}
	if (strlen(json_string_value(v)) != json_string_length(v)) {
		field_error(e, "invalid_string", field, "'%s' must not contain a NUL character",
			    field);
		return -1;
	}
	if (json_string_length(v) > max) {
		api_error_set(e, 400, "field_too_long",
			      json_pack("{s:s,s:I}", "field", field, "max_bytes", (json_int_t)max),
			      "'%s' is longer than %zu bytes", field, max);
		return -1;
	}
	*out = strdup(json_string_value(v));
	if (!*out)
		abort();
	if (len)
		*len = json_string_length(v);
	return 0;
}

/* A number within range r (default r->def when absent): 0 or -1 and e. */
static int get_ranged(const json_t *body, const char *field, const FpRange *r,
		      long *out, ApiError *e)
{
	json_t *v = json_object_get(body, field);
	json_int_t n;

	if (!v || json_is_null(v)) {
		*out = r->def;
		return 0;
	}
	if (!json_is_integer(v)) {
		field_error(e, "invalid_type", field, "'%s' must be a whole number", field);
		return -1;
	}
	n = json_integer_value(v);
	if (n < r->min || n > r->max) {
		api_error_set(e, 400, "out_of_range",
			      json_pack("{s:s,s:I,s:I,s:I}", "field", field,
					"min", (json_int_t)r->min, "max", (json_int_t)r->max,
					"got", n),
			      "'%s' must be in %ld..%ld", field, r->min, r->max);
		return -1;
	}
	*out = (long)n;
	return 0;
}

/* A field the job's kind does not take must be absent. */
static int forbid(const json_t *body, const char *field, const char *type,
		  ApiError *e)
{
	if (!json_object_get(body, field))
		return 0;
	field_error(e, "field_not_allowed", field, "'%s' is not allowed for a %s job",
		    field, type);
	return -1;
}

/* The string fields and their grammars. */
static int validate_strings(const json_t *body, Job *j, ApiError *e)
{
	if (get_string(body, "client_job_id", false, APID_ID_MAX, &j->client_job_id, NULL, e) ||
	    get_string(body, "files_id", false, APID_ID_MAX, &j->files_id, NULL, e) ||
	    get_string(body, "image", false, IMAGE_MAX, &j->image, NULL, e))
		return -1;
	if (j->client_job_id && !bundle_valid_id(j->client_job_id)) {
		field_error(e, "invalid_id", "client_job_id",
			    "'client_job_id' must match [A-Za-z0-9][A-Za-z0-9_-]{0,63}");
		return -1;
	}
	if (j->files_id && !bundle_valid_id(j->files_id)) {
		field_error(e, "invalid_id", "files_id",
			    "'files_id' must match [A-Za-z0-9][A-Za-z0-9_-]{0,63}");
		return -1;
	}
	if (j->image && !bundle_valid_image(j->image)) {
		field_error(e, "invalid_image", "image",
			    "'image' must be [host[:port]/]path[:tag][@algo:hex]");
		return -1;
	}
	return 0;
}

/* The fields of the job's kind. */
static int validate_kind(const json_t *body, Job *j, ApiError *e)
{
	if (j->kind == FP_JOB_COMMAND) {
		if (forbid(body, "task", j->type, e) || forbid(body, "context", j->type, e) ||
		    forbid(body, "git_branch", j->type, e))
			return -1;
		return get_string(body, "command", true, TEXT_MAX, &j->command,
				  &j->command_len, e);
	}
	if (forbid(body, "command", j->type, e) ||
	    get_string(body, "task", true, TEXT_MAX, &j->task, &j->task_len, e) ||
	    get_string(body, "context", false, TEXT_MAX, &j->context, &j->context_len, e) ||
	    get_string(body, "git_branch", true, BRANCH_MAX, &j->git_branch,
		       &j->git_branch_len, e))
		return -1;
	if (!valid_branch(j->git_branch, j->git_branch_len)) {
		field_error(e, "invalid_git_branch", "git_branch",
			    "'git_branch' is not a safe branch name ([A-Za-z0-9._/-], "
			    "no '..', no leading '-')");
		return -1;
	}
	return 0;
}

/* Open the directory host (a filled mount template) whose component
 * holding the upload id starts at offset at: the part before it the
 * normal way, the rest beneath it with no symlink anywhere. fd or -1. */
static int upload_open(const char *host, size_t at)
{
	struct open_how how = {
		.flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS,
	};
	char *base = strndup(host, at);
	int dfd, fd;

	if (!base)
		return -1;
	dfd = open(at ? base : "/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	free(base);
	if (dfd < 0)
		return -1;
	fd = (int)syscall(SYS_openat2, dfd, host + at, &how, sizeof how);
	close(dfd);
	return fd;
}

/* uploads_check for privilege p. */
static int uploads_check_priv(const FpPrivilege *p, const Job *j, char **bad)
{
	*bad = NULL;
	for (int i = 0; p && i < p->n_grants; i++) {
		const FpMount *m = p->grants[i].mount;
		const char *mark = m->service ? NULL : strstr(m->host, "{upload_id}");
		char *head, *path;
		size_t at;
		int fd;

		if (!mark)
			continue;
		if (!j->files_id)
			return -1;
		/* the upload's component starts after the last '/' before it */
		head = strndup(m->host, (size_t)(mark - m->host));
		path = template_fill(m->host, j->id ? j->id : "x", j->files_id, p->name);
		if (!head || !path)
			abort();
		at = strrchr(head, '/') ? (size_t)(strrchr(head, '/') - head + 1) : 0;
		free(head);
		fd = upload_open(path, at);
		if (fd < 0) {
			*bad = path;
			return -1;
		}
		close(fd);
		free(path);
	}
	return 0;
}

/* see apid.h */
int uploads_check(const FpBundle *b, const Job *j, char **bad)
{
	return uploads_check_priv(bundle_privilege(b, j->type), j, bad);
}

/* Mounts whose host path needs {upload_id}: files_id must be given and
 * the directory must exist, reached without a symlink (uploads_check). */
static int validate_uploads(const FpPrivilege *p, Job *j, ApiError *e)
{
	char *bad = NULL;

	for (int i = 0; i < p->n_grants; i++) {
		const FpMount *m = p->grants[i].mount;

		if (m->service || !strstr(m->host, "{upload_id}") || j->files_id)
			continue;
		field_error(e, "missing_field", "files_id",
			    "'files_id' is required: %s mounts an upload at %s",
			    p->name, m->target);
		return -1;
	}
	if (uploads_check_priv(p, j, &bad) < 0) {
		field_error(e, "files_not_found", "files_id",
			    "no upload '%s' (upload it first; a symlink is not one)",
			    j->files_id);
		free(bad);
		return -1;
	}
	return 0;
}

/* see apid.h */
int validate_job(const FpBundle *b, const json_t *body, Job *j, ApiError *e)
{
	const FpPrivilege *p;
	char err[BUNDLE_ERR_MAX];
	char **argv;
	FpJob fj;
	json_t *v;

	memset(j, 0, sizeof *j);
	if (!json_is_object(body)) {
		api_error_set(e, 400, "invalid_json", NULL, "the body must be a JSON object");
		return -1;
	}
	if (check_fields(body, e))
		return -1;
	v = json_object_get(body, "type");
	if (!v) {
		field_error(e, "missing_field", "type", "'type' is required");
		return -1;
	}
	if (!json_is_string(v)) {
		field_error(e, "invalid_type", "type", "'type' must be a string");
		return -1;
	}
	p = strlen(json_string_value(v)) == json_string_length(v) ?
		bundle_privilege(b, json_string_value(v)) : NULL;
	if (!p) {
		int n;
		const FpPrivilege *all = bundle_privileges(b, &n);
		json_t *names = json_array();
		for (int i = 0; i < n; i++)
			json_array_append_new(names, json_string(all[i].name));
		api_error_set(e, 400, "unknown_job_type",
			      json_pack("{s:s,s:o}", "field", "type", "allowed", names),
			      "'type' must name a privilege of the policy");
		return -1;
	}
	j->type = strdup(p->name);
	j->kind = job_kind_for(p);
	if (validate_strings(body, j, e) || validate_kind(body, j, e) ||
	    get_ranged(body, "cpus", &p->cpus, &j->cpus, e) ||
	    get_ranged(body, "memory_gb", &p->memory_gb, &j->memory_gb, e) ||
	    get_ranged(body, "timeout_minutes", &p->timeout_min, &j->timeout_minutes, e) ||
	    validate_uploads(p, j, e))
		goto bad;
	/* The argv builder has the last word on every value. */
	j->id = (char *)"validate0";
	job_to_fpjob(j, &fj);
	argv = bundle_job_argv(b, &fj, err, sizeof err);
	j->id = NULL;
	if (!argv) {
		api_error_set(e, 400, "invalid_job", NULL, "%s", err);
		goto bad;
	}
	bundle_argv_free(argv);
	return 0;
bad:
	job_clear(j);
	return -1;
}

/* see apid.h */
void job_to_fpjob(const Job *j, FpJob *out)
{
	memset(out, 0, sizeof *out);
	out->kind = (FpJobKind)j->kind;
	out->privilege = j->type;
	out->job_id = j->id;
	out->upload_id = j->files_id;
	out->image = j->image;
	out->cpus = j->cpus;
	out->memory_gb = j->memory_gb;
	out->command = j->command;
	out->command_len = j->command_len;
	out->task = j->task;
	out->task_len = j->task_len;
	out->context = j->context;
	out->context_len = j->context_len;
	out->git_branch = j->git_branch;
	out->git_branch_len = j->git_branch_len;
}
