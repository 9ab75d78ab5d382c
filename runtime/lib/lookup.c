/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * lookup.c: what a loaded bundle answers (bundle.h): its header, its lists,
 * identities and privileges by name or SPIFFE ID, and whether a peer
 * address may reach a service.
 */
#include "bundle_int.h"

#include <netinet/in.h>

bool bundle_prefix_contains(const Pfx *p, int fam, const uint8_t *a)
{
	int full = p->len / 8, rest = p->len % 8;

	if (p->fam != fam || memcmp(p->addr, a, (size_t)full))
		return false;
	return !rest || ((p->addr[full] ^ a[full]) & (uint8_t)(0xff << (8 - rest))) == 0;
}

unsigned bundle_format_version(const FpBundle *b) { return b->format_version; }
const char *bundle_fpc_version(const FpBundle *b) { return b->fpc_version; }
const char *bundle_policy_sha256(const FpBundle *b) { return b->sha256; }
const char *bundle_policy_name(const FpBundle *b) { return b->policy_name; }
const char *bundle_table_family(const FpBundle *b) { return b->table_family; }
const char *bundle_table_name(const FpBundle *b) { return b->table_name; }
const char *bundle_trust_domain(const FpBundle *b) { return b->trust_domain; }
const FpContainer *bundle_container(const FpBundle *b)
{
	return b->has_container ? &b->container : NULL;
}

const FpSource *bundle_sources(const FpBundle *b, int *n)
{
	*n = b->n_sources;
	return b->sources;
}

const FpService *bundle_services(const FpBundle *b, int *n)
{
	*n = b->n_services;
	return b->services;
}

FpCell bundle_cell(const FpBundle *b, int src, int svc)
{
	if (src < 0 || src >= b->n_sources || svc < 0 || svc >= b->n_services)
		BUG("bundle_cell(%d, %d) outside %dx%d", src, svc, b->n_sources,
		    b->n_services);
	return b->cells[src * b->n_services + svc];
}

const FpIdentity *bundle_identities(const FpBundle *b, int *n)
{
	*n = b->n_identities;
	return b->identities;
}

const FpPrivilege *bundle_privileges(const FpBundle *b, int *n)
{
	*n = b->n_privileges;
	return b->privileges;
}

const FpMount *bundle_mounts(const FpBundle *b, int *n)
{
	*n = b->n_mounts;
	return b->mounts;
}

const FpInvariant *bundle_invariants(const FpBundle *b, int *n)
{
	*n = b->n_invariants;
	return b->invariants;
}

const FpSecret *bundle_secrets(const FpBundle *b, int *n)
{
	*n = b->n_secrets;
	return b->secrets;
}

const FpIdentity *bundle_identity_for_spiffe(const FpBundle *b,
					     const char *spiffe_id)
{
	if (!spiffe_id)
		return NULL;
	for (int i = 0; i < b->n_identities; i++)
		if (!strcmp(b->identities[i].spiffe_id, spiffe_id))
			return &b->identities[i];
	return NULL;
}

const FpPrivilege *bundle_privilege_for_spiffe(const FpBundle *b,
					       const char *spiffe_id)
{
	const FpIdentity *id = bundle_identity_for_spiffe(b, spiffe_id);

	return id ? id->privilege : NULL;
}

const FpPrivilege *bundle_privilege(const FpBundle *b, const char *name)
{
	for (int i = 0; name && i < b->n_privileges; i++)
		if (b->privileges[i].name && !strcmp(b->privileges[i].name, name))
			return &b->privileges[i];
	return NULL;
}

const FpService *bundle_service(const FpBundle *b, const char *name)
{
	for (int i = 0; name && i < b->n_services; i++)
		if (b->services[i].name && !strcmp(b->services[i].name, name))
			return &b->services[i];
	return NULL;
}

const FpSource *bundle_source(const FpBundle *b, const char *name)
{
	for (int i = 0; name && i < b->n_sources; i++)
		if (b->sources[i].name && !strcmp(b->sources[i].name, name))
			return &b->sources[i];
	return NULL;
}

bool bundle_privilege_holds(const FpPrivilege *p, const char *name)
{
	for (int i = 0; p && name && i < p->n_secrets; i++)
		if (!strcmp(p->secrets[i]->name, name))
			return true;
	return false;
}

bool bundle_peer_allowed(const FpBundle *b, const char *service,
			 const struct sockaddr *sa)
{
	const FpService *s = bundle_service(b, service);
	uint8_t a[16];
	int fam, col;

	if (!s || !sa || (s->kind != FP_SVC_TCP && s->kind != FP_SVC_UDP))
		return false;
	if (sa->sa_family == AF_INET) {
		fam = AF_INET;
		memcpy(a, &((const struct sockaddr_in *)sa)->sin_addr, 4);
	} else if (sa->sa_family == AF_INET6) {
		const struct in6_addr *v6 = &((const struct sockaddr_in6 *)sa)->sin6_addr;

		if (IN6_IS_ADDR_V4MAPPED(v6)) {
			fam = AF_INET;
			memcpy(a, &v6->s6_addr[12], 4);
		} else {
			fam = AF_INET6;
			memcpy(a, v6->s6_addr, 16);
		}
	} else {
		return false;
	}
	col = (int)(s - b->services);
	for (int row = 0; row < b->n_sources; row++) {
		FpCell c = b->cells[row * b->n_services + col];
		const SrcAddrs *sa_ = &b->src_addrs[row];
		bool match = b->sources[row].catch_all;

		if (c == FP_CELL_NONE)
			continue;
		for (int i = 0; !match && i < sa_->n; i++)
			match = bundle_prefix_contains(&sa_->v[i], fam, a);
		if (match)
			return c == FP_CELL_ALLOW;
	}
	return false;
}
