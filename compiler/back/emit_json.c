/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * emit_json.c: mounts.json and privileges.json, the bundle's mounts and
 * identity/privilege maps for people and CI diffs (docs/artifacts.md).
 *
 * Keys are sorted (JSON_SORT_KEYS), arrays keep policy order, two-space
 * indent, one trailing newline: the same policy gives the same bytes. They
 * hold no hash or version, so a change elsewhere in the policy (a comment,
 * a firewall row) leaves them byte-identical.
 */
#include "back.h"

#include <ctype.h>
#include <jansson.h>

static const char *json_mode(MountMode m)
{
	switch (m) {
	case MODE_RO: return "ro";
	case MODE_RW: return "rw";
	default: BUG("mode %d has no JSON value", (int)m);
	}
}

/* see fpc.h */
void emit_json_out(json_t *j, Buf *out)
{
	char *s = json_dumps(j, JSON_INDENT(2) | JSON_SORT_KEYS);

	if (!s)
		BUG("json_dumps failed");
	buf_puts(out, s);
	buf_puts(out, "\n");
	free(s);
	json_decref(j);
}

static json_t *json_range(const Range *r)
{
	return json_pack("{s:I, s:I, s:I}", "min", (json_int_t)r->min,
			 "max", (json_int_t)r->max,
			 "default", (json_int_t)(r->has_def ? r->def : r->min));
}

/* A mount as declared: host (template), target, mode (null: each
 * privilege's), service (socket mounts). */
static json_t *json_mount(const Mount *m)
{
	json_t *j = json_object();

	json_object_set_new(j, "host", json_string(m->service ? m->service->path : m->host));
	json_object_set_new(j, "target", json_string(m->service ? m->service->path : m->target));
	json_object_set_new(j, "mode", m->mode == MODE_UNSET ? json_null() :
			    json_string(json_mode(m->mode)));
	if (m->service)
		json_object_set_new(j, "service", json_string(m->service->name));
	return j;
}

/* mounts.json: {"mounts": {NAME: mount}, "jobs": {PRIVILEGE: [the mounts
 * its containers get, in order, with their modes]}}. */
void emit_json_mounts(const Policy *p, Buf *out)
{
	json_t *mounts = json_object(), *jobs = json_object();

	for (int i = 0; i < p->n_mounts; i++)
		json_object_set_new(mounts, p->mounts[i].name, json_mount(&p->mounts[i]));
	for (int i = 0; i < p->n_privileges; i++) {
		const Privilege *pv = &p->privileges[i];
		json_t *list = json_array();

		for (int k = 0; k < p->n_mounts; k++) {
			const Mount *m = &p->mounts[k];
			MountMode mode = emit_pb_grant(pv, m);

			if (mode == MODE_UNSET)
				continue;
			json_array_append_new(list, json_pack("{s:s, s:s, s:s, s:s}",
				"mount", m->name,
				"host", m->service ? m->service->path : m->host,
				"target", m->service ? m->service->path : m->target,
				"mode", json_mode(mode)));
		}
		json_object_set_new(jobs, pv->name, list);
	}
	emit_json_out(json_pack("{s:o, s:o}", "mounts", mounts, "jobs", jobs), out);
}

/* privileges.json: the trust domain, each SPIFFE ID's identity and
 * privilege, and each privilege's secrets (name -> secrets.json key), /work
 * mode and resource ranges. */
void emit_json_privileges(const Policy *p, Buf *out)
{
	json_t *ids = json_object(), *privs = json_object();

	for (int i = 0; i < p->n_identities; i++) {
		const Identity *id = &p->identities[i];
		json_t *sel = json_array();

		for (int k = 0; k < id->n_selectors; k++)
			json_array_append_new(sel, json_string(id->selectors[k]));
		json_object_set_new(ids, id->spiffe_id,
				    json_pack("{s:s, s:s, s:o}", "identity", id->name,
					      "privilege", id->privilege->name,
					      "selectors", sel));
	}
	for (int i = 0; i < p->n_privileges; i++) {
		const Privilege *pv = &p->privileges[i];
		json_t *secrets = json_object(), *work = json_null();

		for (int k = 0; k < pv->n_secrets; k++) {
			char *key = arena_strdup(p->arena, pv->secrets[k]);

			for (char *c = key; *c; c++)
				*c = (char)tolower((unsigned char)*c);
			json_object_set_new(secrets, pv->secrets[k], json_string(key));
		}
		for (int k = 0; k < p->n_mounts; k++) {
			MountMode mode = emit_pb_grant(pv, &p->mounts[k]);
			const char *target = p->mounts[k].service ?
				p->mounts[k].service->path : p->mounts[k].target;

			if (mode != MODE_UNSET && !strcmp(target, "/work")) {
				json_decref(work);
				work = json_string(json_mode(mode));
			}
		}
		json_object_set_new(privs, pv->name,
				    json_pack("{s:o, s:o, s:o, s:o, s:o}",
					      "secrets", secrets, "work_mode", work,
					      "cpus", json_range(&pv->cpus),
					      "memory_gb", json_range(&pv->memory_gb),
					      "timeout_min", json_range(&pv->timeout_min)));
	}
	emit_json_out(json_pack("{s:o, s:o, s:o}", "trust_domain",
				p->trust_domain ? json_string(p->trust_domain) : json_null(),
				"identities", ids, "privileges", privs), out);
}

int emit_json_mounts_artifact(const Policy *p, const Ruleset *rs, Buf *out)
{
	(void)rs;
	emit_json_mounts(p, out);
	return 0;
}

int emit_json_privileges_artifact(const Policy *p, const Ruleset *rs, Buf *out)
{
	(void)rs;
	emit_json_privileges(p, out);
	return 0;
}
