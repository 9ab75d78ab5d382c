/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * bundle.c: load policy.pb and validate every field (see bundle.h);
 * wire.c is pass 1, lookup.c answers the look-ups of a loaded bundle.
 *
 * Loading runs in three passes, each refusing the bundle with a message
 * naming the field at its first problem:
 *   1. wire: a walk over the protobuf encoding, driven by the generated
 *      descriptors, that finds truncation, bad wire types, unknown or
 *      repeated fields and strings holding NUL, with the field's path
 *      (wire.c);
 *   2. decode: protobuf-c unpacks the checked bytes;
 *   3. build: every field is checked and copied into the bundle's arena,
 *      names are resolved to pointers and addresses parsed.
 * The decoded message is freed either way; the bundle owns only its arena.
 */
#include "bundle_int.h"

#include "policy.pb-c.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <sys/stat.h>

bool bundle_fail(Ld *ld, const char *fmt, ...)
{
	va_list ap;

	if (ld->failed)
		return false;
	ld->failed = true;
	if (ld->err && ld->errlen) {
		va_start(ap, fmt);
		vsnprintf(ld->err, ld->errlen, fmt, ap);
		va_end(ap);
	}
	return false;
}

/* ---- pass 3 helpers: values -------------------------------------------- */

/* A policy name: [A-Za-z_][A-Za-z0-9_-]{0,62}. */
static bool valid_name(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > MAX_NAME || !(isalpha((unsigned char)s[0]) || s[0] == '_'))
		return false;
	for (size_t i = 1; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_' && s[i] != '-')
			return false;
	return true;
}

/* Printable text without control characters (UTF-8 bytes >= 0x80 pass). */
static bool valid_text(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n == 0 || n > max)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return false;
	return true;
}

/* see bundle.h */
bool bundle_valid_token(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > MAX_TEXT || s[0] == '-')
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr("_.:=/,+-", s[i]))
			return false;
	return true;
}

/* An environment-style secret name: [A-Za-z_][A-Za-z0-9_]*. */
static bool valid_secret(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > MAX_NAME || !(isalpha((unsigned char)s[0]) || s[0] == '_'))
		return false;
	for (size_t i = 1; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_')
			return false;
	return true;
}

/* An interface pattern: 1-15 of [A-Za-z0-9_.-], optionally then '*'. */
static bool valid_iface(const char *s)
{
	size_t n = strlen(s);

	if (n && s[n - 1] == '*')
		n--;
	if (n == 0 || n > 15)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr("_.-", s[i]))
			return false;
	return true;
}

/* A SPIFFE trust domain: [a-z0-9._-]+, at most 255. */
static bool valid_trust_domain(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 255)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!islower((unsigned char)s[i]) && !isdigit((unsigned char)s[i]) &&
		    !strchr("._-", s[i]))
			return false;
	return true;
}

/* Check SPIFFE ID syntax: spiffe://TD/SEG(/SEG)*, TD the bundle's trust
 * domain, segments of [A-Za-z0-9._-] other than "." and "..". NULL if
 * fine, else why (possibly in why[]). */
static const char *spiffe_problem(const char *s, const char *domain, char *why,
				  size_t whylen)
{
	const char *td, *path, *seg;
	size_t tdn;

	if (strlen(s) > MAX_SPIFFE)
		return "is longer than 2048 bytes";
	if (strncmp(s, "spiffe://", 9))
		return "does not begin with \"spiffe://\"";
	td = s + 9;
	path = strchr(td, '/');
	tdn = path ? (size_t)(path - td) : strlen(td);
	if (tdn == 0)
		return "has no trust domain";
	if (strlen(domain) != tdn || strncmp(td, domain, tdn)) {
		snprintf(why, whylen, "is outside the trust domain \"%s\"", domain);
		return why;
	}
	if (!path || !path[1])
		return "has no path (a workload ID needs one)";
	for (seg = path + 1;;) {
		size_t n = strcspn(seg, "/");

		if (n == 0)
			return "has an empty path segment";
		if ((n == 1 && seg[0] == '.') || (n == 2 && !strncmp(seg, "..", 2)))
			return "has a \".\" or \"..\" path segment";
		for (size_t i = 0; i < n; i++)
			if (!isalnum((unsigned char)seg[i]) && !strchr("._-", seg[i]))
				return "has a path character other than [A-Za-z0-9._-]";
		if (!seg[n])
			return NULL;
		seg += n + 1;
	}
}

/* The placeholders a template may hold. */
static const char *const placeholders[] = { "{job_id}", "{upload_id}", "{privilege}" };

/* Placeholders in a template (a mount host, a label value): only the known
 * ones, every '{' closed, no stray '}'. NULL if fine, else why (possibly
 * in why[]). */
static const char *template_problem(const char *s, char *why, size_t whylen)
{
	for (size_t i = 0; s[i]; i++) {
		size_t k, m;

		if (s[i] == '}')
			return "holds a '}' that closes no placeholder";
		if (s[i] != '{')
			continue;
		m = strcspn(s + i, "}");
		if (!s[i + m])
			return "holds a '{' that is never closed";
		for (k = 0; k < sizeof placeholders / sizeof *placeholders; k++)
			if (strlen(placeholders[k]) == m + 1 &&
			    !strncmp(s + i, placeholders[k], m + 1))
				break;
		if (k == sizeof placeholders / sizeof *placeholders) {
			snprintf(why, whylen, "holds the unknown placeholder "
				 "\"%.*s\" (known: {job_id} {upload_id} {privilege})",
				 (int)m + 1, s + i);
			return why;
		}
		i += m;
	}
	return NULL;
}

/* Check a path: absolute, no "." or ".." segment, no empty segment, no
 * ':' ',' or control character, and placeholders only if templ (and then
 * only the known ones). NULL if fine, else why (possibly in why[]). */
static const char *path_problem(const char *s, bool templ, char *why, size_t whylen)
{
	size_t n = strlen(s);
	const char *pp;

	if (n == 0 || n > MAX_PATH_LEN)
		return "is empty or longer than 1024 bytes";
	if (s[0] != '/')
		return "is not absolute";
	for (size_t i = 0; i < n; i++) {
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return "holds a control character";
		if (s[i] == ':' || s[i] == ',')
			return "holds ':' or ',' (podman's volume separators)";
	}
	if (!templ && strpbrk(s, "{}"))
		return "holds a placeholder where none is allowed";
	if ((pp = template_problem(s, why, whylen)))
		return pp;
	for (const char *seg = s + 1;; ) {
		size_t m = strcspn(seg, "/");

		if (m == 0 && seg[0])
			return "has an empty segment (\"//\")";
		if ((m == 1 && seg[0] == '.') || (m == 2 && !strncmp(seg, "..", 2)))
			return "has a \".\" or \"..\" segment";
		if (!seg[m])
			break;
		seg += m + 1;
	}
	return NULL;
}

/* Parse "ADDR" or "ADDR/LEN" into *p; host bits must be zero. */
static bool parse_prefix(const char *s, Pfx *p, bool host_only)
{
	char buf[64];
	const char *slash = strchr(s, '/');
	size_t n = slash ? (size_t)(slash - s) : strlen(s);
	long len;
	char *end;
	int max, full;

	if (n == 0 || n >= sizeof buf)
		return false;
	memcpy(buf, s, n);
	buf[n] = '\0';
	memset(p, 0, sizeof *p);
	if (inet_pton(AF_INET, buf, p->addr) == 1)
		p->fam = AF_INET, max = 32;
	else if (inet_pton(AF_INET6, buf, p->addr) == 1)
		p->fam = AF_INET6, max = 128;
	else
		return false;
	len = max;
	if (slash) {
		if (host_only || !isdigit((unsigned char)slash[1]))
			return false;
		errno = 0;
		len = strtol(slash + 1, &end, 10);
		if (errno || *end || len < 0 || len > max)
			return false;
	}
	p->len = (int)len;
	full = (int)len / 8;
	for (int i = full; i < max / 8; i++) {
		uint8_t mask = i == full ? (uint8_t)(0xff >> (len % 8)) : 0xff;

		if (p->addr[i] & mask)
			return false;
	}
	return true;
}

/* ---- pass 3: build ----------------------------------------------------- */

/* A required string field: present, then copied into the arena. */
static const char *need_str(Ld *ld, const char *where, const char *field,
			    const char *v)
{
	if (!v)
		return bundle_fail(ld, "%s%s%s: missing", where, *where ? "." : "", field),
		       NULL;
	return arena_strdup(ld->a, v);
}

/* Copy a list of at most max strings into the arena, each checked by ok();
 * what names the rule for the message. */
static const char *const *copy_strs(Ld *ld, const char *where, const char *field,
				    char **v, size_t n, int max, int *out_n,
				    bool (*ok)(const char *), const char *what)
{
	const char **r;

	if (n > (size_t)max)
		return bundle_fail(ld, "%s.%s: more than %d entries", where, field,
			    max), NULL;
	r = arena_alloc(ld->a, (n + 1) * sizeof *r);
	for (size_t i = 0; i < n; i++) {
		if (ok && !ok(v[i]))
			return bundle_fail(ld, "%s.%s[%zu]: \"%s\" is not %s", where, field, i,
				    v[i], what), NULL;
		r[i] = arena_strdup(ld->a, v[i]);
	}
	*out_n = (int)n;
	return r;
}

static bool ok_text(const char *s)
{
	return valid_text(s, MAX_TEXT);
}

static bool ok_prefix(const char *s)
{
	Pfx p;

	return parse_prefix(s, &p, false);
}

static uint64_t name_hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;	/* FNV-1a */

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

/* Check that names[0..n) (stride bytes apart) are unique; the first
 * repeat is reported with the first entry of that name. Linear: an open
 * addressing table of index + 1, in the load's arena. */
static bool unique_names(Ld *ld, const char *list, const void *arr, int n,
			 size_t stride)
{
	size_t cap = 16;
	int *slot;

	while (cap < 2 * (size_t)n)
		cap *= 2;
	slot = arena_alloc(ld->a, cap * sizeof *slot);
	for (int i = 0; i < n; i++) {
		const char *a = *(const char *const *)((const char *)arr + i * stride);
		size_t k = name_hash(a) & (cap - 1);

		for (; slot[k]; k = (k + 1) & (cap - 1)) {
			int j = slot[k] - 1;
			const char *c = *(const char *const *)((const char *)arr + j * stride);

			if (!strcmp(a, c))
				return bundle_fail(ld, "%s[%d].name: \"%s\" is also %s[%d]'s name",
					    list, i, a, list, j);
		}
		slot[k] = i + 1;
	}
	return true;
}

/* A list of at least min and at most max entries. */
static bool check_count(Ld *ld, const char *field, size_t n, size_t min, int max)
{
	if (n < min)
		return bundle_fail(ld, "%s: missing (at least %zu needed)", field, min);
	if (n > (size_t)max)
		return bundle_fail(ld, "%s: more than %d entries", field, max);
	return true;
}

/* A name field: present and a valid policy name. */
static const char *need_name(Ld *ld, const char *where, const char *field,
			     const char *v)
{
	if (!need_str(ld, where, field, v))
		return NULL;
	if (!valid_name(v))
		return bundle_fail(ld, "%s%s%s: \"%s\" is not a name ([A-Za-z_][A-Za-z0-9_-], "
			    "at most %d)", where, *where ? "." : "", field, v,
			    MAX_NAME), NULL;
	return arena_strdup(ld->a, v);
}

static bool build_via(Ld *ld, const char *where, const Fp__Via *m, FpVia *v,
		      SrcAddrs *sa)
{
	if (!m->has_kind)
		return bundle_fail(ld, "%s.kind: missing", where);
	v->uid = -1;
	switch (m->kind) {
	case FP__VIA_KIND__VIA_NET:
		v->kind = FP_VIA_NET;
		if (!m->n_ifaces && !m->n_addrs)
			return bundle_fail(ld, "%s: a network via needs interfaces or addresses",
				    where);
		if (m->user || m->has_uid)
			return bundle_fail(ld, "%s.user: set on a network via", where);
		v->ifaces = copy_strs(ld, where, "ifaces", m->ifaces, m->n_ifaces,
				      MAX_ITEMS, &v->n_ifaces, valid_iface,
				      "an interface pattern (1-15 of [A-Za-z0-9_.-], then an optional *)");
		v->addrs = copy_strs(ld, where, "addrs", m->addrs, m->n_addrs,
				     MAX_ADDRS, &v->n_addrs, ok_prefix,
				     "an address or a prefix without host bits");
		if (ld->failed)
			return false;
		if (v->n_addrs) {
			Pfx *nv = arena_alloc(ld->a, (size_t)(sa->n + v->n_addrs) * sizeof *nv);

			if (sa->n)
				memcpy(nv, sa->v, (size_t)sa->n * sizeof *nv);
			for (int i = 0; i < v->n_addrs; i++)
				parse_prefix(v->addrs[i], &nv[sa->n + i], false);
			sa->v = nv;
			sa->n += v->n_addrs;
		}
		return true;
	case FP__VIA_KIND__VIA_USER:
		v->kind = FP_VIA_USER;
		if (m->n_ifaces || m->n_addrs)
			return bundle_fail(ld, "%s: a user via has interfaces or addresses", where);
		if (!(v->user = need_name(ld, where, "user", m->user)))
			return false;
		if (m->has_uid && (m->uid < 0 || m->uid > INT32_MAX))
			return bundle_fail(ld, "%s.uid: %lld is not a uid", where,
				    (long long)m->uid);
		v->uid = m->has_uid ? (long)m->uid : -1;
		return true;
	case FP__VIA_KIND__VIA_ANY:
		v->kind = FP_VIA_ANY;
		if (m->n_ifaces || m->n_addrs || m->user || m->has_uid)
			return bundle_fail(ld, "%s: `via any` has nothing else", where);
		return true;
	default:
		return bundle_fail(ld, "%s.kind: unknown kind %d", where, (int)m->kind);
	}
}

static bool build_sources(Ld *ld, const Fp__Bundle *m)
{
	FpBundle *b = ld->b;

	if (!check_count(ld, "sources", m->n_sources, 1, MAX_SOURCES))
		return false;
	b->n_sources = (int)m->n_sources;
	b->sources = arena_alloc(ld->a, m->n_sources * sizeof *b->sources);
	b->src_addrs = arena_alloc(ld->a, m->n_sources * sizeof *b->src_addrs);
	for (size_t i = 0; i < m->n_sources; i++) {
		const Fp__Source *ms = m->sources[i];
		FpSource *s = &b->sources[i];
		char where[64];
		FpVia *vias;

		snprintf(where, sizeof where, "sources[%zu]", i);
		if (!(s->name = need_name(ld, where, "name", ms->name)))
			return false;
		snprintf(where, sizeof where, "sources[%zu].vias", i);
		if (!check_count(ld, where, ms->n_vias, 1, MAX_ITEMS))
			return false;
		vias = arena_alloc(ld->a, ms->n_vias * sizeof *vias);
		for (size_t j = 0; j < ms->n_vias; j++) {
			snprintf(where, sizeof where, "sources[%zu].vias[%zu]", i, j);
			if (!build_via(ld, where, ms->vias[j], &vias[j], &b->src_addrs[i]))
				return false;
			if (vias[j].kind == FP_VIA_ANY)
				s->catch_all = true;
		}
		if (s->catch_all && ms->n_vias != 1)
			return bundle_fail(ld, "sources[%zu].vias: `via any` must stand alone", i);
		s->vias = vias;
		s->n_vias = (int)ms->n_vias;
	}
	return unique_names(ld, "sources", b->sources, b->n_sources, sizeof(FpSource));
}

static bool build_service(Ld *ld, const char *where, const Fp__Service *m,
			  FpService *s)
{
	char why[160];
	const char *pp;
	Pfx p;

	if (!(s->name = need_name(ld, where, "name", m->name)))
		return false;
	if (!m->has_kind)
		return bundle_fail(ld, "%s.kind: missing", where);
	switch (m->kind) {
	case FP__SERVICE_KIND__SVC_TCP:
	case FP__SERVICE_KIND__SVC_UDP:
		s->kind = m->kind == FP__SERVICE_KIND__SVC_TCP ? FP_SVC_TCP : FP_SVC_UDP;
		if (!m->has_port_lo || !m->has_port_hi)
			return bundle_fail(ld, "%s.port_%s: missing", where,
				    m->has_port_lo ? "hi" : "lo");
		if (m->port_lo < 1 || m->port_lo > 65535)
			return bundle_fail(ld, "%s.port_lo: %u is not a port (1-65535)", where,
				    m->port_lo);
		if (m->port_hi < m->port_lo || m->port_hi > 65535)
			return bundle_fail(ld, "%s.port_hi: %u is not a port from port_lo %u to 65535",
				    where, m->port_hi, m->port_lo);
		s->port_lo = (int)m->port_lo;
		s->port_hi = (int)m->port_hi;
		if (m->listen && !parse_prefix(m->listen, &p, true))
			return bundle_fail(ld, "%s.listen: \"%s\" is not an address", where,
				    m->listen);
		s->listen = m->listen ? arena_strdup(ld->a, m->listen) : NULL;
		if (m->path || m->owner || m->group || m->has_mode || m->n_dests)
			return bundle_fail(ld, "%s: a %s service has unix or egress fields", where,
				    s->kind == FP_SVC_TCP ? "tcp" : "udp");
		return true;
	case FP__SERVICE_KIND__SVC_UNIX:
		s->kind = FP_SVC_UNIX;
		if (!(s->path = need_str(ld, where, "path", m->path)))
			return false;
		if ((pp = path_problem(s->path, false, why, sizeof why)))
			return bundle_fail(ld, "%s.path: \"%s\" %s", where, s->path, pp);
		if (!(s->owner = need_name(ld, where, "owner", m->owner)) ||
		    !(s->group = need_name(ld, where, "group", m->group)))
			return false;
		if (!m->has_mode)
			return bundle_fail(ld, "%s.mode: missing", where);
		if (m->mode > 07777)
			return bundle_fail(ld, "%s.mode: %#o is not a mode (at most 07777)", where,
				    m->mode);
		s->mode = (int)m->mode;
		if (m->has_port_lo || m->has_port_hi || m->listen || m->n_dests)
			return bundle_fail(ld, "%s: a unix service has port or egress fields", where);
		return true;
	case FP__SERVICE_KIND__SVC_EGRESS:
		s->kind = FP_SVC_EGRESS;
		s->dests = copy_strs(ld, where, "dests", m->dests, m->n_dests,
				     MAX_ITEMS, &s->n_dests, ok_prefix,
				     "an address or a prefix without host bits");
		if (ld->failed)
			return false;
		if (m->has_port_lo || m->has_port_hi || m->listen || m->path ||
		    m->owner || m->group || m->has_mode)
			return bundle_fail(ld, "%s: an egress service has port or unix fields", where);
		return true;
	default:
		return bundle_fail(ld, "%s.kind: unknown kind %d", where, (int)m->kind);
	}
}

static bool build_services(Ld *ld, const Fp__Bundle *m)
{
	FpBundle *b = ld->b;

	if (!check_count(ld, "services", m->n_services, 1, MAX_ITEMS))
		return false;
	b->n_services = (int)m->n_services;
	b->services = arena_alloc(ld->a, m->n_services * sizeof *b->services);
	for (size_t i = 0; i < m->n_services; i++) {
		char where[64];

		snprintf(where, sizeof where, "services[%zu]", i);
		if (!build_service(ld, where, m->services[i], &b->services[i]))
			return false;
	}
	return unique_names(ld, "services", b->services, b->n_services,
			    sizeof(FpService));
}

static bool build_trust(Ld *ld, const Fp__Bundle *m)
{
	FpBundle *b = ld->b;

	if (m->n_trust != m->n_sources)
		return bundle_fail(ld, "trust: %zu rows for %zu sources", m->n_trust,
			    m->n_sources);
	b->cells = arena_alloc(ld->a, (size_t)b->n_sources * (size_t)b->n_services *
			       sizeof *b->cells);
	for (int i = 0; i < b->n_sources; i++) {
		const Fp__TrustRow *r = m->trust[i];

		if (!r->source)
			return bundle_fail(ld, "trust[%d].source: missing", i);
		if (strcmp(r->source, b->sources[i].name))
			return bundle_fail(ld, "trust[%d].source: \"%s\" is not sources[%d] (\"%s\")",
				    i, r->source, i, b->sources[i].name);
		if (r->n_cells != (size_t)b->n_services)
			return bundle_fail(ld, "trust[%d].cells: %zu cells for %d services", i,
				    r->n_cells, b->n_services);
		for (int j = 0; j < b->n_services; j++) {
			FpCell c;

			switch (r->cells[j]) {
			case FP__CELL__CELL_NONE: c = FP_CELL_NONE; break;
			case FP__CELL__CELL_ALLOW: c = FP_CELL_ALLOW; break;
			case FP__CELL__CELL_DENY: c = FP_CELL_DENY; break;
			default:
				return bundle_fail(ld, "trust[%d].cells[%d]: unknown cell %d", i, j,
					    (int)r->cells[j]);
			}
			b->cells[i * b->n_services + j] = c;
		}
	}
	return true;
}

static bool build_mounts(Ld *ld, const Fp__Bundle *m)
{
	FpBundle *b = ld->b;
	char why[160];

	if (!check_count(ld, "mounts", m->n_mounts, 0, MAX_ITEMS))
		return false;
	b->n_mounts = (int)m->n_mounts;
	b->mounts = arena_alloc(ld->a, (m->n_mounts + 1) * sizeof *b->mounts);
	for (size_t i = 0; i < m->n_mounts; i++) {
		const Fp__Mount *mm = m->mounts[i];
		FpMount *mt = &b->mounts[i];
		const char *pp;
		char where[64];

		snprintf(where, sizeof where, "mounts[%zu]", i);
		if (!(mt->name = need_name(ld, where, "name", mm->name)) ||
		    !(mt->host = need_str(ld, where, "host", mm->host)) ||
		    !(mt->target = need_str(ld, where, "target", mm->target)))
			return false;
		if ((pp = path_problem(mt->host, true, why, sizeof why)))
			return bundle_fail(ld, "%s.host: \"%s\" %s", where, mt->host, pp);
		if ((pp = path_problem(mt->target, false, why, sizeof why)))
			return bundle_fail(ld, "%s.target: \"%s\" %s", where, mt->target, pp);
		if (mm->has_mode) {
			if (mm->mode != FP__MODE__MODE_RO && mm->mode != FP__MODE__MODE_RW)
				return bundle_fail(ld, "%s.mode: unknown mode %d", where, (int)mm->mode);
			mt->has_mode = true;
			mt->mode = mm->mode == FP__MODE__MODE_RW ? FP_MODE_RW : FP_MODE_RO;
		}
		if (mm->service) {
			const FpService *s = bundle_service(b, mm->service);

			if (!s || s->kind != FP_SVC_UNIX)
				return bundle_fail(ld, "%s.service: \"%s\" is not a unix service",
					    where, mm->service);
			if (strcmp(mt->host, s->path) || strcmp(mt->target, s->path))
				return bundle_fail(ld, "%s: a socket mount of \"%s\" must have host "
					    "and target \"%s\"", where, s->name, s->path);
			mt->service = s->name;
		}
		for (size_t j = 0; j < i; j++)
			if (!strcmp(b->mounts[j].target, mt->target))
				return bundle_fail(ld, "%s.target: \"%s\" is also mounts[%zu]'s target",
					    where, mt->target, j);
	}
	return unique_names(ld, "mounts", b->mounts, b->n_mounts, sizeof(FpMount));
}

static bool build_range(Ld *ld, const char *where, const char *field,
			const Fp__Range *r, long lo, long hi, FpRange *out)
{
	if (!r)
		return bundle_fail(ld, "%s.%s: missing", where, field);
	if (!r->has_min || !r->has_max || !r->has_default_)
		return bundle_fail(ld, "%s.%s.%s: missing", where, field,
			    !r->has_min ? "min" : !r->has_max ? "max" : "default");
	if (r->min < lo || r->max > hi || r->min > r->max)
		return bundle_fail(ld, "%s.%s: %lld..%lld is not a range within %ld..%ld",
			    where, field, (long long)r->min, (long long)r->max, lo, hi);
	if (r->default_ < r->min || r->default_ > r->max)
		return bundle_fail(ld, "%s.%s.default: %lld is outside %lld..%lld", where,
			    field, (long long)r->default_, (long long)r->min,
			    (long long)r->max);
	*out = (FpRange){ (long)r->min, (long)r->max, (long)r->default_ };
	return true;
}

/* The index of mount name, or -1. */
static int mount_index(const FpBundle *b, const char *name)
{
	for (int i = 0; i < b->n_mounts; i++)
		if (!strcmp(b->mounts[i].name, name))
			return i;
	return -1;
}

static bool build_grants(Ld *ld, const char *where, const Fp__Privilege *m,
			 FpPrivilege *p)
{
	FpBundle *b = ld->b;
	FpGrant *g = arena_alloc(ld->a, (m->n_grants + 1) * sizeof *g);
	int last = -1;

	if (m->n_grants > (size_t)b->n_mounts)
		return bundle_fail(ld, "%s.grants: more grants than mounts", where);
	for (size_t i = 0; i < m->n_grants; i++) {
		const Fp__Grant *mg = m->grants[i];
		int k;

		if (!mg->mount)
			return bundle_fail(ld, "%s.grants[%zu].mount: missing", where, i);
		if ((k = mount_index(b, mg->mount)) < 0)
			return bundle_fail(ld, "%s.grants[%zu].mount: no mount is called \"%s\"",
				    where, i, mg->mount);
		if (k <= last)
			return bundle_fail(ld, "%s.grants[%zu].mount: \"%s\" is out of mount "
				    "declaration order or repeated", where, i, mg->mount);
		last = k;
		if (!mg->has_mode)
			return bundle_fail(ld, "%s.grants[%zu].mode: missing", where, i);
		if (mg->mode != FP__MODE__MODE_RO && mg->mode != FP__MODE__MODE_RW)
			return bundle_fail(ld, "%s.grants[%zu].mode: unknown mode %d", where, i,
				    (int)mg->mode);
		g[i].mount = &b->mounts[k];
		g[i].mode = mg->mode == FP__MODE__MODE_RW ? FP_MODE_RW : FP_MODE_RO;
		if (b->mounts[k].has_mode && b->mounts[k].mode != g[i].mode)
			return bundle_fail(ld, "%s.grants[%zu].mode: mount \"%s\" is declared %s",
				    where, i, mg->mount,
				    b->mounts[k].mode == FP_MODE_RW ? "rw" : "ro");
		if (!strcmp(b->mounts[k].target, "/work")) {
			p->has_work = true;
			p->work_mode = g[i].mode;
		}
	}
	p->grants = g;
	p->n_grants = (int)m->n_grants;
	return true;
}

static bool build_privileges(Ld *ld, const Fp__Bundle *m)
{
	FpBundle *b = ld->b;

	if (!check_count(ld, "privileges", m->n_privileges, 0, MAX_ITEMS))
		return false;
	b->n_privileges = (int)m->n_privileges;
	b->privileges = arena_alloc(ld->a, (m->n_privileges + 1) * sizeof *b->privileges);
	for (size_t i = 0; i < m->n_privileges; i++) {
		const Fp__Privilege *mp = m->privileges[i];
		FpPrivilege *p = &b->privileges[i];
		const FpSecret **secs;
		char where[64];

		snprintf(where, sizeof where, "privileges[%zu]", i);
		if (!(p->name = need_name(ld, where, "name", mp->name)))
			return false;
		if (mp->n_secrets > MAX_ITEMS)
			return bundle_fail(ld, "%s.secrets: more than %d entries", where, MAX_ITEMS);
		secs = arena_alloc(ld->a, (mp->n_secrets + 1) * sizeof *secs);
		for (size_t j = 0; j < mp->n_secrets; j++) {
			FpSecret *s = arena_alloc(ld->a, sizeof *s);
			char *key;

			if (!valid_secret(mp->secrets[j]))
				return bundle_fail(ld, "%s.secrets[%zu]: \"%s\" is not a secret name "
					    "([A-Za-z_][A-Za-z0-9_]*)", where, j, mp->secrets[j]);
			s->name = arena_strdup(ld->a, mp->secrets[j]);
			s->key = key = arena_strdup(ld->a, mp->secrets[j]);
			for (; *key; key++)
				*key = (char)tolower((unsigned char)*key);
			for (size_t k = 0; k < j; k++)
				if (!strcmp(secs[k]->key, s->key))
					return bundle_fail(ld, "%s.secrets[%zu]: \"%s\" repeats "
						    "secrets[%zu] (key \"%s\")", where, j,
						    s->name, k, s->key);
			secs[j] = s;
		}
		p->secrets = secs;
		p->n_secrets = (int)mp->n_secrets;
		if (!build_grants(ld, where, mp, p) ||
		    !build_range(ld, where, "cpus", mp->cpus, 1, 1024, &p->cpus) ||
		    !build_range(ld, where, "memory_gb", mp->memory_gb, 1, 65536,
				 &p->memory_gb) ||
		    !build_range(ld, where, "timeout_min", mp->timeout_min, 1, 525600,
				 &p->timeout_min))
			return false;
	}
	return unique_names(ld, "privileges", b->privileges, b->n_privileges,
			    sizeof(FpPrivilege));
}

static int cmp_secret(const void *x, const void *y)
{
	return strcmp(((const FpSecret *)x)->name, ((const FpSecret *)y)->name);
}

/* Every secret of every privilege, once, sorted by name; two spellings
 * of one secrets.json key are an error. */
static bool build_secrets(Ld *ld)
{
	FpBundle *b = ld->b;
	int total = 0;

	for (int i = 0; i < b->n_privileges; i++)
		total += b->privileges[i].n_secrets;
	b->secrets = arena_alloc(ld->a, (size_t)(total + 1) * sizeof *b->secrets);
	for (int i = 0; i < b->n_privileges; i++)
		for (int j = 0; j < b->privileges[i].n_secrets; j++) {
			const FpSecret *s = b->privileges[i].secrets[j];
			int k;

			for (k = 0; k < b->n_secrets; k++)
				if (!strcmp(b->secrets[k].key, s->key))
					break;
			if (k < b->n_secrets && strcmp(b->secrets[k].name, s->name))
				return bundle_fail(ld, "privileges[%d].secrets[%d]: \"%s\" and \"%s\" "
					    "are both secrets.json key \"%s\"", i, j, s->name,
					    b->secrets[k].name, s->key);
			if (k == b->n_secrets)
				b->secrets[b->n_secrets++] = *s;
		}
	qsort(b->secrets, (size_t)b->n_secrets, sizeof *b->secrets, cmp_secret);
	return true;
}

static bool build_identities(Ld *ld, const Fp__Bundle *m)
{
	FpBundle *b = ld->b;

	if (m->n_identities && !b->trust_domain)
		return bundle_fail(ld, "trust_domain: missing (identities need one)");
	if (!check_count(ld, "identities", m->n_identities, 0, MAX_ITEMS))
		return false;
	b->n_identities = (int)m->n_identities;
	b->identities = arena_alloc(ld->a, (m->n_identities + 1) * sizeof *b->identities);
	for (size_t i = 0; i < m->n_identities; i++) {
		const Fp__Identity *mi = m->identities[i];
		FpIdentity *id = &b->identities[i];
		const char *why;
		char where[64], buf[320];

		snprintf(where, sizeof where, "identities[%zu]", i);
		if (!(id->name = need_name(ld, where, "name", mi->name)) ||
		    !(id->spiffe_id = need_str(ld, where, "spiffe_id", mi->spiffe_id)))
			return false;
		if ((why = spiffe_problem(id->spiffe_id, b->trust_domain, buf,
					  sizeof buf)))
			return bundle_fail(ld, "%s.spiffe_id: \"%s\" %s", where, id->spiffe_id,
				    why);
		for (size_t j = 0; j < i; j++)
			if (!strcmp(b->identities[j].spiffe_id, id->spiffe_id))
				return bundle_fail(ld, "%s.spiffe_id: \"%s\" is also identities[%zu]'s",
					    where, id->spiffe_id, j);
		snprintf(where, sizeof where, "identities[%zu].selectors", i);
		if (!check_count(ld, where, mi->n_selectors, 1, MAX_ITEMS))
			return false;
		snprintf(where, sizeof where, "identities[%zu]", i);
		id->selectors = copy_strs(ld, where, "selectors", mi->selectors,
					  mi->n_selectors, MAX_ITEMS, &id->n_selectors, ok_text,
					  "a selector (text without control characters)");
		if (ld->failed)
			return false;
		if (!mi->privilege)
			return bundle_fail(ld, "%s.privilege: missing", where);
		if (!(id->privilege = bundle_privilege(b, mi->privilege)))
			return bundle_fail(ld, "%s.privilege: no privilege is called \"%s\"", where,
				    mi->privilege);
	}
	return unique_names(ld, "identities", b->identities, b->n_identities,
			    sizeof(FpIdentity));
}

static bool ok_cap(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > MAX_NAME)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isupper((unsigned char)s[i]) && !isdigit((unsigned char)s[i]) &&
		    s[i] != '_')
			return false;
	return true;
}

static bool ok_secopt(const char *s)
{
	return bundle_valid_token(s);
}

static bool build_labels(Ld *ld, const Fp__Container *m, FpContainer *c)
{
	FpLabel *l;
	char why[160];

	if (!check_count(ld, "container.labels", m->n_labels, 0, MAX_ITEMS))
		return false;
	l = arena_alloc(ld->a, (m->n_labels + 1) * sizeof *l);
	for (size_t i = 0; i < m->n_labels; i++) {
		const Fp__Label *ml = m->labels[i];
		const char *pp;
		char where[64];

		snprintf(where, sizeof where, "container.labels[%zu]", i);
		if (!(l[i].key = need_str(ld, where, "key", ml->key)) ||
		    !(l[i].value = need_str(ld, where, "value", ml->value)))
			return false;
		if (!bundle_valid_token(l[i].key) || strchr(l[i].key, '=') ||
		    strchr(l[i].key, ','))
			return bundle_fail(ld, "%s.key: \"%s\" is not a label key "
				    "([A-Za-z0-9_.:/+-], not beginning with '-')", where,
				    l[i].key);
		if (l[i].value[0] && !valid_text(l[i].value, MAX_TEXT))
			return bundle_fail(ld, "%s.value: holds a control character or is too long",
				    where);
		if ((pp = template_problem(l[i].value, why, sizeof why)))
			return bundle_fail(ld, "%s.value: \"%s\" %s", where, l[i].value, pp);
		for (size_t j = 0; j < i; j++)
			if (!strcmp(l[j].key, l[i].key))
				return bundle_fail(ld, "%s.key: \"%s\" is also labels[%zu]'s key",
					    where, l[i].key, j);
	}
	c->labels = l;
	c->n_labels = (int)m->n_labels;
	return true;
}

static bool build_container(Ld *ld, const Fp__Bundle *bm)
{
	const Fp__Container *m = bm->container;
	FpContainer *c = &ld->b->container;

	if (!m) {
		if (ld->b->n_mounts || ld->b->n_privileges || ld->b->n_identities)
			return bundle_fail(ld, "container: missing (mounts, privileges "
					   "and identities need one)");
		return true;	/* a firewall-only policy */
	}
	ld->b->has_container = true;
	if (m->source) {
		if (!bundle_source(ld->b, m->source))
			return bundle_fail(ld, "container.source: no source is called \"%s\"",
				    m->source);
		c->source = bundle_source(ld->b, m->source)->name;
	}
	if (!(c->engine = need_str(ld, "container", "engine", m->engine)))
		return false;
	if (strcmp(c->engine, "podman"))
		return bundle_fail(ld, "container.engine: \"%s\" is not supported (podman only)",
			    c->engine);
	if (!m->has_rootless)
		return bundle_fail(ld, "container.rootless: missing");
	c->rootless = m->rootless;
	if (!(c->user = need_name(ld, "container", "user", m->user)))
		return false;
	if (m->has_uid && (m->uid < 0 || m->uid > INT32_MAX))
		return bundle_fail(ld, "container.uid: %lld is not a uid", (long long)m->uid);
	c->uid = m->has_uid ? (long)m->uid : -1;
	if (m->userns && !bundle_valid_token(m->userns))
		return bundle_fail(ld, "container.userns: \"%s\" is not a podman mode",
				   m->userns);
	if (m->network && !bundle_valid_token(m->network))
		return bundle_fail(ld, "container.network: \"%s\" is not a podman mode",
				   m->network);
	c->userns = m->userns ? arena_strdup(ld->a, m->userns) : NULL;
	c->network = m->network ? arena_strdup(ld->a, m->network) : NULL;
	if (m->image && !bundle_valid_image(m->image))
		return bundle_fail(ld, "container.image: \"%s\" is not an image reference",
			    m->image);
	c->image = m->image ? arena_strdup(ld->a, m->image) : NULL;
	c->cap_drop = copy_strs(ld, "container", "cap_drop", m->cap_drop,
				m->n_cap_drop, MAX_ITEMS, &c->n_cap_drop, ok_cap,
				"a capability name ([A-Z0-9_], like ALL or NET_RAW)");
	c->security_opts = copy_strs(ld, "container", "security_opts",
				     m->security_opts, m->n_security_opts, MAX_ITEMS,
				     &c->n_security_opts, ok_secopt,
				     "a security option ([A-Za-z0-9_.:=/,+-])");
	if (ld->failed)
		return false;
	return build_labels(ld, m, c);
}

/* A service mount's socket is never given to jobs whose source the trust
 * table denies that service (as sema checks it). */
static bool check_socket_grants(Ld *ld)
{
	FpBundle *b = ld->b;
	const FpSource *src;
	int row;

	if (!b->container.source)
		return true;
	src = bundle_source(b, b->container.source);
	row = (int)(src - b->sources);
	for (int i = 0; i < b->n_privileges; i++)
		for (int j = 0; j < b->privileges[i].n_grants; j++) {
			const FpMount *mt = b->privileges[i].grants[j].mount;
			int col;

			if (!mt->service)
				continue;
			col = (int)(bundle_service(b, mt->service) - b->services);
			if (b->cells[row * b->n_services + col] == FP_CELL_DENY)
				return bundle_fail(ld, "privileges[%d].grants[%d]: socket mount \"%s\" "
					    "for source \"%s\", which the trust table denies "
					    "\"%s\"", i, j, mt->name, src->name, mt->service);
		}
	return true;
}

static bool build_invariants(Ld *ld, const Fp__Bundle *m)
{
	FpBundle *b = ld->b;

	if (!check_count(ld, "invariants", m->n_invariants, 0, MAX_ITEMS))
		return false;
	b->n_invariants = (int)m->n_invariants;
	b->invariants = arena_alloc(ld->a, (m->n_invariants + 1) * sizeof *b->invariants);
	for (size_t i = 0; i < m->n_invariants; i++) {
		FpInvariant *v = &b->invariants[i];
		char where[64];

		snprintf(where, sizeof where, "invariants[%zu]", i);
		if (!(v->name = need_name(ld, where, "name", m->invariants[i]->name)) ||
		    !(v->text = need_str(ld, where, "text", m->invariants[i]->text)))
			return false;
		if (!valid_text(v->text, MAX_TEXT))
			return bundle_fail(ld, "%s.text: empty, too long or holds a control character",
				    where);
	}
	return unique_names(ld, "invariants", b->invariants, b->n_invariants,
			    sizeof(FpInvariant));
}

static bool build_header(Ld *ld, const Fp__Bundle *m)
{
	FpBundle *b = ld->b;
	const char *h;

	b->format_version = m->format_version;
	if (!(b->fpc_version = need_str(ld, "", "fpc_version", m->fpc_version)) ||
	    !(h = b->sha256 = need_str(ld, "", "policy_sha256", m->policy_sha256)) ||
	    !(b->policy_name = need_name(ld, "", "policy_name", m->policy_name)) ||
	    !(b->table_family = need_name(ld, "", "table_family", m->table_family)) ||
	    !(b->table_name = need_name(ld, "", "table_name", m->table_name)))
		return false;
	if (!valid_text(b->fpc_version, MAX_NAME))
		return bundle_fail(ld, "fpc_version: not a version string");
	if (strlen(h) != 64 || strspn(h, "0123456789abcdef") != 64)
		return bundle_fail(ld, "policy_sha256: \"%.80s\" is not 64 lower-case hex digits",
			    h);
	if (m->trust_domain && !valid_trust_domain(m->trust_domain))
		return bundle_fail(ld, "trust_domain: \"%s\" is not a SPIFFE trust domain "
			    "([a-z0-9._-], at most 255)", m->trust_domain);
	b->trust_domain = m->trust_domain ? arena_strdup(ld->a, m->trust_domain) : NULL;
	return true;
}

/* Pass 3: the whole bundle, in dependency order. */
static bool build(Ld *ld, const Fp__Bundle *m)
{
	return build_header(ld, m) && build_sources(ld, m) &&
	       build_services(ld, m) && build_trust(ld, m) &&
	       build_mounts(ld, m) && build_privileges(ld, m) &&
	       build_secrets(ld) && build_identities(ld, m) &&
	       build_container(ld, m) && check_socket_grants(ld) &&
	       build_invariants(ld, m);
}

FpBundle *bundle_load(const void *data, size_t len, char *err, size_t errlen)
{
	Ld ld = { .err = err, .errlen = errlen };
	Fp__Bundle *m;

	if (err && errlen)
		err[0] = '\0';
	if (len > MAX_BUNDLE) {
		bundle_fail(&ld, "larger than %d bytes, not a policy bundle", MAX_BUNDLE);
		return NULL;
	}
	if (!bundle_wire_check(&ld, data, len))
		return NULL;
	m = fp__bundle__unpack(NULL, len, data);
	if (!m) {
		bundle_fail(&ld, "corrupt: the protobuf decoder refused it");
		return NULL;
	}
	ld.a = arena_new();
	ld.b = arena_alloc(ld.a, sizeof *ld.b);
	ld.b->arena = ld.a;
	if (!build(&ld, m)) {
		arena_free(ld.a);
		ld.b = NULL;
	}
	fp__bundle__free_unpacked(m, NULL);
	return ld.b;
}

FpBundle *bundle_load_file(const char *path, char *err, size_t errlen)
{
	char msg[BUNDLE_ERR_MAX];
	size_t len;
	struct stat st;
	char *data;
	FpBundle *b;

	/* a bundle is kilobytes; a huge file is not one (and would be read
	 * whole into memory) */
	if (stat(path, &st) == 0 && st.st_size > BUNDLE_FILE_MAX) {
		if (err && errlen)
			snprintf(err, errlen, "%s: larger than %d bytes: not a bundle",
				 path, BUNDLE_FILE_MAX);
		return NULL;
	}
	data = read_file(path, &len);
	if (data && len > BUNDLE_FILE_MAX) {
		free(data);
		errno = EFBIG;
		data = NULL;
	}
	if (!data) {
		if (err && errlen)
			snprintf(err, errlen, "%s: cannot read: %s", path, strerror(errno));
		return NULL;
	}
	b = bundle_load(data, len, msg, sizeof msg);
	free(data);
	if (!b && err && errlen)
		snprintf(err, errlen, "%s: %s", path, msg);
	return b;
}

void bundle_free(FpBundle *b)
{
	if (b)
		arena_free(b->arena);
}
