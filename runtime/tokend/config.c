/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * config.c: what fp-tokend runs with: the command line, the view of the
 * policy bundle it needs (token socket, trust domain, secret names), the
 * secrets file, and the snapshot that ties them to one trust bundle.
 */
#include "tokend.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <pwd.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/crypto.h>

enum { SECRETS_FILE_MAX = 1 << 20 };

void *tokend_errf(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return NULL;
}

/* --- the policy bundle ---------------------------------------------- */

TokenPolicy *policy_view_load(const char *path, const char *svc_name,
			      char *err, size_t errlen)
{
	FpBundle *b = bundle_load_file(path, err, errlen);
	const FpService *svc;
	struct passwd *pw;
	struct group *gr;
	TokenPolicy *p;

	if (!b)
		return NULL;
	svc = bundle_service(b, svc_name);
	if (!svc || svc->kind != FP_SVC_UNIX) {
		bundle_free(b);
		return tokend_errf(err, errlen, "%s: the policy has no unix service \"%s\" "
			           "(the token socket)", path, svc_name);
	}
	pw = getpwnam(svc->owner);
	gr = getgrnam(svc->group);
	if (!pw || !gr) {
		tokend_errf(err, errlen, "%s: service %s: %s \"%s\" does not exist on this host",
		            path, svc_name, pw ? "group" : "user", pw ? svc->group : svc->owner);
		bundle_free(b);
		return NULL;
	}
	p = calloc(1, sizeof *p);
	if (!p) {
		bundle_free(b);
		return tokend_errf(err, errlen, "%s: out of memory", path);
	}
	p->refs = 1;
	p->bundle = b;
	p->secrets = bundle_secrets(b, &p->n_secrets);
	p->trust_domain = bundle_trust_domain(b);
	p->sha256 = bundle_policy_sha256(b);
	p->socket_path = svc->path;
	p->owner = svc->owner;
	p->group = svc->group;
	p->owner_uid = pw->pw_uid;
	p->group_gid = gr->gr_gid;
	p->mode = svc->mode;
	return p;
}

void policy_view_unref(TokenPolicy *p)
{
	if (p && __atomic_sub_fetch(&p->refs, 1, __ATOMIC_ACQ_REL) == 0) {
		bundle_free(p->bundle);
		free(p);
	}
}

/* --- the secrets file ----------------------------------------------- */

/* Free s, wiping every value first. */
static void secrets_free(Secrets *s)
{
	for (int i = 0; i < s->n; i++) {
		if (s->values[i]) {
			OPENSSL_cleanse(s->values[i], strlen(s->values[i]));
			free(s->values[i]);
		}
		free(s->names[i]);
	}
	free(s->names);
	free(s->values);
	free(s);
}

/* Read the whole secrets file, checking owner and mode on the open file
 * (a symlink, as agenix and sops-nix make, is judged by its target);
 * NULL with a message. *len gets the size. The caller wipes and frees. */
static char *secrets_read(const char *path, size_t *len, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	struct stat st;
	char *text = NULL;
	ssize_t r;
	size_t got = 0;

	if (fd < 0)
		return tokend_errf(err, errlen, "%s: %s", path, strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		tokend_errf(err, errlen, "%s: not a regular file", path);
	else if (st.st_mode & 077)
		tokend_errf(err, errlen, "%s: group or others may access it (mode %04o); "
		            "refusing secrets others can read (chmod 600)", path,
		            (unsigned)(st.st_mode & 07777));
	else if (st.st_uid != geteuid())
		tokend_errf(err, errlen, "%s: owned by uid %u, not by fp-tokend's uid %u",
		            path, (unsigned)st.st_uid, (unsigned)geteuid());
	else if (st.st_size > SECRETS_FILE_MAX)
		tokend_errf(err, errlen, "%s: larger than %d bytes", path, SECRETS_FILE_MAX);
	else if (!(text = malloc((size_t)st.st_size + 1)))
		tokend_errf(err, errlen, "%s: out of memory", path);
	while (text && got < (size_t)st.st_size &&
	       (r = read(fd, text + got, (size_t)st.st_size - got)) != 0) {
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			tokend_errf(err, errlen, "%s: %s", path, strerror(errno));
			OPENSSL_cleanse(text, got);
			free(text);
			text = NULL;
			break;
		}
		got += (size_t)r;
	}
	close(fd);
	*len = got;
	return text;
}

/* Fill s from the parsed object o; false with a message. */
static bool secrets_fill(Secrets *s, json_t *o, const TokenPolicy *pol,
			 const char *path, char *err, size_t errlen)
{
	for (int i = 0; i < pol->n_secrets; i++) {
		json_t *v = json_object_get(o, pol->secrets[i].key);

		if (!json_is_string(v) || json_string_length(v) == 0 ||
		    strlen(json_string_value(v)) != json_string_length(v)) {
			tokend_errf(err, errlen, "%s: \"%s\" (secret %s) %s", path,
			            pol->secrets[i].key, pol->secrets[i].name,
			            v ? "must be a non-empty string" : "is missing");
			return false;
		}
		s->names[i] = strdup(pol->secrets[i].name);
		s->values[i] = strdup(json_string_value(v));
		s->n = i + 1;
		if (!s->names[i] || !s->values[i]) {
			tokend_errf(err, errlen, "%s: out of memory", path);
			return false;
		}
	}
	return true;
}

Secrets *secrets_load(const char *path, const TokenPolicy *pol, char *err,
		      size_t errlen)
{
	size_t len = 0;
	char *text = secrets_read(path, &len, err, errlen);
	json_error_t je;
	json_t *o;
	Secrets *s;
	bool ok;

	if (!text)
		return NULL;
	o = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
	OPENSSL_cleanse(text, len);
	free(text);
	if (!json_is_object(o)) {
		/* je.text may quote the file: name the place only */
		if (o)
			tokend_errf(err, errlen, "%s: not a JSON object", path);
		else
			tokend_errf(err, errlen, "%s: line %d: not valid JSON (or a "
			            "duplicate key)", path, je.line);
		json_decref(o);
		return NULL;
	}
	s = calloc(1, sizeof *s);
	if (s) {
		s->refs = 1;
		s->names = calloc((size_t)pol->n_secrets + 1, sizeof *s->names);
		s->values = calloc((size_t)pol->n_secrets + 1, sizeof *s->values);
	}
	ok = s && s->names && s->values;
	if (!ok)
		tokend_errf(err, errlen, "%s: out of memory", path);
	else
		ok = secrets_fill(s, o, pol, path, err, errlen);
	json_decref(o);	/* jansson does not wipe: the values were in memory briefly */
	if (!ok && s) {
		secrets_free(s);
		s = NULL;
	}
	return s;
}

const char *secrets_get(const Secrets *s, const char *name)
{
	for (int i = 0; i < s->n; i++)
		if (!strcmp(s->names[i], name))
			return s->values[i];
	return NULL;
}

void secrets_unref(Secrets *s)
{
	if (s && __atomic_sub_fetch(&s->refs, 1, __ATOMIC_ACQ_REL) == 0)
		secrets_free(s);
}

/* --- snapshots ------------------------------------------------------ */

Snapshot *snapshot_new(TokenPolicy *pol, Secrets *sec, Jwks *jwks)
{
	Snapshot *s = calloc(1, sizeof *s);

	if (!s)
		return NULL;
	s->refs = 1;
	__atomic_add_fetch(&pol->refs, 1, __ATOMIC_RELAXED);
	__atomic_add_fetch(&sec->refs, 1, __ATOMIC_RELAXED);
	jwks_ref(jwks);
	s->pol = pol;
	s->sec = sec;
	s->jwks = jwks;
	return s;
}

void snapshot_ref(Snapshot *s)
{
	__atomic_add_fetch(&s->refs, 1, __ATOMIC_RELAXED);
}

void snapshot_unref(Snapshot *s)
{
	if (s && __atomic_sub_fetch(&s->refs, 1, __ATOMIC_ACQ_REL) == 0) {
		policy_view_unref(s->pol);
		secrets_unref(s->sec);
		jwks_unref(s->jwks);
		free(s);
	}
}

Snapshot *config_load(const TokendConfig *cfg, char *err, size_t errlen)
{
	char msg[TOKEND_ERR_MAX];
	TokenPolicy *pol = policy_view_load(cfg->bundle_path, cfg->service_name,
					    msg, sizeof msg);
	Secrets *sec = pol ? secrets_load(cfg->secrets_path, pol, msg, sizeof msg) : NULL;
	Jwks *jwks = sec ? jwks_load(cfg->jwks_path, msg, sizeof msg) : NULL;
	Snapshot *s = NULL;

	if (!jwks)
		tokend_errf(err, errlen, "%s: %s", !pol ? "policy bundle" : !sec ? "secrets"
					         : "trust bundle", msg);
	else if (!(s = snapshot_new(pol, sec, jwks)))
		tokend_errf(err, errlen, "out of memory");
	policy_view_unref(pol);
	secrets_unref(sec);
	jwks_unref(jwks);
	return s;
}

/* --- the command line ----------------------------------------------- */

static void config_usage(FILE *f)
{
	fprintf(f,
		"usage: fp-tokend [-n] [-b BUNDLE] [-s SECRETS] [-t TRUST_BUNDLE]\n"
		"                 [-a AUDIT_LOG] [-S SOCKET] [options]\n"
		"  -n, --check          load and check everything, then exit\n"
		"  -b, --bundle PATH    compiled policy (default /etc/flashpods/policy.pb)\n"
		"  -s, --secrets PATH   secrets (default /etc/flashpods/secrets.json)\n"
		"  -t, --trust-bundle PATH  SPIRE JWT keys, JWKS or SPIFFE bundle\n"
		"                       (default /run/flashpods/jwt-bundle.json)\n"
		"  -a, --audit PATH     audit log (default: standard error)\n"
		"  -S, --socket PATH    listen here instead of the policy's path (tests)\n"
		"      --service NAME   the policy's unix service to serve (default token)\n"
		"      --leeway S       clock leeway on exp/nbf/iat, 0-60 (default 30)\n"
		"      --rate R         requests per second per peer (its container, else\n"
		"                       its uid), a fraction allowed, 0 = no limit\n"
		"                       (default 50)\n"
		"      --burst N        rate-limit burst, 1-1000000 (default 100)\n"
		"      --threads N      worker threads, 1-64 (default 2)\n"
		"      --timeout S      idle connection timeout, 1-300 s (default 10)\n"
		"      --max-conns N    concurrent connections, 1-4096 (default 256)\n"
		"      --request-timeout S  a request must arrive whole within S s,\n"
		"                       1-300 (default 10)\n"
		"      --max-conns-per-peer N  connections of one container (or uid),\n"
		"                       1-4096 (default 32)\n"
		"      --max-lifetime S longest exp - iat accepted, 60-86400 (default 3600)\n"
		"      --audit-rate N   audit lines/s of refusals per peer, 1-10000 (default 5)\n"
		"      --audit-max-mb N rotate the audit log to PATH.1 past N MiB,\n"
		"                       1-1024 (default 64)\n"
		"      --low-s-only     refuse ECDSA signatures with a high S (only\n"
		"                       for issuers that sign low-S)\n"
		"  -h, --help           this text\n");
}

/* Parse a rate: a decimal number of requests per second, 0 to 1e6. */
static bool config_rate(const char *s, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !(v >= 0 && v <= 1e6))
		return false;
	*out = v;
	return true;
}

/* A numeric option: its bounds and where it goes. */
typedef struct NumOpt {
	int id;			/* getopt value */
	long long lo, hi;
	size_t off;		/* offset of an int member of TokendConfig */
} NumOpt;

static const NumOpt num_opts[] = {
	{ 2, 0, JWT_MAX_LEEWAY, offsetof(TokendConfig, leeway) },
	{ 5, 1, 64, offsetof(TokendConfig, threads) },
	{ 6, 1, 300, offsetof(TokendConfig, timeout_s) },
	{ 7, 1, 4096, offsetof(TokendConfig, max_conns) },
	{ 8, 1, 300, offsetof(TokendConfig, request_timeout) },
	{ 9, 1, 4096, offsetof(TokendConfig, max_conns_per_peer) },
	{ 10, 60, 86400, offsetof(TokendConfig, max_lifetime) },
	{ 11, 1, 10000, offsetof(TokendConfig, audit_rate) },
	{ 12, 1, 1024, offsetof(TokendConfig, audit_max_mb) },
};

/* Store optarg into the int option id of cfg; false (message printed) if
 * it is not a number in range. */
static bool config_num(TokendConfig *cfg, int id, const char *name)
{
	for (size_t i = 0; i < sizeof num_opts / sizeof *num_opts; i++) {
		const char *why;
		long long v;

		if (num_opts[i].id != id)
			continue;
		v = parse_num(optarg, num_opts[i].lo, num_opts[i].hi, &why);
		if (why) {
			daemon_log("--%s: '%s' %s (%lld..%lld)", name, optarg, why,
				   num_opts[i].lo, num_opts[i].hi);
			return false;
		}
		*(int *)((char *)cfg + num_opts[i].off) = (int)v;
		return true;
	}
	BUG("numeric option %d without bounds", id);
}

int config_parse_args(TokendConfig *cfg, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "check", no_argument, NULL, 'n' },
		{ "bundle", required_argument, NULL, 'b' },
		{ "secrets", required_argument, NULL, 's' },
		{ "trust-bundle", required_argument, NULL, 't' },
		{ "audit", required_argument, NULL, 'a' },
		{ "socket", required_argument, NULL, 'S' },
		{ "service", required_argument, NULL, 1 },
		{ "leeway", required_argument, NULL, 2 },
		{ "rate", required_argument, NULL, 3 },
		{ "burst", required_argument, NULL, 4 },
		{ "threads", required_argument, NULL, 5 },
		{ "timeout", required_argument, NULL, 6 },
		{ "max-conns", required_argument, NULL, 7 },
		{ "request-timeout", required_argument, NULL, 8 },
		{ "max-conns-per-peer", required_argument, NULL, 9 },
		{ "max-lifetime", required_argument, NULL, 10 },
		{ "audit-rate", required_argument, NULL, 11 },
		{ "audit-max-mb", required_argument, NULL, 12 },
		{ "low-s-only", no_argument, NULL, 13 },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *why;
	long long v;
	int c, li = 0;

	*cfg = (TokendConfig){
		.bundle_path = "/etc/flashpods/policy.pb",
		.secrets_path = "/etc/flashpods/secrets.json",
		.jwks_path = "/run/flashpods/jwt-bundle.json",
		.service_name = "token",
		.leeway = 30, .rate = 50, .burst = 100, .threads = 2,
		.timeout_s = 10, .max_conns = 256, .request_timeout = 10,
		.max_conns_per_peer = 32, .max_lifetime = 3600, .audit_rate = 5,
		.audit_max_mb = 64,
	};
	optind = 1;
	while ((c = getopt_long(argc, argv, "nb:s:t:a:S:h", opts, &li)) != -1) {
		switch (c) {
		case 'n': cfg->check_only = true; break;
		case 'b': cfg->bundle_path = optarg; break;
		case 's': cfg->secrets_path = optarg; break;
		case 't': cfg->jwks_path = optarg; break;
		case 'a': cfg->audit_path = optarg; break;
		case 'S': cfg->socket_override = optarg; break;
		case 1: cfg->service_name = optarg; break;
		case 13: cfg->low_s_only = true; break;
		case 3: if (!config_rate(optarg, &cfg->rate)) goto bad;
			break;
		case 4:
			v = parse_num(optarg, 1, 1000000, &why);
			if (why)
				goto bad;
			cfg->burst = (double)v;
			break;
		case 2: case 5: case 6: case 7: case 8: case 9: case 10: case 11: case 12:
			if (!config_num(cfg, c, opts[li].name))
				return DAEMON_EXIT_USAGE;
			break;
		case 'h': config_usage(stdout); return -1;
		default: config_usage(stderr); return DAEMON_EXIT_USAGE;
		}
	}
	if (optind != argc) {
		daemon_log("unexpected argument '%s'", argv[optind]);
		config_usage(stderr);
		return DAEMON_EXIT_USAGE;
	}
	return 0;
bad:
	daemon_log("bad value '%s' for --%s (see --help for the range)",
		   optarg, opts[li].name);
	return DAEMON_EXIT_USAGE;
}
