/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * emit_pb.c: policy.pb, the one bundle the daemons load (proto/policy.proto,
 * docs/artifacts.md), from the Policy IR.
 *
 * Every field is written in IR order (trust-table rows and columns,
 * declarations), and protobuf-c packs fields in field-number order, so the
 * same policy always gives the same bytes. The policy source's SHA-256
 * (OpenSSL EVP) ties a bundle to the text it came from.
 *
 * Before the bundle is handed back it is loaded with the daemons' own
 * loader (runtime/lib/bundle.c): fpc never writes a bundle a daemon would
 * refuse. A refusal is reported and fpc exits 1 before anything is written.
 */
#include "back.h"

#include "bundle.h"
#include "policy.pb-c.h"

#include <arpa/inet.h>
#include <openssl/evp.h>
#include <sys/socket.h>

/* "10.0.0.2", "10.0.0.0/24", "fd00::/64": a prefix as text (host prefixes
 * without a length). */
char *emit_pb_prefix(Arena *a, const Prefix *p)
{
	char buf[INET6_ADDRSTRLEN];
	int af = p->fam == FAM_IP4 ? AF_INET : AF_INET6;
	int full = p->fam == FAM_IP4 ? 32 : 128;

	if (!inet_ntop(af, p->addr, buf, sizeof buf))
		BUG("inet_ntop failed on a checked prefix");
	return p->len == full ? arena_strdup(a, buf) : arena_printf(a, "%s/%d", buf, p->len);
}

MountMode emit_pb_grant(const Privilege *pv, const Mount *m)
{
	if (m->mode != MODE_UNSET)
		return m->mode;
	for (int i = 0; i < pv->n_mounts; i++)
		if (pv->mounts[i].mount == m)
			return pv->mounts[i].mode;
	return MODE_UNSET;
}

void emit_pb_sha256(const Policy *p, char hex[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	if (!EVP_Digest(p->text ? p->text : "", p->text ? p->text_len : 0, md, &n,
			EVP_sha256(), NULL) || n != 32)
		BUG("SHA-256 failed");
	for (unsigned i = 0; i < n; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
}

/* An arena array of n pointers to fresh messages, each init'ed by init. */
#define PB_NEW(a, T, INIT) ({ T *m_ = arena_alloc((a), sizeof(T)); \
	*m_ = (T)INIT; m_; })
#define PB_ARR(a, T, n) ((T **)arena_alloc((a), ((size_t)(n) + 1) * sizeof(T *)))

/* Arena copies of n strings, as protobuf-c wants them (char **). */
static char **pb_strs(Arena *a, const char *const *v, int n)
{
	char **r = arena_alloc(a, ((size_t)n + 1) * sizeof *r);

	for (int i = 0; i < n; i++)
		r[i] = (char *)v[i];
	return r;
}

static Fp__Via *pb_via(Arena *a, const Via *v)
{
	Fp__Via *m = PB_NEW(a, Fp__Via, FP__VIA__INIT);

	m->has_kind = true;
	switch (v->kind) {
	case VIA_NET:
		m->kind = FP__VIA_KIND__VIA_NET;
		m->n_ifaces = (size_t)v->n_ifaces;
		m->ifaces = arena_alloc(a, ((size_t)v->n_ifaces + 1) * sizeof(char *));
		for (int i = 0; i < v->n_ifaces; i++)
			m->ifaces[i] = v->ifaces[i].wildcard ?
				arena_printf(a, "%s*", v->ifaces[i].name) :
				(char *)v->ifaces[i].name;
		m->n_addrs = (size_t)v->n_addrs;
		m->addrs = arena_alloc(a, ((size_t)v->n_addrs + 1) * sizeof(char *));
		for (int i = 0; i < v->n_addrs; i++)
			m->addrs[i] = emit_pb_prefix(a, &v->addrs[i]);
		break;
	case VIA_USER:
		m->kind = FP__VIA_KIND__VIA_USER;
		m->user = (char *)v->user;
		m->has_uid = v->uid >= 0;
		m->uid = v->uid >= 0 ? v->uid : 0;
		break;
	case VIA_ANY:
		m->kind = FP__VIA_KIND__VIA_ANY;
		break;
	default:
		BUG("unknown via kind %d", (int)v->kind);
	}
	return m;
}

static Fp__Source *pb_source(Arena *a, const Source *s)
{
	Fp__Source *m = PB_NEW(a, Fp__Source, FP__SOURCE__INIT);

	m->name = (char *)s->name;
	m->n_vias = (size_t)s->n_vias;
	m->vias = PB_ARR(a, Fp__Via, s->n_vias);
	for (int i = 0; i < s->n_vias; i++)
		m->vias[i] = pb_via(a, &s->vias[i]);
	return m;
}

static Fp__Service *pb_service(Arena *a, const Service *s)
{
	Fp__Service *m = PB_NEW(a, Fp__Service, FP__SERVICE__INIT);

	m->name = (char *)s->name;
	m->has_kind = true;
	switch (s->kind) {
	case SVC_TCP:
	case SVC_UDP:
		m->kind = s->kind == SVC_TCP ? FP__SERVICE_KIND__SVC_TCP :
			  FP__SERVICE_KIND__SVC_UDP;
		m->has_port_lo = m->has_port_hi = true;
		m->port_lo = (uint32_t)s->port_lo;
		m->port_hi = (uint32_t)s->port_hi;
		if (s->has_listen)
			m->listen = emit_pb_prefix(a, &s->listen);
		break;
	case SVC_UNIX:
		m->kind = FP__SERVICE_KIND__SVC_UNIX;
		m->path = (char *)s->path;
		m->owner = (char *)s->owner;
		m->group = (char *)s->group;
		m->has_mode = true;
		m->mode = (uint32_t)s->mode;
		break;
	case SVC_EGRESS:
		m->kind = FP__SERVICE_KIND__SVC_EGRESS;
		m->n_dests = (size_t)s->n_dests;
		m->dests = arena_alloc(a, ((size_t)s->n_dests + 1) * sizeof(char *));
		for (int i = 0; i < s->n_dests; i++)
			m->dests[i] = emit_pb_prefix(a, &s->dests[i]);
		break;
	default:
		BUG("unknown service kind %d", (int)s->kind);
	}
	return m;
}

static Fp__TrustRow *pb_row(Arena *a, const Policy *p, int row)
{
	Fp__TrustRow *m = PB_NEW(a, Fp__TrustRow, FP__TRUST_ROW__INIT);

	m->source = (char *)p->sources[row]->name;
	m->n_cells = (size_t)p->n_services;
	m->cells = arena_alloc(a, ((size_t)p->n_services + 1) * sizeof *m->cells);
	for (int j = 0; j < p->n_services; j++) {
		switch (policy_cell(p, row, j)->kind) {
		case CELL_NONE: m->cells[j] = FP__CELL__CELL_NONE; break;
		case CELL_ALLOW: m->cells[j] = FP__CELL__CELL_ALLOW; break;
		case CELL_DENY: m->cells[j] = FP__CELL__CELL_DENY; break;
		default: BUG("unknown cell kind %d", (int)policy_cell(p, row, j)->kind);
		}
	}
	return m;
}

static Fp__Identity *pb_identity(Arena *a, const Identity *id)
{
	Fp__Identity *m = PB_NEW(a, Fp__Identity, FP__IDENTITY__INIT);

	m->name = (char *)id->name;
	m->spiffe_id = (char *)id->spiffe_id;
	m->n_selectors = (size_t)id->n_selectors;
	m->selectors = pb_strs(a, id->selectors, id->n_selectors);
	m->privilege = (char *)id->privilege->name;
	return m;
}

/* A range; with no default given the minimum is the default. */
static Fp__Range *pb_range(Arena *a, const Range *r)
{
	Fp__Range *m = PB_NEW(a, Fp__Range, FP__RANGE__INIT);

	m->has_min = m->has_max = m->has_default_ = true;
	m->min = r->min;
	m->max = r->max;
	m->default_ = r->has_def ? r->def : r->min;
	return m;
}

static Fp__Mode pb_mode(MountMode mode)
{
	switch (mode) {
	case MODE_RO: return FP__MODE__MODE_RO;
	case MODE_RW: return FP__MODE__MODE_RW;
	default: BUG("mode %d has no bundle value", (int)mode);
	}
}

static Fp__Privilege *pb_privilege(Arena *a, const Policy *p, const Privilege *pv)
{
	Fp__Privilege *m = PB_NEW(a, Fp__Privilege, FP__PRIVILEGE__INIT);

	m->name = (char *)pv->name;
	m->n_secrets = (size_t)pv->n_secrets;
	m->secrets = pb_strs(a, pv->secrets, pv->n_secrets);
	m->grants = PB_ARR(a, Fp__Grant, p->n_mounts);
	for (int i = 0; i < p->n_mounts; i++) {
		MountMode mode = emit_pb_grant(pv, &p->mounts[i]);
		Fp__Grant *g;

		if (mode == MODE_UNSET)
			continue;
		g = PB_NEW(a, Fp__Grant, FP__GRANT__INIT);
		g->mount = (char *)p->mounts[i].name;
		g->has_mode = true;
		g->mode = pb_mode(mode);
		m->grants[m->n_grants++] = g;
	}
	m->cpus = pb_range(a, &pv->cpus);
	m->memory_gb = pb_range(a, &pv->memory_gb);
	m->timeout_min = pb_range(a, &pv->timeout_min);
	return m;
}

static Fp__Mount *pb_mount(Arena *a, const Mount *mt)
{
	Fp__Mount *m = PB_NEW(a, Fp__Mount, FP__MOUNT__INIT);

	m->name = (char *)mt->name;
	m->host = (char *)(mt->service ? mt->service->path : mt->host);
	m->target = (char *)(mt->service ? mt->service->path : mt->target);
	if (mt->mode != MODE_UNSET) {
		m->has_mode = true;
		m->mode = pb_mode(mt->mode);
	}
	if (mt->service)
		m->service = (char *)mt->service->name;
	return m;
}

static Fp__Container *pb_container(Arena *a, const Container *c)
{
	Fp__Container *m = PB_NEW(a, Fp__Container, FP__CONTAINER__INIT);

	m->source = c->source ? (char *)c->source->name : NULL;
	m->engine = (char *)c->engine;
	m->has_rootless = true;
	m->rootless = c->rootless;
	m->user = (char *)c->user;
	m->has_uid = c->uid >= 0;
	m->uid = c->uid >= 0 ? c->uid : 0;
	m->userns = (char *)c->userns;
	m->network = (char *)c->network;
	m->image = (char *)c->image;
	m->n_cap_drop = (size_t)c->n_cap_drop;
	m->cap_drop = pb_strs(a, c->cap_drop, c->n_cap_drop);
	m->n_security_opts = (size_t)c->n_security_opts;
	m->security_opts = pb_strs(a, c->security_opts, c->n_security_opts);
	m->n_labels = (size_t)c->n_labels;
	m->labels = PB_ARR(a, Fp__Label, c->n_labels);
	for (int i = 0; i < c->n_labels; i++) {
		Fp__Label *l = PB_NEW(a, Fp__Label, FP__LABEL__INIT);

		l->key = (char *)c->labels[i].key;
		l->value = (char *)c->labels[i].value;
		m->labels[i] = l;
	}
	return m;
}

/* The Bundle message of p (in p's arena; strings point into the IR). */
static Fp__Bundle *pb_bundle(const Policy *p)
{
	Arena *a = p->arena;
	Fp__Bundle *m = PB_NEW(a, Fp__Bundle, FP__BUNDLE__INIT);
	char *hex = arena_alloc(a, 65);

	m->has_format_version = true;
	m->format_version = BUNDLE_FORMAT_VERSION;
	m->fpc_version = (char *)FPC_VERSION;
	emit_pb_sha256(p, hex);
	m->policy_sha256 = hex;
	m->policy_name = (char *)p->name;
	m->table_family = (char *)p->table_family;
	m->table_name = (char *)p->table_name;
	m->n_sources = m->n_trust = (size_t)p->n_sources;
	m->sources = PB_ARR(a, Fp__Source, p->n_sources);
	m->trust = PB_ARR(a, Fp__TrustRow, p->n_sources);
	for (int i = 0; i < p->n_sources; i++) {
		m->sources[i] = pb_source(a, p->sources[i]);
		m->trust[i] = pb_row(a, p, i);
	}
	m->n_services = (size_t)p->n_services;
	m->services = PB_ARR(a, Fp__Service, p->n_services);
	for (int i = 0; i < p->n_services; i++)
		m->services[i] = pb_service(a, p->services[i]);
	m->trust_domain = (char *)p->trust_domain;
	m->n_identities = (size_t)p->n_identities;
	m->identities = PB_ARR(a, Fp__Identity, p->n_identities);
	for (int i = 0; i < p->n_identities; i++)
		m->identities[i] = pb_identity(a, &p->identities[i]);
	m->n_privileges = (size_t)p->n_privileges;
	m->privileges = PB_ARR(a, Fp__Privilege, p->n_privileges);
	for (int i = 0; i < p->n_privileges; i++)
		m->privileges[i] = pb_privilege(a, p, &p->privileges[i]);
	m->n_mounts = (size_t)p->n_mounts;
	m->mounts = PB_ARR(a, Fp__Mount, p->n_mounts);
	for (int i = 0; i < p->n_mounts; i++)
		m->mounts[i] = pb_mount(a, &p->mounts[i]);
	if (p->container.engine)	/* a container block was given */
		m->container = pb_container(a, &p->container);
	m->n_invariants = (size_t)p->n_invariants;
	m->invariants = PB_ARR(a, Fp__Invariant, p->n_invariants);
	for (int i = 0; i < p->n_invariants; i++) {
		Fp__Invariant *v = PB_NEW(a, Fp__Invariant, FP__INVARIANT__INIT);

		v->name = (char *)p->invariants[i].name;
		v->text = (char *)p->invariants[i].text;
		m->invariants[i] = v;
	}
	return m;
}

void emit_pb(const Policy *p, Buf *out)
{
	Fp__Bundle *m = pb_bundle(p);
	size_t n = fp__bundle__get_packed_size(m);
	uint8_t *data = xmalloc(n ? n : 1);

	if (fp__bundle__pack(m, data) != n)
		BUG("protobuf-c packed a different size than it announced");
	buf_append(out, data, n);
	free(data);
}

int emit_pb_artifact(const Policy *p, const Ruleset *rs, Buf *out)
{
	char err[BUNDLE_ERR_MAX];
	FpBundle *b;

	(void)rs;
	emit_pb(p, out);
	b = bundle_load(out->data, out->len, err, sizeof err);
	if (!b) {
		fprintf(stderr, "%s: error: the daemons would refuse this policy's "
			"bundle: %s\n", p->file ? p->file : "policy", err);
		return -1;
	}
	bundle_free(b);
	return 0;
}
