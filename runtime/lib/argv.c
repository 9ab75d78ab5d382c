/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * argv.c: the podman command line of a job, built from the bundle's
 * container profile and the job's privilege (see bundle.h). No shell ever
 * sees it: every value is one argv element, and every value from a request
 * is checked first.
 */
#include "bundle.h"

#include "base.h"

#include <ctype.h>
#include <stdarg.h>

/* An argv under construction; its strings are heap copies. */
typedef struct Argv {
	char **v;
	int n, cap;
} Argv;

static void argv_add(Argv *a, char *s)
{
	if (a->n + 2 > a->cap) {
		int nc = a->cap ? 2 * a->cap : 64;
		char **nv = xcalloc((size_t)nc, sizeof *nv);

		if (a->n)
			memcpy(nv, a->v, (size_t)a->n * sizeof *nv);
		free(a->v);
		a->v = nv;
		a->cap = nc;
	}
	a->v[a->n++] = s;
	a->v[a->n] = NULL;
}

static void argv_addf(Argv *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void argv_addf(Argv *a, const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		BUG("out of memory");
	va_end(ap);
	argv_add(a, s);
}

void bundle_argv_free(char **argv)
{
	for (char **p = argv; p && *p; p++)
		free(*p);
	free(argv);
}

/* Write the error message (if there is room) and return false. */
static bool __attribute__((format(printf, 3, 4)))
argv_fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return false;
}

bool bundle_valid_id(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (n == 0 || n > 64 || !isalnum((unsigned char)s[0]))
		return false;
	for (size_t i = 1; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_' && s[i] != '-')
			return false;
	return true;
}

/* A path component of an image name: [a-z0-9]+ joined by one of '.', '_',
 * '-' or by "__" (s[0..n)). */
static bool image_component(const char *s, size_t n)
{
	if (n == 0 || !isalnum((unsigned char)s[0]) || !isalnum((unsigned char)s[n - 1]))
		return false;
	for (size_t i = 0; i < n; i++) {
		if (islower((unsigned char)s[i]) || isdigit((unsigned char)s[i]))
			continue;
		if (!strchr("._-", s[i]))
			return false;
		if (!isalnum((unsigned char)s[i + 1]) &&
		    !(s[i] == '_' && s[i + 1] == '_' && i + 2 < n &&
		      isalnum((unsigned char)s[i + 2])))
			return false;
		if (s[i] == '_' && s[i + 1] == '_')
			i++;
	}
	return true;
}

/* A registry host: [A-Za-z0-9.-]+ with an optional :PORT (s[0..n)). */
static bool image_host(const char *s, size_t n)
{
	size_t h = 0;

	while (h < n && (isalnum((unsigned char)s[h]) || s[h] == '.' || s[h] == '-'))
		h++;
	if (h == 0 || !isalnum((unsigned char)s[0]) || !isalnum((unsigned char)s[h - 1]))
		return false;
	if (h == n)
		return true;
	if (s[h] != ':' || h + 1 == n || n - h - 1 > 5)
		return false;
	for (size_t i = h + 1; i < n; i++)
		if (!isdigit((unsigned char)s[i]))
			return false;
	return true;
}

/* [HOST[:PORT]/]COMPONENT(/COMPONENT)*[:TAG][@ALGO:HEX], at most 255. */
bool bundle_valid_image(const char *s)
{
	size_t n = s ? strlen(s) : 0, name_end, start = 0;
	const char *at, *slash, *colon;

	if (n == 0 || n > 255)
		return false;
	at = strchr(s, '@');
	name_end = at ? (size_t)(at - s) : n;
	if (at) {	/* digest: [a-z0-9]+ ':' [a-f0-9]{32,} */
		const char *d = at + 1, *c = strchr(d, ':');

		if (!c || c == d || strlen(c + 1) < 32)
			return false;
		for (const char *p = d; p < c; p++)
			if (!islower((unsigned char)*p) && !isdigit((unsigned char)*p))
				return false;
		if (strspn(c + 1, "0123456789abcdef") != strlen(c + 1))
			return false;
	}
	slash = memrchr(s, '/', name_end);
	colon = memrchr(slash ? slash : s, ':', name_end - (size_t)((slash ? slash : s) - s));
	if (colon) {	/* tag: [A-Za-z0-9_][A-Za-z0-9_.-]{0,127} */
		size_t t = (size_t)(colon - s) + 1, tn = name_end - t;

		if (tn == 0 || tn > 128 || s[t] == '.' || s[t] == '-')
			return false;
		for (size_t i = t; i < name_end; i++)
			if (!isalnum((unsigned char)s[i]) && !strchr("_.-", s[i]))
				return false;
		name_end = (size_t)(colon - s);
	}
	slash = memchr(s, '/', name_end);
	if (slash) {	/* a first part with '.', ':' or "localhost" is a host */
		size_t hn = (size_t)(slash - s);

		if (memchr(s, '.', hn) || memchr(s, ':', hn) ||
		    (hn == 9 && !strncmp(s, "localhost", 9))) {
			if (!image_host(s, hn))
				return false;
			start = hn + 1;
		}
	}
	for (size_t i = start; i <= name_end;) {
		const char *e = memchr(s + i, '/', name_end - i);
		size_t m = e ? (size_t)(e - s) - i : name_end - i;

		if (!image_component(s + i, m))
			return false;
		i += m + 1;
		if (!e)
			break;
	}
	return true;
}

/* A value of field from a request: s[0..len) (len 0: strlen) without NUL,
 * at most BUNDLE_ARG_MAX bytes; NULL counts as "". */
static bool check_value(const char *field, const char *s, size_t len,
			char *err, size_t errlen)
{
	if (!s)
		return true;
	if (len == 0)
		len = strlen(s);
	if (memchr(s, '\0', len))
		return argv_fail(err, errlen, "%s: holds a NUL byte", field);
	if (len > BUNDLE_ARG_MAX)
		return argv_fail(err, errlen, "%s: longer than %d bytes", field,
				 BUNDLE_ARG_MAX);
	return true;
}

/* Fill the placeholders of template t for job (priv: its privilege). */
static char *expand(const char *t, const FpJob *job, const char *priv,
		    const char *field, char *err, size_t errlen)
{
	Buf b = { 0 };

	buf_puts(&b, "");
	for (const char *p = t; *p;) {
		if (!strncmp(p, "{job_id}", 8)) {
			buf_puts(&b, job->job_id);
			p += 8;
		} else if (!strncmp(p, "{upload_id}", 11)) {
			if (!job->upload_id) {
				argv_fail(err, errlen, "upload_id: missing (%s needs it)", field);
				buf_free(&b);
				return NULL;
			}
			buf_puts(&b, job->upload_id);
			p += 11;
		} else if (!strncmp(p, "{privilege}", 11)) {
			buf_puts(&b, priv);
			p += 11;
		} else {
			buf_append(&b, p++, 1);
		}
	}
	return b.data;
}

/* A resource value: 0 picks the default, else it must be inside r. */
static bool pick(const char *field, long v, const FpRange *r, const char *priv,
		 long *out, char *err, size_t errlen)
{
	if (v == 0) {
		*out = r->def;
		return true;
	}
	if (v < r->min || v > r->max)
		return argv_fail(err, errlen, "%s: %ld is outside %s's range %ld..%ld",
				 field, v, priv, r->min, r->max);
	*out = v;
	return true;
}

/* Every check on job that does not depend on the argv's layout. */
static bool check_job(const FpJob *job, const FpPrivilege *p, const char *image,
		      char *err, size_t errlen)
{
	if (!bundle_valid_id(job->job_id))
		return argv_fail(err, errlen, "job_id: \"%.64s\" is not 1-64 of "
				 "[A-Za-z0-9_-] beginning with a letter or digit",
				 job->job_id ? job->job_id : "");
	if (job->upload_id && !bundle_valid_id(job->upload_id))
		return argv_fail(err, errlen, "upload_id: \"%.64s\" is not 1-64 of "
				 "[A-Za-z0-9_-] beginning with a letter or digit",
				 job->upload_id);
	if (!image)
		return argv_fail(err, errlen, "image: none given and the policy "
				 "has no default image");
	if (!bundle_valid_image(image))
		return argv_fail(err, errlen, "image: \"%.255s\" is not an image "
				 "reference ([host[:port]/]name[:tag][@algo:hex])", image);
	switch (job->kind) {
	case FP_JOB_COMMAND:
		if (job->task || job->context || job->git_branch)
			return argv_fail(err, errlen, "%s: only agent jobs take it",
					 job->task ? "task" : job->context ? "context" :
					 "git_branch");
		if (!job->command || !(job->command_len ? job->command_len :
					strlen(job->command)))
			return argv_fail(err, errlen, "command: missing (a %s job "
					 "runs one)", p->name);
		return check_value("command", job->command, job->command_len, err,
				   errlen);
	case FP_JOB_AGENT:
		if (job->command)
			return argv_fail(err, errlen, "command: agent jobs take none "
					 "(they run /entrypoint.sh)");
		return check_value("task", job->task, job->task_len, err, errlen) &&
		       check_value("context", job->context, job->context_len, err,
				   errlen) &&
		       check_value("git_branch", job->git_branch,
				   job->git_branch_len, err, errlen);
	default:
		BUG("unknown job kind %d", (int)job->kind);
	}
}

/* "--label K=V" for every label, placeholders filled. */
static bool add_labels(Argv *a, const FpContainer *c, const FpJob *job,
		       const char *priv, char *err, size_t errlen)
{
	for (int i = 0; i < c->n_labels; i++) {
		char *v = expand(c->labels[i].value, job, priv, "a label", err, errlen);

		if (!v)
			return false;
		argv_add(a, xstrdup("--label"));
		argv_addf(a, "%s=%s", c->labels[i].key, v);
		free(v);
	}
	return true;
}

/* "-v HOST:TARGET:MODE" for every mount the privilege grants. */
static bool add_mounts(Argv *a, const FpPrivilege *p, const FpJob *job,
		       char *err, size_t errlen)
{
	for (int i = 0; i < p->n_grants; i++) {
		const FpGrant *g = &p->grants[i];
		char field[96];
		char *host;

		snprintf(field, sizeof field, "mount %s", g->mount->name);
		if (!(host = expand(g->mount->host, job, p->name, field, err, errlen)))
			return false;
		argv_add(a, xstrdup("-v"));
		argv_addf(a, "%s:%s:%s", host, g->mount->target,
			  g->mode == FP_MODE_RW ? "rw" : "ro");
		free(host);
	}
	return true;
}

/* "-e NAME=VALUE": the value is s[0..len) (len 0: strlen; NULL: ""). */
static void add_env(Argv *a, const char *name, const char *s, size_t len)
{
	char *v;

	if (!s)
		s = "", len = 0;
	if (len == 0)
		len = strlen(s);
	v = xmalloc(strlen(name) + 1 + len + 1);
	sprintf(v, "%s=", name);
	memcpy(v + strlen(name) + 1, s, len);
	v[strlen(name) + 1 + len] = '\0';
	argv_add(a, xstrdup("-e"));
	argv_add(a, v);
}

char **bundle_job_argv(const FpBundle *b, const FpJob *job, char *err,
		       size_t errlen)
{
	const FpContainer *c = bundle_container(b);
	const FpPrivilege *p = bundle_privilege(b, job->privilege);
	const char *image = job->image ? job->image : c ? c->image : NULL;
	Argv a = { 0 };
	long cpus = 0, mem = 0;

	if (err && errlen)
		err[0] = '\0';
	if (!c)
		return argv_fail(err, errlen, "container: the policy has no container "
				 "profile"), NULL;
	if (!p)
		return argv_fail(err, errlen, "privilege: no privilege is called \"%.64s\"",
				 job->privilege ? job->privilege : ""), NULL;
	if (!check_job(job, p, image, err, errlen) ||
	    !pick("cpus", job->cpus, &p->cpus, p->name, &cpus, err, errlen) ||
	    !pick("memory_gb", job->memory_gb, &p->memory_gb, p->name, &mem, err,
		  errlen))
		return NULL;
	argv_add(&a, xstrdup(c->engine));
	argv_add(&a, xstrdup("run"));
	if (c->userns)
		argv_addf(&a, "--userns=%s", c->userns);
	if (c->network)
		argv_addf(&a, "--network=%s", c->network);
	for (int i = 0; i < c->n_security_opts; i++) {
		argv_add(&a, xstrdup("--security-opt"));
		argv_add(&a, xstrdup(c->security_opts[i]));
	}
	for (int i = 0; i < c->n_cap_drop; i++) {
		argv_add(&a, xstrdup("--cap-drop"));
		argv_add(&a, xstrdup(c->cap_drop[i]));
	}
	argv_add(&a, xstrdup("--cpus"));
	argv_addf(&a, "%ld", cpus);
	argv_add(&a, xstrdup("--memory"));
	argv_addf(&a, "%ldg", mem);
	argv_add(&a, xstrdup("--rm"));
	argv_add(&a, xstrdup("--name"));
	argv_addf(&a, "job_%s", job->job_id);
	if (!add_labels(&a, c, job, p->name, err, errlen) ||
	    !add_mounts(&a, p, job, err, errlen)) {
		bundle_argv_free(a.v);
		return NULL;
	}
	if (job->kind == FP_JOB_AGENT) {
		add_env(&a, "FLASHPODS_TASK", job->task, job->task_len);
		add_env(&a, "FLASHPODS_CONTEXT", job->context, job->context_len);
		add_env(&a, "FLASHPODS_GIT_BRANCH", job->git_branch, job->git_branch_len);
		add_env(&a, "FLASHPODS_JOB_ID", job->job_id, 0);
	}
	argv_add(&a, xstrdup(image));
	if (job->kind == FP_JOB_AGENT) {
		argv_add(&a, xstrdup("/entrypoint.sh"));
	} else {
		size_t n = job->command_len ? job->command_len : strlen(job->command);
		char *cmd = xmalloc(n + 1);

		memcpy(cmd, job->command, n);
		cmd[n] = '\0';
		argv_add(&a, xstrdup("/bin/sh"));
		argv_add(&a, xstrdup("-c"));
		argv_add(&a, cmd);
	}
	return a.v;
}
