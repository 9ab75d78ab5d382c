/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * sema_runtime.c: the checks of what the daemons get from a policy:
 * mounts, privileges, the trust domain and identities, and the container
 * profile (sema_int.h has the state they share with sema.c).
 */
#include "sema_int.h"

#include <ctype.h>
#include <string.h>

/* ---- mounts ---- */

static MountMode mode_of(const AstTok *t)
{
	return !t->s ? MODE_UNSET : !strcmp(t->s, "ro") ? MODE_RO : MODE_RW;
}

/* A mount's host path must be strictly below one of the policy's mount
 * roots (fpc makes its directories the container user's). */
static void check_under_roots(Sema *S, const Mount *m, const AstTok *host)
{
	const Policy *p = S->p;
	Buf roots = { 0 };

	for (int i = 0; i < p->n_mount_roots; i++) {
		size_t n = strlen(p->mount_roots[i]);

		if (!strncmp(host->s, p->mount_roots[i], n) && host->s[n] == '/' && host->s[n + 1])
			return;
	}
	for (int i = 0; i < p->n_mount_roots; i++)
		buf_printf(&roots, "%s%s", i ? ", " : "", p->mount_roots[i]);
	err(S, host->loc, "mount '%s': host path '%.80s' is outside the policy's mount roots (%s): move it below one, or declare its directory with `mount roots \"DIR\";` in the policy block",
	    m->name, host->s, roots.len ? roots.data : "none");
	buf_free(&roots);
}

void sema_mounts(Sema *S)
{
	Policy *p = S->p;
	NameMap targets = { 0 };

	p->mounts = arena_alloc(S->a, (size_t)S->mounts.n * sizeof *p->mounts);
	S->mount_names = arena_alloc(S->a, (size_t)S->mounts.n * sizeof *S->mount_names);
	sema_map_init(S->a, &S->mount_map, S->mounts.n);
	sema_map_init(S->a, &targets, S->mounts.n);
	for (int i = 0; i < S->mounts.n; i++) {
		AstStmt *st = S->mounts.v[i];
		Mount *m = &p->mounts[p->n_mounts++], *old;

		m->name = st->name.s;
		m->loc = st->loc;
		sema_check_name(S, &st->name, "mount");
		m->mode = mode_of(&st->c);
		S->mount_names[i] = m->name;
		if ((old = sema_map_put(&S->mount_map, m->name, m)))
			sema_duplicate(S, st->name.loc, "mount", m->name, old->loc);
		if (st->sub == 0) {
			if (sema_check_path(S, &st->a, "a mount's host path", true))
				check_under_roots(S, m, &st->a);
			sema_check_path(S, &st->b, "a mount's target", false);
			m->host = st->a.s;
			m->target = st->b.s;
		} else {
			Service *svc = sema_map_get(&S->svc_map, st->a.s);

			if (!svc) {
				sema_unknown(S, st->a.loc, "service", st->a.s, S->svc_names, S->services.n);
				continue;
			}
			if (svc->kind != SVC_UNIX) {
				err(S, st->a.loc, "service '%s' is not a unix socket; only unix services can be mounted",
				    svc->name);
				continue;
			}
			m->service = svc;
			m->host = m->target = svc->path;
		}
		if (m->target && (old = sema_map_put(&targets, m->target, m)))
			err(S, st->loc, "mount '%s' has the same target as mount '%s' (%s)", m->name,
			    old->name, m->target);
	}
}

/* ---- privileges ---- */

/* A resource range: min >= 1, min <= max, default inside; unit as named. */
static void sema_range(Sema *S, const AstStmt *st, Range *r, const char *what,
		       const char *unit, long limit)
{
	bool ok = true;

	r->loc = st->loc;
	if (!unit && st->c.s)
		err(S, st->c.loc, "%s takes no unit (write `%s %s..%s`)", what, what, st->a.s, st->b.s);
	else if (unit && (!st->c.s || strcmp(st->c.s, unit) != 0))
		err(S, st->c.s ? st->c.loc : st->b.loc, "%s is counted in %s (write `%s %s..%s %s`)",
		    what, unit, what, st->a.s, st->b.s, unit);
	ok &= sema_num_in(S, &st->a, 1, limit, what, &r->min);
	ok &= sema_num_in(S, &st->b, 1, limit, what, &r->max);
	if (ok && r->min > r->max) {
		err(S, sema_loc_span(st->a.loc, st->b.loc), "range %ld..%ld is empty (the minimum is above the maximum)",
		    r->min, r->max);
		ok = false;
	}
	r->def = r->min;
	if (st->d.s && sema_num_in(S, &st->d, 0, limit, "default", &r->def)) {
		r->has_def = true;
		if (ok && (r->def < r->min || r->def > r->max))
			err(S, st->d.loc, "default %ld is outside the range %ld..%ld", r->def, r->min, r->max);
	}
}

static void sema_privilege(Sema *S, const AstStmt *st, Privilege *pr)
{
	static const char *const what[] = { "cpus", "memory", "timeout" };
	const AstStmt *ranges[3] = { 0 };
	NameMap secrets = { 0 }, grants = { 0 };
	int n_secrets = 0, n_grants = 0;

	for (int i = 0; i < st->n_body; i++) {
		n_secrets += st->body[i]->kind == AST_SECRETS ? st->body[i]->list.n : 0;
		n_grants += st->body[i]->kind == AST_GRANT;
	}
	sema_map_init(S->a, &secrets, n_secrets);
	sema_map_init(S->a, &grants, n_grants);
	pr->secrets = arena_alloc(S->a, (size_t)n_secrets * sizeof *pr->secrets);
	pr->mounts = arena_alloc(S->a, (size_t)n_grants * sizeof *pr->mounts);
	for (int i = 0; i < st->n_body; i++) {
		const AstStmt *b = st->body[i];

		switch (b->kind) {
		case AST_SECRETS:
			for (int k = 0; k < b->list.n; k++) {
				const AstTok *t = &b->list.v[k];
				const char *s = t->s;
				bool ok = isupper((unsigned char)s[0]) || s[0] == '_';

				for (size_t j = 1; s[j]; j++)
					ok &= isupper((unsigned char)s[j]) || isdigit((unsigned char)s[j]) || s[j] == '_';
				if (!ok)
					err(S, t->loc, "secret names are written like environment variables (upper case, digits, '_'): '%s'", s);
				else if (sema_map_put(&secrets, s, (void *)s))
					err(S, t->loc, "secret '%s' is listed twice", s);
				else
					pr->secrets[pr->n_secrets++] = s;
			}
			break;
		case AST_GRANT: {
			Mount *m = sema_map_get(&S->mount_map, b->name.s);
			MountMode mode = mode_of(&b->a);

			if (!m) {
				sema_unknown(S, b->name.loc, "mount", b->name.s, S->mount_names, S->mounts.n);
				break;
			}
			if (sema_map_put(&grants, m->name, m)) {
				err(S, b->loc, "mount '%s' is granted twice", m->name);
				break;
			}
			if (m->mode != MODE_UNSET && m->mode != mode)
				err(S, b->a.loc, "mount '%s' is always %s; a privilege only chooses the mode of a mount declared without one",
				    m->name, m->mode == MODE_RO ? "ro" : "rw");
			pr->mounts[pr->n_mounts++] = (MountGrant){ m, mode, b->loc };
			break;
		}
		case AST_RANGE:
			if (ranges[b->sub])
				err(S, b->loc, "%s is given twice", what[b->sub]);
			else
				ranges[b->sub] = b;
			break;
		default:
			BUG("privilege statement kind %d", (int)b->kind);
		}
	}
	for (int k = 0; k < 3; k++)
		if (!ranges[k])
			err(S, pr->loc, "privilege '%s' does not set %s (add `%s`)", pr->name, what[k],
			    k == 0 ? "cpus 1..N default N;" : k == 1 ? "memory 1..N GB default N;" : "timeout 1..N min default N;");
	if (ranges[0])
		sema_range(S, ranges[0], &pr->cpus, "cpus", NULL, 1024);
	if (ranges[1])
		sema_range(S, ranges[1], &pr->memory_gb, "memory", "GB", 65536);
	if (ranges[2])
		sema_range(S, ranges[2], &pr->timeout_min, "timeout", "min", 525600);
	for (int i = 0; i < S->p->n_mounts; i++) {
		Mount *m = &S->p->mounts[i];

		if (m->mode == MODE_UNSET && sema_map_get(&S->mount_map, m->name) == m &&
		    !sema_map_get(&grants, m->name))
			err(S, pr->loc, "privilege '%s' does not say how to mount '%s' (add `mount %s ro;` or `mount %s rw;`)",
			    pr->name, m->name, m->name, m->name);
	}
}

void sema_privileges(Sema *S)
{
	Policy *p = S->p;

	p->privileges = arena_alloc(S->a, (size_t)S->privileges.n * sizeof *p->privileges);
	S->priv_names = arena_alloc(S->a, (size_t)S->privileges.n * sizeof *S->priv_names);
	sema_map_init(S->a, &S->priv_map, S->privileges.n);
	for (int i = 0; i < S->privileges.n; i++) {
		AstStmt *st = S->privileges.v[i];
		Privilege *pr = &p->privileges[p->n_privileges++], *old;

		pr->name = st->name.s;
		pr->loc = sema_loc_span(st->loc, st->name.loc);
		sema_check_name(S, &st->name, "privilege");
		S->priv_names[i] = pr->name;
		if ((old = sema_map_put(&S->priv_map, pr->name, pr)))
			sema_duplicate(S, st->name.loc, "privilege", pr->name, old->loc);
	}
	for (int i = 0; i < S->privileges.n; i++)
		sema_privilege(S, S->privileges.v[i], &p->privileges[i]);
}

/* ---- trust domain and identities ---- */

void sema_identities(Sema *S)
{
	Policy *p = S->p;
	NameMap names = { 0 }, ids = { 0 };

	if (S->trust_domain) {
		AstTok *t = &S->trust_domain->a;
		size_t n = strlen(t->s);

		p->trust_domain = t->s;
		if (n == 0 || n > 255)
			err(S, t->loc, "a trust domain has 1 to 255 characters");
		for (size_t i = 0; i < n; i++) {
			unsigned char c = (unsigned char)t->s[i];

			if (!(islower(c) || isdigit(c) || c == '.' || c == '-' || c == '_')) {
				err(S, sema_str_loc(t, i, 1), "a trust domain holds only a-z, 0-9, '.', '-' and '_'");
				p->trust_domain = NULL;
				break;
			}
		}
	} else if (S->identities.n) {
		err(S, S->identities.v[0]->loc, "identities need a trust domain: add `trust_domain \"example.org\";`");
	}
	p->identities = arena_alloc(S->a, (size_t)S->identities.n * sizeof *p->identities);
	sema_map_init(S->a, &names, S->identities.n);
	sema_map_init(S->a, &ids, S->identities.n);
	for (int i = 0; i < S->identities.n; i++) {
		AstStmt *st = S->identities.v[i];
		Identity *id = &p->identities[p->n_identities++], *old;
		const AstTok *pt = st->b.s ? &st->b : &st->name;

		id->name = st->name.s;
		id->loc = st->loc;
		sema_check_name(S, &st->name, "identity");
		id->spiffe_id = st->a.s;
		if ((old = sema_map_put(&names, id->name, id)))
			sema_duplicate(S, st->name.loc, "identity", id->name, old->loc);
		if (sema_check_spiffe(S, &st->a, p->trust_domain) &&
		    (old = sema_map_put(&ids, id->spiffe_id, id)))
			err(S, st->a.loc, "SPIFFE ID %s is already identity '%s'", id->spiffe_id, old->name);
		id->selectors = arena_alloc(S->a, (size_t)st->list.n * sizeof *id->selectors);
		for (int k = 0; k < st->list.n; k++) {
			if (!st->list.v[k].s[0] || strlen(st->list.v[k].s) > TEXT_MAX_LEN)
				err(S, st->list.v[k].loc, "a selector has 1 to %d characters", TEXT_MAX_LEN);
			else if (sema_check_placeholders(S, &st->list.v[k]))
				id->selectors[id->n_selectors++] = st->list.v[k].s;
		}
		id->privilege = sema_map_get(&S->priv_map, pt->s);
		if (id->privilege)
			continue;
		if (st->b.s)
			sema_unknown(S, pt->loc, "privilege", pt->s, S->priv_names, S->privileges.n);
		else
			err(S, st->name.loc, "there is no privilege '%s' for identity '%s' (add `privilege %s { ... }` or say `privilege NAME`)",
			    pt->s, id->name, pt->s);
	}
}

/* ---- the container profile ---- */

static void one_of(Sema *S, const AstTok *t, const char *what,
		   const char *const *ok, int n)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(t->s, ok[i]))
			return;
	const char *hint = diag_suggest(t->s, ok, n);

	if (hint)
		err(S, t->loc, "unknown %s '%s'; did you mean '%s'?", what, t->s, hint);
	else
		err(S, t->loc, "unknown %s '%s'", what, t->s);
}

static void sema_container_stmt(Sema *S, const AstStmt *b, AstStmt **seen)
{
	static const char *const userns[] = { "keep-id", "auto", "host", "nomap", "private" };
	static const char *const nets[] = { "slirp4netns", "pasta", "none", "host", "private", "bridge" };
	Policy *p = S->p;
	Container *c = &p->container;

	if (b->kind != AST_C_LABEL && b->kind != AST_C_CAP_DROP && b->kind != AST_C_SECOPT) {
		if (seen[b->kind]) {
			err(S, b->loc, "a second %s statement (the first is at line %d)",
			    b->kind == AST_C_SOURCE ? "source" : b->kind == AST_C_ENGINE ? "engine" :
			    b->kind == AST_C_USERNS ? "userns" : b->kind == AST_C_NETWORK ? "network" : "image",
			    seen[b->kind]->loc.first_line);
			return;
		}
		seen[b->kind] = (AstStmt *)b;
	}
	switch (b->kind) {
	case AST_C_SOURCE:
		break;		/* resolved in sema_container */
	case AST_C_ENGINE:
		if (strcmp(b->name.s, "podman") != 0)
			err(S, b->name.loc, "unsupported container engine '%s' (only podman)", b->name.s);
		c->engine = b->name.s;
		c->rootless = b->sub;
		c->user = b->a.s;
		if (b->a.s)
			sema_check_user(S, &b->a, "user");
		if (b->b.s && !b->a.s)
			err(S, b->b.loc, "uid pins the uid of the engine's user: add `user NAME`");
		if (b->b.s)
			sema_num_in(S, &b->b, 0, INT32_MAX, "uid", &c->uid);
		break;
	case AST_C_USERNS:
		one_of(S, &b->a, "user namespace mode", userns, 5);
		c->userns = b->a.s;
		break;
	case AST_C_NETWORK:
		one_of(S, &b->a, "container network", nets, 6);
		c->network = b->a.s;
		break;
	case AST_C_IMAGE:
		if (!bundle_valid_image(b->a.s))
			err(S, b->a.loc, "\"%s\" is not an image reference ([HOST[:PORT]/]NAME[:TAG][@DIGEST], at most 255 characters)",
			    b->a.s);
		c->image = b->a.s;
		break;
	case AST_C_CAP_DROP: {
		const char **v = arena_alloc(S->a, (size_t)(c->n_cap_drop + b->list.n) * sizeof *v);

		if (c->n_cap_drop)
			memcpy(v, c->cap_drop, (size_t)c->n_cap_drop * sizeof *v);
		c->cap_drop = v;
		for (int i = 0; i < b->list.n; i++) {
			const char *s = b->list.v[i].s;
			bool ok = isupper((unsigned char)s[0]);

			for (size_t j = 1; s[j]; j++)
				ok &= isupper((unsigned char)s[j]) || isdigit((unsigned char)s[j]) || s[j] == '_';
			if (!ok)
				err(S, b->list.v[i].loc, "'%s' is not a capability (write ALL or a name like NET_RAW)", s);
			else
				c->cap_drop[c->n_cap_drop++] = s;
		}
		break;
	}
	case AST_C_SECOPT: {
		const char **v = arena_alloc(S->a, (size_t)(c->n_security_opts + b->list.n) * sizeof *v);

		if (c->n_security_opts)
			memcpy(v, c->security_opts, (size_t)c->n_security_opts * sizeof *v);
		c->security_opts = v;
		for (int i = 0; i < b->list.n; i++) {
			if (!bundle_valid_token(b->list.v[i].s))
				err(S, b->list.v[i].loc, "\"%s\" is not a security option (A-Z, a-z, 0-9 and _.:=/,+-, not starting with '-')",
				    b->list.v[i].s);
			else
				c->security_opts[c->n_security_opts++] = b->list.v[i].s;
		}
		break;
	}
	case AST_C_LABEL:
		break;		/* counted and checked in sema_container */
	default:
		BUG("container statement kind %d", (int)b->kind);
	}
}

void sema_container(Sema *S)
{
	Policy *p = S->p;
	Container *c = &p->container;
	AstStmt *seen[AST_C_LABEL + 1] = { 0 };
	NameMap keys = { 0 };
	int n_labels = 0;

	c->uid = -1;
	if (!S->container) {
		AstStmt *need = S->mounts.n ? S->mounts.v[0] : S->privileges.n ? S->privileges.v[0] :
			S->identities.n ? S->identities.v[0] : NULL;

		if (need)
			err(S, need->loc, "mounts, privileges and identities need a container block (`container { source NAME; engine podman; }`)");
		return;
	}
	c->loc = sema_loc_span(S->container->loc, S->container->open);
	for (int i = 0; i < S->container->n_body; i++) {
		n_labels += S->container->body[i]->kind == AST_C_LABEL;
		sema_container_stmt(S, S->container->body[i], seen);
	}
	c->labels = arena_alloc(S->a, (size_t)n_labels * sizeof *c->labels);
	sema_map_init(S->a, &keys, n_labels);
	for (int i = 0; i < S->container->n_body; i++) {
		AstStmt *b = S->container->body[i];
		Label *old;

		if (b->kind != AST_C_LABEL)
			continue;
		if (!bundle_valid_token(b->a.s) || strchr(b->a.s, '=') || strchr(b->a.s, ',')) {
			err(S, b->a.loc, "\"%s\" is not a label key (A-Z, a-z, 0-9 and _.:/+-, not starting with '-')",
			    b->a.s);
			continue;
		}
		if (strlen(b->b.s) > TEXT_MAX_LEN) {
			err(S, b->b.loc, "a label value has at most %d characters", TEXT_MAX_LEN);
			continue;
		}
		if (!sema_check_placeholders(S, &b->b))
			continue;
		c->labels[c->n_labels] = (Label){ b->a.s, b->b.s, b->loc };
		if ((old = sema_map_put(&keys, b->a.s, &c->labels[c->n_labels])))
			err(S, b->a.loc, "label \"%s\" is set twice (the first is at line %d)", b->a.s,
			    old->loc.first_line);
		else
			c->n_labels++;
	}
	if (!seen[AST_C_ENGINE])
		err(S, c->loc, "the container block needs `engine podman rootless user NAME;`");
	else if (!c->user)
		err(S, seen[AST_C_ENGINE]->loc, "the engine needs `user NAME` (the host user the containers run as)");
	if (!seen[AST_C_USERNS])
		err(S, c->loc, "the container block needs `userns MODE;` (keep-id, auto, host, nomap or private)");
	if (!seen[AST_C_NETWORK])
		err(S, c->loc, "the container block needs `network MODE;` (slirp4netns, pasta, none, host, private or bridge)");
	if (!seen[AST_C_SOURCE]) {
		err(S, c->loc, "the container block needs `source NAME;` (the source its traffic belongs to)");
		return;
	}
	const AstTok *st = &seen[AST_C_SOURCE]->name;
	Source *src = sema_map_get(&S->src_map, st->s);

	if (!src) {
		sema_unknown(S, st->loc, "source", st->s, S->src_names, S->sources.n);
		return;
	}
	c->source = src;
	/* the profile's user is the uid rootless egress leaves with */
	for (int i = 0; c->user && i < S->sources.n; i++)
		for (int j = 0; j < S->src_decl[i].n_vias; j++) {
			Via *v = &S->src_decl[i].vias[j];

			if (v->kind == VIA_USER && v->user && !strcmp(v->user, c->user))
				v->uid = c->uid;
		}
	/* a mounted socket must not contradict the table */
	for (int i = 0; S->table_ok && src->index >= 0 && i < p->n_mounts; i++) {
		Mount *m = &p->mounts[i];

		if (m->service && m->service->index >= 0 &&
		    policy_cell(p, src->index, m->service->index)->kind == CELL_DENY)
			err(S, m->loc, "mount '%s' hands socket '%s' to the containers, but the trust table denies %s -> %s",
			    m->name, m->service->name, src->name, m->service->name);
	}
}

