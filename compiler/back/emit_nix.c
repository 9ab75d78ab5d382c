/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * emit_nix.c: nixos.json, what the NixOS module (nix/module.nix) reads from
 * the compiled policy so that it restates no port, path, user or mode:
 *
 *   table        family, name, and the file holding the table body
 *   firewall     tcp/udp ports NixOS's own firewall must open, per interface
 *                and on all interfaces, and the cells that had to be widened
 *   user         the container user, its group and pinned uid
 *   check_uids   user names the ruleset matches, with their pinned uid, for
 *                the build-time `nft --check` (no such users in the sandbox)
 *   sockets      the unix services: path, owner, group, mode, directory
 *   directories  what systemd-tmpfiles must create: socket directories and
 *                the parents of the per-job mounts, with owner, group, mode
 *                and the tmpfiles.d line; shared system directories (/,
 *                /tmp, /var/lib ...) go to directories_skipped instead
 *   daemons      the daemons the policy has a service for, the socket
 *                fp-tokend serves, what each writes (ReadWritePaths)
 *
 * Firewall rule (docs/nixos.md): an allow cell of a tcp/udp service opens its
 * port on each exact interface of the source's `via` clauses; a clause with
 * no interface, a `via any` row, or an interface pattern with `*` (which
 * networking.firewall.interfaces cannot express portably) opens it on all
 * interfaces. Our table, loaded in the same atomic ruleset, still narrows
 * those packets to what the policy allows. `via user` rows are output-hook
 * rules and open nothing. Keys are sorted (JSON_SORT_KEYS), arrays are in a
 * fixed order, so the output is deterministic.
 */
#include "back.h"

#include <jansson.h>

/* The body file the module loads into networking.nftables.tables.<name>. */
#define NIX_BODY_FILE "flashpods.body.nft"
#define NIX_BUNDLE_FILE "policy.pb"
#define NIX_FORMAT 1

/* Ports of one protocol: a bit per port, 0..65535. */
typedef struct PortSet {
	uint8_t bits[65536 / 8];
} PortSet;

/* The tcp and udp ports opened on one interface (or on all: name NULL). */
typedef struct FwIface {
	const char *name;
	PortSet tcp, udp;
} FwIface;

typedef struct Fw {
	FwIface all;
	FwIface *ifaces;	/* heap, n entries */
	int n;
} Fw;

/* Mark ports lo..hi in s. */
static void portset_add(PortSet *s, int lo, int hi)
{
	for (int p = lo; p <= hi; p++)
		s->bits[p / 8] |= (uint8_t)(1u << (p % 8));
}

static bool portset_has(const PortSet *s, int p)
{
	return s->bits[p / 8] & (1u << (p % 8));
}

/* The FwIface for interface name in fw, created on first use. */
static FwIface *fw_iface(Fw *fw, const char *name)
{
	for (int i = 0; i < fw->n; i++)
		if (!strcmp(fw->ifaces[i].name, name))
			return &fw->ifaces[i];
	fw->ifaces = realloc(fw->ifaces, (size_t)(fw->n + 1) * sizeof *fw->ifaces);
	if (!fw->ifaces)
		BUG("out of memory");
	memset(&fw->ifaces[fw->n], 0, sizeof *fw->ifaces);
	fw->ifaces[fw->n].name = name;
	return &fw->ifaces[fw->n++];
}

/* Open service v's ports on f. */
static void fw_open(FwIface *f, const Service *v)
{
	switch (v->kind) {
	case SVC_TCP:
		portset_add(&f->tcp, v->port_lo, v->port_hi);
		break;
	case SVC_UDP:
		portset_add(&f->udp, v->port_lo, v->port_hi);
		break;
	default:
		BUG("fw_open: service %s is not a network service", v->name);
	}
}

/* One entry of firewall.widened: a wildcard pattern opened everywhere. */
static json_t *widened_entry(const Source *s, const IfPattern *ifp,
			     const Service *v)
{
	char pat[64];

	snprintf(pat, sizeof pat, "%s%s", ifp->name, ifp->wildcard ? "*" : "");
	return json_pack("{s:s, s:s, s:s}", "source", s->name, "interface", pat,
			 "service", v->name);
}

/* Apply one allow cell (source s, network service v) to fw. */
static void fw_allow(Fw *fw, const Source *s, const Service *v, json_t *widened)
{
	for (int i = 0; i < s->n_vias; i++) {
		const Via *via = &s->vias[i];

		switch (via->kind) {
		case VIA_ANY:
			fw_open(&fw->all, v);
			break;
		case VIA_USER:	/* output hook: NixOS's input firewall never sees it */
			break;
		case VIA_NET:
			if (via->n_ifaces == 0)
				fw_open(&fw->all, v);
			for (int k = 0; k < via->n_ifaces; k++) {
				const IfPattern *ifp = &via->ifaces[k];

				if (ifp->wildcard) {
					fw_open(&fw->all, v);
					json_array_append_new(widened,
						widened_entry(s, ifp, v));
				} else {
					fw_open(fw_iface(fw, ifp->name), v);
				}
			}
			break;
		default:
			BUG("fw_allow: via kind %d", via->kind);
		}
	}
}

/* Single ports of s not in skip (may be NULL) into *ports, runs of two or
 * more into *ranges as {from, to}, ascending. */
static void portset_json(const PortSet *s, const PortSet *skip, json_t **ports,
			 json_t **ranges)
{
	*ports = json_array();
	*ranges = json_array();
	for (int p = 0; p < 65536; p++) {
		int q = p;

		if (!portset_has(s, p) || (skip && portset_has(skip, p)))
			continue;
		while (q + 1 < 65536 && portset_has(s, q + 1) &&
		       !(skip && portset_has(skip, q + 1)))
			q++;
		if (q == p)
			json_array_append_new(*ports, json_integer(p));
		else
			json_array_append_new(*ranges, json_pack("{s:i, s:i}",
							"from", p, "to", q));
		p = q;
	}
}

/* {tcp, tcp_ranges, udp, udp_ranges} for f, leaving out what all opens. */
static json_t *fw_iface_json(const FwIface *f, const FwIface *all)
{
	json_t *o = json_object(), *ports, *ranges;

	portset_json(&f->tcp, all ? &all->tcp : NULL, &ports, &ranges);
	json_object_set_new(o, "tcp", ports);
	json_object_set_new(o, "tcp_ranges", ranges);
	portset_json(&f->udp, all ? &all->udp : NULL, &ports, &ranges);
	json_object_set_new(o, "udp", ports);
	json_object_set_new(o, "udp_ranges", ranges);
	return o;
}

/* True if f opens nothing beyond what all opens. */
static bool fw_iface_empty(const FwIface *f, const FwIface *all)
{
	for (int p = 0; p < 65536; p++)
		if ((portset_has(&f->tcp, p) && !portset_has(&all->tcp, p)) ||
		    (portset_has(&f->udp, p) && !portset_has(&all->udp, p)))
			return false;
	return true;
}

/* The "firewall" object: every allow cell of a network service. */
static json_t *emit_firewall(const Policy *p)
{
	Fw *fw = xcalloc(1, sizeof *fw);
	json_t *widened = json_array(), *ifaces = json_object(), *o;

	for (int s = 0; s < p->n_sources; s++)
		for (int v = 0; v < p->n_services; v++)
			if (service_is_network(p->services[v]) &&
			    policy_cell(p, s, v)->kind == CELL_ALLOW)
				fw_allow(fw, p->sources[s], p->services[v], widened);
	for (int i = 0; i < fw->n; i++)
		if (!fw_iface_empty(&fw->ifaces[i], &fw->all))
			json_object_set_new(ifaces, fw->ifaces[i].name,
					    fw_iface_json(&fw->ifaces[i], &fw->all));
	o = json_pack("{s:o, s:o, s:o}", "all_interfaces",
		      fw_iface_json(&fw->all, NULL), "interfaces", ifaces,
		      "widened", widened);
	free(fw->ifaces);
	free(fw);
	return o;
}

/* The pinned uid of user name: a `via user` pin, else the container's. */
static long pinned_uid(const Policy *p, const char *name)
{
	for (int s = 0; s < p->n_sources; s++)
		for (int i = 0; i < p->sources[s]->n_vias; i++) {
			const Via *via = &p->sources[s]->vias[i];

			if (via->kind == VIA_USER && via->uid >= 0 &&
			    !strcmp(via->user, name))
				return via->uid;
		}
	if (p->container.user && !strcmp(p->container.user, name))
		return p->container.uid;
	return -1;
}

/* {user: uid or null} for every `via user` name (the ruleset's skuid). */
static json_t *emit_check_uids(const Policy *p)
{
	json_t *o = json_object();

	for (int s = 0; s < p->n_sources; s++)
		for (int i = 0; i < p->sources[s]->n_vias; i++) {
			const Via *via = &p->sources[s]->vias[i];
			long uid;

			if (via->kind != VIA_USER)
				continue;
			uid = pinned_uid(p, via->user);
			json_object_set_new(o, via->user, uid >= 0 ?
					    json_integer(uid) : json_null());
		}
	return o;
}

/* "0750"-style text of a mode. */
static json_t *mode_json(int mode)
{
	char s[8];

	snprintf(s, sizeof s, "%04o", (unsigned)mode & 07777);
	return json_string(s);
}

/* The directory part of absolute path (no trailing slash; "/" for "/x"). */
static char *dir_of(Arena *a, const char *path)
{
	const char *slash = strrchr(path, '/');

	if (!slash || slash == path)
		return arena_strdup(a, "/");
	return arena_strndup(a, path, (size_t)(slash - path));
}

/* The part of a mount's host template before its first component holding
 * a placeholder (the directory the per-job directories go into). */
static char *mount_parent(Arena *a, const char *host)
{
	const char *brace = strchr(host, '{');
	const char *slash;

	if (!brace)
		return arena_strdup(a, host);
	slash = brace;
	while (slash > host && *slash != '/')
		slash--;
	if (slash == host)
		return arena_strdup(a, "/");
	return arena_strndup(a, host, (size_t)(slash - host));
}

/* A socket directory's mode: the owner may create the socket (rwx); group and
 * others may traverse it (r-x) if the socket's mode grants them anything. */
static int socket_dir_mode(int sock_mode)
{
	return 0700 | ((sock_mode & 070) ? 050 : 0) | ((sock_mode & 07) ? 05 : 0);
}

/* The tmpfiles.d line creating directory path: `d PATH MODE USER GROUP - -`,
 * the path in double quotes (a backslash before each backslash and double
 * quote) unless it is made of plain characters only; % doubled. */
static char *tmpfiles_line(Arena *a, const char *path, int mode,
			   const char *owner, const char *group)
{
	Buf b = { 0 };
	bool plain = true;
	char *line;

	for (const char *c = path; *c; c++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			    "0123456789/._+@:-", *c))
			plain = false;
	buf_puts(&b, "d ");
	if (!plain)
		buf_puts(&b, "\"");
	for (const char *c = path; *c; c++) {
		if (!plain && (*c == '"' || *c == '\\'))
			buf_puts(&b, "\\");
		if (*c == '%')
			buf_puts(&b, "%");
		buf_append(&b, c, 1);
	}
	if (!plain)
		buf_puts(&b, "\"");
	buf_printf(&b, " %04o %s %s - -", (unsigned)mode & 07777, owner, group);
	line = arena_strdup(a, b.data);
	buf_free(&b);
	return line;
}

/* Add or merge a directory {path, owner, group, mode, for, tmpfiles} into
 * dirs, or into skipped when it is a shared system directory (path unique;
 * a second entry for a path ORs its mode into the first and keeps the
 * first's owner). */
static void dir_add(Arena *a, json_t *dirs, json_t *skipped, const char *path,
		    const char *owner, const char *group, int mode,
		    const char *why)
{
	json_t *list = policy_dir_is_shared(path) ? skipped : dirs, *d;
	size_t i;

	json_array_foreach(list, i, d) {
		if (strcmp(json_string_value(json_object_get(d, "path")), path))
			continue;
		mode |= (int)strtol(json_string_value(json_object_get(d, "mode")),
				    NULL, 8);
		owner = json_string_value(json_object_get(d, "owner"));
		group = json_string_value(json_object_get(d, "group"));
		json_object_set_new(d, "mode", mode_json(mode));
		if (list == dirs)
			json_object_set_new(d, "tmpfiles", json_string(
				tmpfiles_line(a, path, mode, owner, group)));
		json_array_append_new(json_object_get(d, "for"), json_string(why));
		return;
	}
	d = json_pack("{s:s, s:s, s:s, s:o, s:[s]}", "path", path, "owner",
		      owner, "group", group, "mode", mode_json(mode), "for", why);
	if (list == dirs)
		json_object_set_new(d, "tmpfiles", json_string(
			tmpfiles_line(a, path, mode, owner, group)));
	json_array_append_new(list, d);
}

/* The container user's group: the policy names none, so the user's own. */
static const char *container_group(const Policy *p)
{
	return p->container.user;
}

/* sockets[], and their directories into dirs (or skipped). */
static json_t *emit_sockets(const Policy *p, json_t *dirs, json_t *skipped)
{
	json_t *socks = json_array();

	for (int v = 0; v < p->n_services; v++) {
		const Service *s = p->services[v];
		char *dir;

		if (s->kind != SVC_UNIX)
			continue;
		dir = dir_of(p->arena, s->path);
		json_array_append_new(socks, json_pack(
			"{s:s, s:s, s:s, s:s, s:o, s:s}", "service", s->name,
			"path", s->path, "owner", s->owner, "group", s->group,
			"mode", mode_json(s->mode), "directory", dir));
		dir_add(p->arena, dirs, skipped, dir, s->owner, s->group,
			socket_dir_mode(s->mode),
			arena_printf(p->arena, "socket %s", s->name));
	}
	return socks;
}

/* The parents of the per-job host directories of path mounts, into dirs (or
 * skipped); returns them as an array (for fp-apid's ReadWritePaths). */
static json_t *emit_mount_dirs(const Policy *p, json_t *dirs, json_t *skipped)
{
	json_t *out = json_array();

	for (int m = 0; m < p->n_mounts; m++) {
		const Mount *mt = &p->mounts[m];
		char *dir;

		if (mt->service || !mt->host || !p->container.user)
			continue;
		dir = mount_parent(p->arena, mt->host);
		json_array_append_new(out, json_string(dir));
		dir_add(p->arena, dirs, skipped, dir, p->container.user,
			container_group(p), 0750,
			arena_printf(p->arena, "mount %s", mt->name));
	}
	return out;
}

/* The service named name of kind kind, or NULL. */
static const Service *named_service(const Policy *p, const char *name,
				    ServiceKind kind)
{
	for (int v = 0; v < p->n_services; v++)
		if (p->services[v]->kind == kind &&
		    !strcmp(p->services[v]->name, name))
			return p->services[v];
	return NULL;
}

/* daemons: for each daemon the policy has a service for (the names the
 * daemons look up by default: tcp "api" for fp-apid, unix "token" for
 * fp-tokend), that service and the directories it writes. */
static json_t *emit_daemons(const Policy *p, json_t *mount_dirs)
{
	const Service *tok = named_service(p, "token", SVC_UNIX);
	const Service *api = named_service(p, "api", SVC_TCP);
	json_t *o = json_object();

	if (api)
		json_object_set_new(o, "fp-apid", json_pack("{s:s, s:O}",
			"service", api->name, "read_write", mount_dirs));
	if (tok)
		json_object_set_new(o, "fp-tokend", json_pack("{s:s, s:s, s:[s]}",
			"service", tok->name, "socket", tok->path,
			"read_write", dir_of(p->arena, tok->path)));
	json_decref(mount_dirs);
	return o;
}

/* The container user, or null if the policy has no container profile. */
static json_t *emit_user(const Policy *p)
{
	const Container *c = &p->container;

	if (!c->user)
		return json_null();
	return json_pack("{s:s, s:s, s:o}", "name", c->user, "group",
			 container_group(p), "uid",
			 c->uid >= 0 ? json_integer(c->uid) : json_null());
}

int emit_nix_artifact(const Policy *p, const Ruleset *rs, Buf *out)
{
	json_t *dirs = json_array(), *skipped = json_array(), *root, *socks, *mdirs;
	char *text;

	(void)rs;
	socks = emit_sockets(p, dirs, skipped);
	mdirs = emit_mount_dirs(p, dirs, skipped);
	root = json_pack("{s:i, s:s, s:s, s:{s:s, s:s, s:s}, s:s, s:o, s:o, "
			 "s:o, s:o, s:o, s:o, s:o}",
		"format", NIX_FORMAT, "fpc_version", FPC_VERSION,
		"policy", p->name,
		"table", "family", p->table_family, "name", p->table_name,
		"content_file", NIX_BODY_FILE,
		"bundle", NIX_BUNDLE_FILE,
		"firewall", emit_firewall(p),
		"user", emit_user(p),
		"check_uids", emit_check_uids(p),
		"sockets", socks,
		"directories", dirs,
		"directories_skipped", skipped,
		"daemons", emit_daemons(p, mdirs));
	if (!root)
		BUG("emit_nix: json_pack failed");
	text = json_dumps(root, JSON_INDENT(2) | JSON_SORT_KEYS);
	if (!text)
		BUG("emit_nix: json_dumps failed");
	buf_puts(out, text);
	buf_puts(out, "\n");
	free(text);
	json_decref(root);
	return 0;
}
