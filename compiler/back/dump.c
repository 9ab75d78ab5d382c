/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * dump.c: `fpc dump BUNDLE` prints a policy.pb as JSON, through the
 * daemons' own loader: what it prints is what a daemon would enforce, and a
 * bundle a daemon would refuse is an error (exit 1) here too. Keys are
 * sorted, arrays keep bundle order, so two dumps diff cleanly in CI.
 */
#include "back.h"

#include "bundle.h"

#include <jansson.h>

static const char *const cell_names[] = { "-", "allow", "deny" };
static const char *const mode_names[] = { "ro", "rw" };

static json_t *dump_strs(const char *const *v, int n)
{
	json_t *a = json_array();

	for (int i = 0; i < n; i++)
		json_array_append_new(a, json_string(v[i]));
	return a;
}

/* A file mode as the policy writes it: "0660". */
static json_t *dump_mode(int mode)
{
	char buf[16];

	snprintf(buf, sizeof buf, "%04o", mode);
	return json_string(buf);
}

static json_t *dump_range(const FpRange *r)
{
	return json_pack("{s:I, s:I, s:I}", "min", (json_int_t)r->min,
			 "max", (json_int_t)r->max, "default", (json_int_t)r->def);
}

static json_t *dump_via(const FpVia *v)
{
	switch (v->kind) {
	case FP_VIA_NET:
		return json_pack("{s:s, s:o, s:o}", "kind", "net",
				 "ifaces", dump_strs(v->ifaces, v->n_ifaces),
				 "addrs", dump_strs(v->addrs, v->n_addrs));
	case FP_VIA_USER:
		return json_pack("{s:s, s:s, s:o}", "kind", "user", "user", v->user,
				 "uid", v->uid >= 0 ? json_integer(v->uid) : json_null());
	case FP_VIA_ANY:
		return json_pack("{s:s}", "kind", "any");
	default:
		BUG("unknown via kind %d", (int)v->kind);
	}
}

static json_t *dump_sources(const FpBundle *b)
{
	int n;
	const FpSource *s = bundle_sources(b, &n);
	json_t *a = json_array();

	for (int i = 0; i < n; i++) {
		json_t *vias = json_array();

		for (int k = 0; k < s[i].n_vias; k++)
			json_array_append_new(vias, dump_via(&s[i].vias[k]));
		json_array_append_new(a, json_pack("{s:s, s:o}", "name", s[i].name,
						   "vias", vias));
	}
	return a;
}

static json_t *dump_service(const FpService *s)
{
	switch (s->kind) {
	case FP_SVC_TCP:
	case FP_SVC_UDP:
		return json_pack("{s:s, s:s, s:i, s:i, s:o}", "name", s->name,
				 "kind", s->kind == FP_SVC_TCP ? "tcp" : "udp",
				 "port_lo", s->port_lo, "port_hi", s->port_hi,
				 "listen", s->listen ? json_string(s->listen) : json_null());
	case FP_SVC_UNIX:
		return json_pack("{s:s, s:s, s:s, s:s, s:s, s:o}", "name", s->name,
				 "kind", "unix", "path", s->path, "owner", s->owner,
				 "group", s->group, "mode", dump_mode(s->mode));
	case FP_SVC_EGRESS:
		return json_pack("{s:s, s:s, s:o}", "name", s->name, "kind", "egress",
				 "dests", dump_strs(s->dests, s->n_dests));
	default:
		BUG("unknown service kind %d", (int)s->kind);
	}
}

/* {"services": [column names], "rows": [{"source", "cells": [...]}]} */
static json_t *dump_trust(const FpBundle *b)
{
	int ns, nv;
	const FpSource *src = bundle_sources(b, &ns);
	const FpService *svc = bundle_services(b, &nv);
	json_t *cols = json_array(), *rows = json_array();

	for (int j = 0; j < nv; j++)
		json_array_append_new(cols, json_string(svc[j].name));
	for (int i = 0; i < ns; i++) {
		json_t *cells = json_array();

		for (int j = 0; j < nv; j++)
			json_array_append_new(cells, json_string(cell_names[bundle_cell(b, i, j)]));
		json_array_append_new(rows, json_pack("{s:s, s:o}", "source", src[i].name,
						      "cells", cells));
	}
	return json_pack("{s:o, s:o}", "services", cols, "rows", rows);
}

static json_t *dump_privilege(const FpPrivilege *p)
{
	json_t *secrets = json_array(), *grants = json_array();

	for (int i = 0; i < p->n_secrets; i++)
		json_array_append_new(secrets, json_pack("{s:s, s:s}", "name",
			p->secrets[i]->name, "key", p->secrets[i]->key));
	for (int i = 0; i < p->n_grants; i++)
		json_array_append_new(grants, json_pack("{s:s, s:s}", "mount",
			p->grants[i].mount->name, "mode", mode_names[p->grants[i].mode]));
	return json_pack("{s:s, s:o, s:o, s:o, s:o, s:o, s:o}", "name", p->name,
			 "secrets", secrets, "grants", grants,
			 "work_mode", p->has_work ? json_string(mode_names[p->work_mode]) :
			 json_null(),
			 "cpus", dump_range(&p->cpus), "memory_gb", dump_range(&p->memory_gb),
			 "timeout_min", dump_range(&p->timeout_min));
}

static json_t *dump_services(const FpBundle *b)
{
	int n;
	const FpService *svc = bundle_services(b, &n);
	json_t *a = json_array();

	for (int i = 0; i < n; i++)
		json_array_append_new(a, dump_service(&svc[i]));
	return a;
}

static json_t *dump_identities(const FpBundle *b)
{
	int n;
	const FpIdentity *id = bundle_identities(b, &n);
	json_t *a = json_array();

	for (int i = 0; i < n; i++)
		json_array_append_new(a, json_pack("{s:s, s:s, s:o, s:s}", "name",
			id[i].name, "spiffe_id", id[i].spiffe_id, "selectors",
			dump_strs(id[i].selectors, id[i].n_selectors),
			"privilege", id[i].privilege->name));
	return a;
}

static json_t *dump_privileges(const FpBundle *b)
{
	int n;
	const FpPrivilege *pv = bundle_privileges(b, &n);
	json_t *a = json_array();

	for (int i = 0; i < n; i++)
		json_array_append_new(a, dump_privilege(&pv[i]));
	return a;
}

static json_t *dump_mounts(const FpBundle *b)
{
	int n;
	const FpMount *mt = bundle_mounts(b, &n);
	json_t *a = json_array();

	for (int i = 0; i < n; i++)
		json_array_append_new(a, json_pack("{s:s, s:s, s:s, s:o, s:o}",
			"name", mt[i].name, "host", mt[i].host, "target", mt[i].target,
			"mode", mt[i].has_mode ? json_string(mode_names[mt[i].mode]) :
			json_null(),
			"service", mt[i].service ? json_string(mt[i].service) : json_null()));
	return a;
}

static json_t *dump_secrets(const FpBundle *b)
{
	int n;
	const FpSecret *sec = bundle_secrets(b, &n);
	json_t *a = json_array();

	for (int i = 0; i < n; i++)
		json_array_append_new(a, json_pack("{s:s, s:s}", "name", sec[i].name,
						   "key", sec[i].key));
	return a;
}

static json_t *dump_invariants(const FpBundle *b)
{
	int n;
	const FpInvariant *inv = bundle_invariants(b, &n);
	json_t *a = json_array();

	for (int i = 0; i < n; i++)
		json_array_append_new(a, json_pack("{s:s, s:s}", "name", inv[i].name,
						   "text", inv[i].text));
	return a;
}

static json_t *dump_container(const FpContainer *c)
{
	json_t *labels = json_array();

	for (int i = 0; i < c->n_labels; i++)
		json_array_append_new(labels, json_pack("{s:s, s:s}", "key",
			c->labels[i].key, "value", c->labels[i].value));
	return json_pack("{s:o, s:s, s:b, s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:o}",
			 "source", c->source ? json_string(c->source) : json_null(),
			 "engine", c->engine, "rootless", c->rootless, "user", c->user,
			 "uid", c->uid >= 0 ? json_integer(c->uid) : json_null(),
			 "userns", c->userns ? json_string(c->userns) : json_null(),
			 "network", c->network ? json_string(c->network) : json_null(),
			 "image", c->image ? json_string(c->image) : json_null(),
			 "cap_drop", dump_strs(c->cap_drop, c->n_cap_drop),
			 "security_opts", dump_strs(c->security_opts, c->n_security_opts),
			 "labels", labels);
}

void dump_bundle(const FpBundle *b, Buf *out)
{
	json_t *j = json_pack("{s:i, s:s, s:s, s:s, s:{s:s, s:s}, s:o, s:o, s:o, s:o}",
			      "format_version", (int)bundle_format_version(b),
			      "fpc_version", bundle_fpc_version(b),
			      "policy_sha256", bundle_policy_sha256(b),
			      "policy_name", bundle_policy_name(b),
			      "table", "family", bundle_table_family(b),
			      "name", bundle_table_name(b),
			      "trust_domain", bundle_trust_domain(b) ?
			      json_string(bundle_trust_domain(b)) : json_null(),
			      "sources", dump_sources(b), "trust", dump_trust(b),
			      "container", bundle_container(b) ?
			      dump_container(bundle_container(b)) : json_null());

	if (!j)
		BUG("json_pack failed");
	json_object_set_new(j, "services", dump_services(b));
	json_object_set_new(j, "identities", dump_identities(b));
	json_object_set_new(j, "privileges", dump_privileges(b));
	json_object_set_new(j, "mounts", dump_mounts(b));
	json_object_set_new(j, "secrets", dump_secrets(b));
	json_object_set_new(j, "invariants", dump_invariants(b));
	emit_json_out(j, out);
}

int cmd_dump(int argc, char **argv)
{
	char err[BUNDLE_ERR_MAX];
	Buf out = { 0 };
	FpBundle *b;
	const char *path;

	if (diag_args(argc, argv, NULL, &path, 1, 1, "BUNDLE") < 0)
		return 2;
	b = bundle_load_file(path, err, sizeof err);
	if (!b) {
		fprintf(stderr, "fpc: error: %s\n", err);
		return 1;
	}
	dump_bundle(b, &out);
	fwrite(out.data, 1, out.len, stdout);
	buf_free(&out);
	bundle_free(b);
	return fflush(stdout) == 0 ? 0 : 1;
}
