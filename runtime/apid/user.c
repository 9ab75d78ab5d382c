/* SPDX-License-Identifier: GPL-2.0-or-later */
/* user.c: the container user from the bundle: the daemon runs as it (or
 * drops to it from root), and its children get its environment. */
#include "apid.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Passed through to engine children when set (tests point podman at a
 * containers.conf of their own). */
static const char *const pass_env[] = {
	"CONTAINERS_CONF", "CONTAINERS_STORAGE_CONF", "CONTAINERS_REGISTRIES_CONF",
	"TMPDIR",
};

static char *env_pair(const char *k, const char *v)
{
	size_t n = strlen(k) + strlen(v) + 2;
	char *s = malloc(n);

	if (!s)
		abort();
	snprintf(s, n, "%s=%s", k, v);
	return s;
}

/* see apid.h */
int runas_resolve(const FpBundle *b, RunAs *ra, char *err, size_t errlen)
{
	const FpContainer *c = bundle_container(b);
	struct passwd *pw;
	const char *home, *xdg;
	char rt[64];
	bool same;
	int n = 0;

	memset(ra, 0, sizeof *ra);
	errno = 0;
	pw = getpwnam(c->user);
	if (!pw) {
		snprintf(err, errlen, "container user '%s' does not exist", c->user);
		return -1;
	}
	if (c->uid >= 0 && (long)pw->pw_uid != c->uid) {
		snprintf(err, errlen, "container user '%s' has uid %ld, the policy pins %ld",
			 c->user, (long)pw->pw_uid, c->uid);
		return -1;
	}
	if (c->rootless && pw->pw_uid == 0) {
		snprintf(err, errlen, "container user '%s' is root, the policy says rootless",
			 c->user);
		return -1;
	}
	if (geteuid() != 0 && geteuid() != pw->pw_uid) {
		snprintf(err, errlen, "fp-apid runs as uid %ld: start it as root or as '%s'",
			 (long)geteuid(), c->user);
		return -1;
	}
	/* Started as the user (a service manager set its HOME and runtime
	 * directory, e.g. the NixOS unit's /run/flashpods-apid): keep them.
	 * Dropping from root: root's are not the user's; use the passwd home
	 * and /run/user/UID. */
	same = geteuid() == pw->pw_uid;
	home = same && getenv("HOME") && getenv("HOME")[0] == '/' ? getenv("HOME") : pw->pw_dir;
	snprintf(rt, sizeof rt, "/run/user/%ld", (long)pw->pw_uid);
	xdg = same && getenv("XDG_RUNTIME_DIR") && getenv("XDG_RUNTIME_DIR")[0] == '/' ?
		getenv("XDG_RUNTIME_DIR") : rt;
	ra->uid = pw->pw_uid;
	ra->gid = pw->pw_gid;
	ra->name = strdup(pw->pw_name);
	ra->home = strdup(home);
	ra->env = calloc(8 + sizeof pass_env / sizeof *pass_env, sizeof *ra->env);
	if (!ra->name || !ra->home || !ra->env)
		abort();
	ra->env[n++] = env_pair("PATH", "/run/wrappers/bin:/run/current-system/sw/bin:"
				"/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
	ra->env[n++] = env_pair("HOME", home);
	ra->env[n++] = env_pair("USER", pw->pw_name);
	ra->env[n++] = env_pair("LOGNAME", pw->pw_name);
	ra->env[n++] = env_pair("XDG_RUNTIME_DIR", xdg);
	for (size_t i = 0; i < sizeof pass_env / sizeof *pass_env; i++)
		if (getenv(pass_env[i]))
			ra->env[n++] = env_pair(pass_env[i], getenv(pass_env[i]));
	return 0;
}

/* see apid.h */
int runas_drop(const RunAs *ra, char *err, size_t errlen)
{
	if (geteuid() != 0)
		return 0;
	if (initgroups(ra->name, ra->gid) < 0 || setgid(ra->gid) < 0 ||
	    setuid(ra->uid) < 0) {
		snprintf(err, errlen, "cannot drop to '%s': %s", ra->name, strerror(errno));
		return -1;
	}
	if (setuid(0) == 0 || geteuid() != ra->uid || getegid() != ra->gid) {
		snprintf(err, errlen, "dropping to '%s' did not stick", ra->name);
		return -1;
	}
	return 0;
}

/* see apid.h */
void runas_free(RunAs *ra)
{
	if (ra->env)
		for (char **e = ra->env; *e; e++)
			free(*e);
	free(ra->env);
	free(ra->name);
	free(ra->home);
	memset(ra, 0, sizeof *ra);
}
