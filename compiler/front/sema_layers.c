/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * sema_layers.c: the layers of the trust boundary beyond the firewall,
 * checked against the trust table they must agree with.
 *
 *   wireguard "IFACE" { ... }  the interface's peers; the proof that each
 *                              address a source trusts on it is exactly one
 *                              peer's, and that peer is the source's
 *   rsyncd { ... }             the upload module and its allowlist: the
 *                              addresses of the rows allowing its service
 *   spire_parent, selectors    SPIRE registration: the parent ID, and each
 *                              selector against the workload attestors'
 *                              documented forms
 */
#include "sema_int.h"

#include <arpa/inet.h>
#include <ctype.h>

/* ---- WireGuard ---- */

enum { WG_KEY_LEN = 44, WG_PORT_MAX = 65535 };

/* Does interface pattern f match the exact interface name? */
static bool pattern_matches(const IfPattern *f, const char *name)
{
	return f->wildcard ? !strncmp(f->name, name, strlen(f->name)) : !strcmp(f->name, name);
}

/* Does via clause v name interface ifname (exactly or by a pattern)? */
static bool via_on(const Via *v, const char *ifname)
{
	if (v->kind != VIA_NET)
		return false;
	for (int i = 0; i < v->n_ifaces; i++)
		if (pattern_matches(&v->ifaces[i], ifname))
			return true;
	return false;
}

static bool prefix_eq(const Prefix *a, const Prefix *b)
{
	return a->fam == b->fam && a->len == b->len && !memcmp(a->addr, b->addr, sizeof a->addr);
}

/* p as text, ADDR or ADDR/LEN (a host address without its length). */
static const char *prefix_str(Sema *S, const Prefix *p)
{
	char buf[INET6_ADDRSTRLEN];

	inet_ntop(p->fam == FAM_IP6 ? AF_INET6 : AF_INET, p->addr, buf, sizeof buf);
	if (p->len == (p->fam == FAM_IP6 ? 128 : 32))
		return arena_strdup(S->a, buf);
	return arena_printf(S->a, "%s/%d", buf, p->len);
}

static int b64_value(char c)
{
	const char *set = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const char *at = c ? strchr(set, c) : NULL;

	return at ? (int)(at - set) : -1;
}

/* A WireGuard public key as `wg` takes it: 44 characters of base64 for 32
 * bytes (the last character before '=' holds two bits of padding, which
 * must be zero). Reports at the key and returns false if not; sets *zero
 * for the all-zero placeholder. */
static bool wg_key_check(Sema *S, const AstTok *t, bool *zero)
{
	const char *k = t->s;
	size_t n = strlen(k);

	if (n != WG_KEY_LEN || k[WG_KEY_LEN - 1] != '=') {
		err(S, t->loc, "not a WireGuard public key: want 44 characters of base64 ending in '=' (32 bytes, as `wg pubkey` prints), got %zu", n);
		return false;
	}
	*zero = true;
	for (size_t i = 0; i < WG_KEY_LEN - 1; i++) {
		if (b64_value(k[i]) < 0) {
			err(S, sema_str_loc(t, i, 1), "a WireGuard key is base64: '%c' is not a base64 character", k[i]);
			return false;
		}
		*zero &= k[i] == 'A';
	}
	if (b64_value(k[WG_KEY_LEN - 2]) & 3) {
		err(S, sema_str_loc(t, WG_KEY_LEN - 2, 1), "not a WireGuard public key: the last character before '=' carries only zero bits in a 32-byte key");
		return false;
	}
	return true;
}

/* An interface name: 1 to 15 of A-Z a-z 0-9 _ . - (exact, no '*'). */
static bool wg_ifname_check(Sema *S, const AstTok *t)
{
	size_t n = strlen(t->s);

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)t->s[i];

		if (!(isalnum(c) || c == '_' || c == '.' || c == '-')) {
			err(S, sema_str_loc(t, i, 1), "a WireGuard interface is one exact name of A-Z a-z 0-9 _ . - (no patterns)");
			return false;
		}
	}
	if (n == 0 || n > IFNAME_MAX_LEN) {
		err(S, t->loc, "an interface name has 1 to %d characters", IFNAME_MAX_LEN);
		return false;
	}
	return true;
}

/* HOST:PORT, HOST a name or IPv4 address, or [IPv6]:PORT; port 1-65535. */
static void wg_endpoint_check(Sema *S, const AstTok *t)
{
	const char *s = t->s, *colon = strrchr(s, ':'), *port = colon ? colon + 1 : "";
	size_t hlen = colon ? (size_t)(colon - s) : 0;
	bool ok = colon && *port && strlen(port) <= 5 && strspn(port, "0123456789") == strlen(port) &&
		atol(port) >= 1 && atol(port) <= WG_PORT_MAX && hlen > 0;

	if (ok && s[0] == '[') {
		char buf[INET6_ADDRSTRLEN];
		uint8_t a[16];

		ok = hlen >= 3 && s[hlen - 1] == ']' && hlen - 2 < sizeof buf;
		if (ok) {
			memcpy(buf, s + 1, hlen - 2);
			buf[hlen - 2] = '\0';
			ok = inet_pton(AF_INET6, buf, a) == 1;
		}
	} else if (ok) {
		ok = hlen <= 253 && strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789.-") == hlen &&
			s[0] != '-' && s[0] != '.';
	}
	if (!ok)
		err(S, t->loc, "endpoint '%s' is not HOST:PORT (a name or an IPv4 address, or [IPv6], and a port 1-65535)", s);
}

/* The addresses source src trusts on interface ifname: those of its via
 * clauses that name the interface. A clause naming it without addresses
 * trusts every peer, which no key can back: reported. */
static Prefix **wg_trusted(Sema *S, const Source *src, const WgInterface *wg, int *n,
			   bool report)
{
	VEC(Prefix *) v = { 0 };

	for (int i = 0; i < src->n_vias; i++) {
		const Via *via = &src->vias[i];

		if (!via_on(via, wg->name))
			continue;
		if (via->n_addrs == 0 && report)
			err(S, via->loc, "source '%s' trusts every address on WireGuard interface '%s' (line %d): name its addresses (from ADDR) so each is bound to one peer's key",
			    src->name, wg->name, wg->loc.first_line);
		for (int k = 0; k < via->n_addrs; k++)
			vec_push(S->a, &v, &via->addrs[k]);
	}
	*n = v.n;
	return v.v;
}

/* peer SOURCE key "KEY" [endpoint ..] [keepalive N] [allow ADDRS]: the
 * peer's own values; its AllowedIPs are filled by wg_peer_allowed. */
static bool wg_peer(Sema *S, const AstStmt *st, WgPeer *pe)
{
	long v;

	pe->loc = st->loc;
	pe->source = sema_map_get(&S->src_map, st->name.s);
	if (!pe->source)
		sema_unknown(S, st->name.loc, "source", st->name.s, S->src_names, S->sources.n);
	pe->key = st->a.s;
	if (!wg_key_check(S, &st->a, &pe->placeholder))
		pe->key = NULL;
	if (st->b.s) {
		wg_endpoint_check(S, &st->b);
		pe->endpoint = st->b.s;
	}
	if (st->c.s && sema_num_in(S, &st->c, 1, WG_PORT_MAX, "keepalive", &v))
		pe->keepalive = (int)v;
	return pe->source && pe->key;
}

/* A peer's AllowedIPs: its `allow` list, each one an address its source
 * trusts on the interface; without one, all of them (then it must be the
 * source's only peer there). */
static void wg_peer_allowed(Sema *S, const AstStmt *st, WgPeer *pe, const WgInterface *wg,
			    int peers_of_source)
{
	int nt, on = 0;
	Prefix **t = wg_trusted(S, pe->source, wg, &nt, false);

	for (int i = 0; i < pe->source->n_vias; i++)
		on += via_on(&pe->source->vias[i], wg->name);
	if (!on) {
		err(S, st->name.loc, "source '%s' has no via on '%s': a peer's packets are its source's, so the source must be trusted there (via \"%s\" from ADDR)",
		    pe->source->name, wg->name, wg->name);
		return;
	}
	if (!st->list.n) {
		if (peers_of_source > 1) {
			err(S, st->name.loc, "source '%s' has %d peers on '%s': say which of its addresses each one holds (allow ADDR, ...)",
			    pe->source->name, peers_of_source, wg->name);
			return;
		}
		pe->allowed = arena_alloc(S->a, (size_t)nt * sizeof *pe->allowed);
		for (int i = 0; i < nt; i++)
			pe->allowed[pe->n_allowed++] = *t[i];
		return;
	}
	pe->allowed = arena_alloc(S->a, (size_t)st->list.n * sizeof *pe->allowed);
	for (int i = 0; i < st->list.n; i++) {
		Prefix a;
		int k;

		if (!sema_prefix(S, &st->list.v[i], &a, false))
			continue;
		for (k = 0; k < nt && !prefix_eq(&a, t[k]); k++)
			;
		if (k == nt)
			err(S, st->list.v[i].loc, "%s is not an address source '%s' trusts on '%s': a peer's AllowedIPs are exactly its source's addresses there",
			    st->list.v[i].s, pe->source->name, wg->name);
		else
			pe->allowed[pe->n_allowed++] = a;
	}
}

/* No two peers' AllowedIPs overlap (WireGuard would route an address to
 * one key only); reported at the later peer. */
static void wg_overlaps(Sema *S, const WgInterface *wg)
{
	for (int i = 0; i < wg->n_peers; i++)
		for (int j = 0; j < i; j++)
			for (int a = 0; a < wg->peers[i].n_allowed; a++)
				for (int b = 0; b < wg->peers[j].n_allowed; b++) {
					const Prefix *x = &wg->peers[i].allowed[a], *y = &wg->peers[j].allowed[b];

					if (sema_prefix_overlap(x, y))
						err(S, x->loc, "%s overlaps %s of peer '%s' (line %d): WireGuard binds an address to one key",
						    prefix_str(S, x), prefix_str(S, y), wg->peers[j].source->name,
						    wg->peers[j].loc.first_line);
				}
}

/* Every address a source trusts on the interface is in the AllowedIPs of
 * exactly one peer, and that peer is the source's. */
static void wg_prove(Sema *S, const WgInterface *wg)
{
	for (int s = 0; s < S->sources.n; s++) {
		const Source *src = &S->src_decl[s];
		int nt;
		Prefix **t;

		if (src->catch_all)
			continue;
		t = wg_trusted(S, src, wg, &nt, true);
		for (int i = 0; i < nt; i++) {
			const WgPeer *holder = NULL;

			for (int k = 0; k < wg->n_peers && !holder; k++)
				for (int a = 0; a < wg->peers[k].n_allowed; a++)
					if (sema_prefix_overlap(t[i], &wg->peers[k].allowed[a]))
						holder = &wg->peers[k];
			if (!holder)
				err(S, t[i]->loc, "source '%s' trusts %s on WireGuard interface '%s', but no peer holds it: add `peer %s key \"...\";` to the wireguard block (line %d)",
				    src->name, prefix_str(S, t[i]), wg->name, src->name, wg->loc.first_line);
			else if (holder->source != src)
				err(S, t[i]->loc, "source '%s' trusts %s on '%s', but that address is in the AllowedIPs of peer '%s' (line %d): its packets carry %s's key",
				    src->name, prefix_str(S, t[i]), wg->name, holder->source->name,
				    holder->loc.first_line, holder->source->name);
		}
	}
}

/* Count the peers of each source in the block (for wg_peer_allowed). */
static int peers_of(const AstStmt *blk, const char *source)
{
	int n = 0;

	for (int i = 0; i < blk->n_body; i++)
		if (blk->body[i]->kind == AST_WG_PEER && !strcmp(blk->body[i]->name.s, source))
			n++;
	return n;
}

/* The listen statement: a udp service with one port. */
static void wg_listen(Sema *S, const AstStmt *st, WgInterface *wg)
{
	Service *svc = sema_map_get(&S->svc_map, st->name.s);

	if (wg->listen) {
		err(S, st->loc, "a second listen statement for '%s'", wg->name);
		return;
	}
	if (!svc) {
		sema_unknown(S, st->name.loc, "service", st->name.s, S->svc_names, S->services.n);
		return;
	}
	if (svc->kind != SVC_UDP)
		err(S, st->name.loc, "WireGuard listens on a udp service: '%s' is not one", svc->name);
	else if (svc->port_lo != svc->port_hi)
		err(S, st->name.loc, "WireGuard listens on one port: '%s' is the range %d-%d", svc->name,
		    svc->port_lo, svc->port_hi);
	wg->listen = svc;
}

/* One wireguard block into wg. */
static void wg_block(Sema *S, const AstStmt *blk, WgInterface *wg)
{
	NameMap keys = { 0 };
	bool listens = false;

	wg->name = blk->name.s;
	wg->loc = blk->loc;
	wg->peers = arena_alloc(S->a, (size_t)(blk->n_body + 1) * sizeof *wg->peers);
	sema_map_init(S->a, &keys, blk->n_body);
	for (int i = 0; i < blk->n_body; i++) {
		const AstStmt *st = blk->body[i];
		WgPeer *pe = &wg->peers[wg->n_peers], *old;

		if (st->kind == AST_WG_LISTEN) {
			listens = true;
			wg_listen(S, st, wg);
			continue;
		}
		if (!wg_peer(S, st, pe))
			continue;
		if ((old = sema_map_put(&keys, pe->key, pe))) {
			err(S, st->a.loc, "peer '%s' has the key of peer '%s' (line %d): one key is one peer",
			    pe->source->name, old->source->name, old->loc.first_line);
			continue;
		}
		pe->key_loc = st->a.loc;
		wg_peer_allowed(S, st, pe, wg, peers_of(blk, st->name.s));
		wg->n_peers++;
	}
	if (!listens)
		err(S, sema_loc_span(blk->loc, blk->name.loc), "wireguard '%s' needs `listen SERVICE;` (the udp service it listens on)", wg->name);
}

/* The wireguard block (one per policy: fpc writes one interface's
 * wireguard.conf and wireguard.json). */
void sema_wireguard(Sema *S)
{
	Policy *p = S->p;
	const AstStmt *blk = S->wireguard;

	if (!blk || !wg_ifname_check(S, &blk->name))
		return;
	p->wg = arena_alloc(S->a, sizeof *p->wg);
	wg_block(S, blk, p->wg);
	wg_overlaps(S, p->wg);
	wg_prove(S, p->wg);
	p->n_wg = 1;
}

void policy_warnings(const Policy *p, Diag *d)
{
	for (int w = 0; w < p->n_wg; w++)
		for (int i = 0; i < p->wg[w].n_peers; i++)
			if (p->wg[w].peers[i].placeholder)
				diag_at(d, DIAG_WARNING, p->wg[w].peers[i].key_loc,
					"peer '%s' has the placeholder key (all zero bytes): no handshake will succeed until you put its real public key here (`wg pubkey < private.key`)",
					p->wg[w].peers[i].source->name);
}

/* ---- rsyncd ---- */

/* Add the addresses of the rows allowing svc to r->hosts_allow; a row
 * whose packets no address list can name is reported. */
static void rsyncd_allow(Sema *S, Rsyncd *r, const AstStmt *blk)
{
	Policy *p = S->p;
	VEC(Prefix) v = { 0 };

	for (int s = 0; s < p->n_sources; s++) {
		const Source *src = p->sources[s];

		if (policy_cell(p, s, r->service->index)->kind != CELL_ALLOW)
			continue;
		for (int i = 0; i < src->n_vias; i++) {
			const Via *via = &src->vias[i];

			if (via->kind != VIA_NET || via->n_addrs == 0) {
				err(S, policy_cell(p, s, r->service->index)->loc,
				    "row '%s' allows '%s' %s (line %d), but rsyncd's `hosts allow` lists addresses: name them (via ... from ADDR)",
				    src->name, r->service->name,
				    via->kind == VIA_ANY ? "to everyone" : via->kind == VIA_USER ? "to a user's processes" : "from any address of its interfaces",
				    via->loc.first_line);
				continue;
			}
			for (int k = 0; k < via->n_addrs; k++) {
				int j;

				for (j = 0; j < v.n && !prefix_eq(&v.v[j], &via->addrs[k]); j++)
					;
				if (j == v.n)
					vec_push(S->a, &v, via->addrs[k]);
			}
		}
	}
	if (v.n == 0)
		err(S, blk->loc, "no row of the trust table allows '%s': rsyncd would refuse everyone", r->service->name);
	r->hosts_allow = v.v;
	r->n_hosts_allow = v.n;
}

/* The module's mount: a host path whose {upload_id} segment has only a
 * plain directory above it, which is the module's path. */
static void rsyncd_module(Sema *S, Rsyncd *r, const AstStmt *st)
{
	const char *up = "/{upload_id}", *at;

	r->module = st->name.s;
	sema_check_name(S, &st->name, "module");
	if (!strcmp(r->module, "global"))
		err(S, st->name.loc, "'global' names rsyncd.conf's section of global parameters: call the module something else");
	r->mount = sema_map_get(&S->mount_map, st->a.s);
	if (!r->mount) {
		sema_unknown(S, st->a.loc, "mount", st->a.s, S->mount_names, S->mounts.n);
		return;
	}
	at = r->mount->service ? NULL : strstr(r->mount->host, up);
	if (!at || (at[strlen(up)] && at[strlen(up)] != '/')) {
		err(S, st->a.loc, "mount '%s' has no {upload_id} segment in its host path: the module is the directory uploads land in, above {upload_id}",
		    r->mount->name);
		return;
	}
	r->path = arena_strndup(S->a, r->mount->host, (size_t)(at - r->mount->host));
	if (!r->path[0] || strchr(r->path, '{'))
		err(S, st->a.loc, "mount '%s': the directory above {upload_id} must be a plain path (rsyncd serves one directory)",
		    r->mount->name);
}

/* The service statement: a tcp service with one port. */
static void rsyncd_service(Sema *S, Rsyncd *r, const AstStmt *st)
{
	Service *svc = sema_map_get(&S->svc_map, st->name.s);

	if (!svc) {
		sema_unknown(S, st->name.loc, "service", st->name.s, S->svc_names, S->services.n);
		return;
	}
	if (svc->kind != SVC_TCP)
		err(S, st->name.loc, "rsyncd serves a tcp service: '%s' is not one", svc->name);
	else if (svc->port_lo != svc->port_hi)
		err(S, st->name.loc, "rsyncd listens on one port: '%s' is the range %d-%d", svc->name,
		    svc->port_lo, svc->port_hi);
	else
		r->service = svc;
}

void sema_rsyncd(Sema *S)
{
	Rsyncd *r = &S->p->rsyncd;
	const AstStmt *blk = S->rsyncd, *seen[3] = { NULL };
	static const char *const what[3] = { "service", "module", "max_connections" };
	long v;

	if (!blk)
		return;
	r->loc = blk->loc;
	for (int i = 0; i < blk->n_body; i++) {
		const AstStmt *st = blk->body[i];
		int k = st->kind == AST_RS_SERVICE ? 0 : st->kind == AST_RS_MODULE ? 1 : 2;

		if (seen[k]) {
			err(S, st->loc, "a second %s statement in rsyncd (the first is at line %d)", what[k],
			    seen[k]->loc.first_line);
			continue;
		}
		seen[k] = st;
		if (k == 0)
			rsyncd_service(S, r, st);
		else if (k == 1)
			rsyncd_module(S, r, st);
		else if (sema_num_in(S, &st->a, 1, 65535, "max_connections", &v))
			r->max_connections = (int)v;
	}
	for (int k = 0; k < 2; k++)
		if (!seen[k])
			err(S, sema_loc_span(blk->loc, blk->open), "rsyncd needs `%s`", k ? "module NAME mount MOUNT;" : "service SERVICE;");
	if (!S->p->container.user)
		err(S, sema_loc_span(blk->loc, blk->open), "rsyncd writes uploads as the container user: the policy needs a container block with `engine podman ... user USER`");
	if (r->service && S->table_ok)
		rsyncd_allow(S, r, blk);
	if (!r->service || !r->path)
		r->service = NULL;
}

/* ---- SPIRE ---- */

typedef enum {
	SV_ANY,		/* any non-empty text */
	SV_NUM,		/* a decimal number up to 2^32-1 */
	SV_PAIR,	/* KEY:VALUE, KEY non-empty */
	SV_ENV,		/* NAME=VALUE, NAME non-empty */
	SV_PATH,	/* an absolute path */
	SV_SHA256,	/* 64 hex digits */
	SV_DIGEST,	/* sha256: and 64 hex digits */
} SelValue;

/* A selector form a SPIRE workload attestor documents: TYPE:KEY:VALUE. */
typedef struct SelForm {
	const char *type, *key;
	SelValue value;
} SelForm;

/* docker (also podman's containers: SPIRE's docker plugin attests them),
 * unix, k8s; the plugins' documented selectors. */
static const SelForm sel_forms[] = {
	{ "docker", "label", SV_PAIR },
	{ "docker", "env", SV_ENV },
	{ "docker", "image_id", SV_ANY },
	{ "docker", "image_config_digest", SV_DIGEST },
	{ "k8s", "ns", SV_ANY },
	{ "k8s", "sa", SV_ANY },
	{ "k8s", "container-image", SV_ANY },
	{ "k8s", "container-name", SV_ANY },
	{ "k8s", "node-name", SV_ANY },
	{ "k8s", "pod-label", SV_PAIR },
	{ "k8s", "pod-owner", SV_PAIR },
	{ "k8s", "pod-owner-uid", SV_PAIR },
	{ "k8s", "pod-uid", SV_ANY },
	{ "k8s", "pod-name", SV_ANY },
	{ "k8s", "pod-image", SV_ANY },
	{ "k8s", "pod-image-count", SV_NUM },
	{ "k8s", "pod-init-image", SV_ANY },
	{ "k8s", "pod-init-image-count", SV_NUM },
	{ "unix", "uid", SV_NUM },
	{ "unix", "user", SV_ANY },
	{ "unix", "gid", SV_NUM },
	{ "unix", "group", SV_ANY },
	{ "unix", "supplementary_gid", SV_NUM },
	{ "unix", "supplementary_group", SV_ANY },
	{ "unix", "path", SV_PATH },
	{ "unix", "sha256", SV_SHA256 },
};
enum { N_SEL_FORMS = sizeof sel_forms / sizeof *sel_forms };

static const char *const sel_value_wants[] = {
	[SV_ANY] = "a value",
	[SV_NUM] = "a number (0 to 4294967295)",
	[SV_PAIR] = "KEY:VALUE",
	[SV_ENV] = "NAME=VALUE",
	[SV_PATH] = "an absolute path",
	[SV_SHA256] = "64 hex digits",
	[SV_DIGEST] = "sha256: and 64 hex digits",
};

static bool all_hex(const char *s, size_t n)
{
	return strlen(s) == n && strspn(s, "0123456789abcdefABCDEF") == n;
}

/* Does value v have the form k? */
static bool sel_value_ok(SelValue k, const char *v)
{
	switch (k) {
	case SV_ANY:
		return v[0] != '\0';
	case SV_NUM:
		return v[0] && strlen(v) <= 10 && strspn(v, "0123456789") == strlen(v) &&
			strtoull(v, NULL, 10) <= 4294967295ULL;
	case SV_PAIR:
		return v[0] && v[0] != ':' && strchr(v, ':');
	case SV_ENV:
		return v[0] && v[0] != '=' && strchr(v, '=');
	case SV_PATH:
		return v[0] == '/';
	case SV_SHA256:
		return all_hex(v, 64);
	case SV_DIGEST:
		return !strncmp(v, "sha256:", 7) && all_hex(v + 7, 64);
	default:
		BUG("selector value kind %d", (int)k);
	}
}

/* Report an unknown selector type or key with a did-you-mean among the
 * known ones (types when type is NULL, else that type's keys). */
static void sel_unknown(Sema *S, Loc loc, const char *type, const char *w)
{
	const char *cands[N_SEL_FORMS], *hint;
	int nc = 0;

	for (int i = 0; i < N_SEL_FORMS; i++) {
		const char *c = type ? sel_forms[i].key : sel_forms[i].type;

		if ((type && strcmp(sel_forms[i].type, type)) || (nc && !strcmp(cands[nc - 1], c)))
			continue;
		cands[nc++] = c;
	}
	hint = diag_suggest(w, cands, nc);
	if (type)
		err(S, loc, "unknown %s selector '%s'%s%s%s", type, w, hint ? "; did you mean '" : "",
		    hint ? hint : "", hint ? "'?" : "");
	else if (!strcmp(w, "podman"))
		err(S, loc, "SPIRE has no podman selector type: its docker plugin attests podman containers (write docker:label:KEY:VALUE)");
	else
		err(S, loc, "unknown selector type '%s'%s%s%s (SPIRE's workload attestors: docker, k8s, unix)",
		    w, hint ? "; did you mean '" : "", hint ? hint : "", hint ? "'?" : "");
}

/* One selector, TYPE:KEY:VALUE as the workload attestor documents it. */
static void sel_check(Sema *S, const AstTok *t)
{
	const char *s = t->s, *c1 = strchr(s, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
	const SelForm *f = NULL;
	const char *type, *key;
	bool type_known = false;
	size_t tl, kl;

	if (!c1 || c1 == s || !c2 || c2 == c1 + 1) {
		err(S, t->loc, "selector '%s' is not TYPE:KEY:VALUE (as docker:label:flashpods-job-type:agent)", s);
		return;
	}
	tl = (size_t)(c1 - s);
	kl = (size_t)(c2 - c1 - 1);
	type = arena_strndup(S->a, s, tl);
	key = arena_strndup(S->a, c1 + 1, kl);
	for (int i = 0; i < N_SEL_FORMS && !f; i++) {
		if (strcmp(sel_forms[i].type, type))
			continue;
		type_known = true;
		if (!strcmp(sel_forms[i].key, key))
			f = &sel_forms[i];
	}
	if (!type_known)
		sel_unknown(S, sema_str_loc(t, 0, tl), NULL, type);
	else if (!f)
		sel_unknown(S, sema_str_loc(t, tl + 1, kl), type, key);
	else if (!sel_value_ok(f->value, c2 + 1))
		err(S, sema_str_loc(t, tl + kl + 2, strlen(c2 + 1)), "%s:%s takes %s, not '%s'",
		    f->type, f->key, sel_value_wants[f->value], c2 + 1);
}

void sema_spire(Sema *S)
{
	Policy *p = S->p;

	if (S->spire_parent) {
		if (!p->trust_domain)
			err(S, S->spire_parent->loc, "spire_parent needs a trust domain: add `trust_domain \"example.org\";`");
		else if (sema_check_spiffe(S, &S->spire_parent->a, p->trust_domain))
			p->spire_parent = S->spire_parent->a.s;
	}
	for (int i = 0; i < S->identities.n; i++) {
		const AstList *l = &S->identities.v[i]->list;

		for (int k = 0; k < l->n; k++) {
			int j;

			if (!l->v[k].s[0] || strlen(l->v[k].s) > TEXT_MAX_LEN)
				continue;	/* reported by sema_identities */
			if (strchr(l->v[k].s, '{'))
				err(S, l->v[k].loc, "SPIRE registers a selector once, not per job: a placeholder would be matched as written");
			else
				sel_check(S, &l->v[k]);
			for (j = 0; j < k && strcmp(l->v[j].s, l->v[k].s); j++)
				;
			if (j < k)
				err(S, l->v[k].loc, "selector '%s' is given twice", l->v[k].s);
		}
	}
}
