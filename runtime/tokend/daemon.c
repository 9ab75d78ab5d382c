/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * daemon.c: fp-tokend's life. Start-up in a fixed order, each step fatal:
 *
 *   1 command line           (exit 2 on a mistake)
 *   2 policy bundle          (exit 1 from here on ...)
 *   3 secrets file
 *   4 trust bundle
 *   5 audit log
 *   -n stops here, after checking the socket's place (exit 3 if it
 *      cannot be made there): "configuration ok", exit 0
 *   6 token socket, server   (exit 3)
 *
 * then serve until SIGTERM or SIGINT (exit 0). SIGHUP reloads 2-4 as one
 * (and reopens the audit log): all or nothing, a failure keeps the old set
 * in force and says why. A change of the trust bundle file (SPIRE rotating
 * its keys) reloads the trust bundle alone, the same way.
 */
#include "tokend.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

enum { POLL_MS = 2000 };	/* re-stat the trust bundle this often */

/* What identifies one version of a file: a rename or a write changes it. */
typedef struct FileSig {
	bool exists;
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime, ctime;
} FileSig;

static FileSig file_sig(const char *path)
{
	struct stat st;
	FileSig f = { 0 };

	if (stat(path, &st) == 0)
		f = (FileSig){ true, st.st_dev, st.st_ino, st.st_size, st.st_mtim,
			       st.st_ctim };
	return f;
}

static bool file_sig_eq(const FileSig *a, const FileSig *b)
{
	return a->exists == b->exists && a->dev == b->dev && a->ino == b->ino &&
	       a->size == b->size && a->mtime.tv_sec == b->mtime.tv_sec &&
	       a->mtime.tv_nsec == b->mtime.tv_nsec &&
	       a->ctime.tv_sec == b->ctime.tv_sec &&
	       a->ctime.tv_nsec == b->ctime.tv_nsec;
}

/* The daemon's moving parts. */
typedef struct Tokend {
	TokendConfig cfg;
	Server *srv;
	Audit *audit;
	FileSig jwks_sig;
	int sig_fd, ino_fd;
} Tokend;

/* Log what is in force. */
static void log_snapshot(const char *what, const Snapshot *snap)
{
	int n_ids;

	bundle_identities(snap->pol->bundle, &n_ids);
	daemon_log("%s: policy %s (sha256 %.12s), trust domain %s, %d identities, "
		   "%d secrets, %d trust-bundle keys", what,
		   bundle_policy_name(snap->pol->bundle), snap->pol->sha256,
		   snap->pol->trust_domain, n_ids, snap->pol->n_secrets,
		   snap->jwks->n_keys);
}

/* SIGHUP: reload bundle, secrets and trust bundle together. */
static void reload_all(Tokend *t)
{
	char err[TOKEND_ERR_MAX];
	FileSig sig = file_sig(t->cfg.jwks_path);
	Snapshot *snap = config_load(&t->cfg, err, sizeof err);

	if (!snap) {
		daemon_log("reload failed, keeping the previous policy, secrets and "
			   "trust bundle: %s", err);
		return;
	}
	if (server_check_socket(t->srv, snap, err, sizeof err) < 0) {
		daemon_log("reload refused, keeping the previous configuration: %s", err);
		snapshot_unref(snap);
		return;
	}
	if (audit_reopen(t->audit, err, sizeof err) < 0)
		daemon_log("cannot reopen the audit log, still writing the old one: %s",
			   err);
	server_set_snapshot(t->srv, snap);
	t->jwks_sig = sig;	/* on failure, a changed file still reloads alone */
	log_snapshot("reloaded", snap);
	snapshot_unref(snap);
}

/* The trust bundle file changed: load it alone into a new snapshot. */
static void reload_jwks(Tokend *t)
{
	char err[TOKEND_ERR_MAX];
	Snapshot *cur, *snap;
	Jwks *jwks;

	t->jwks_sig = file_sig(t->cfg.jwks_path);
	jwks = jwks_load(t->cfg.jwks_path, err, sizeof err);
	if (!jwks) {
		daemon_log("trust bundle changed but does not load, keeping the "
			   "previous keys: %s", err);
		return;
	}
	cur = server_snapshot(t->srv);
	snap = snapshot_new(cur->pol, cur->sec, jwks);
	snapshot_unref(cur);
	jwks_unref(jwks);
	if (!snap) {
		daemon_log("trust bundle changed: out of memory, keeping the previous keys");
		return;
	}
	server_set_snapshot(t->srv, snap);
	daemon_log("trust bundle reloaded: %d keys", snap->jwks->n_keys);
	snapshot_unref(snap);
}

/* Watch the trust bundle's directory (writers replace the file by rename);
 * -1 if inotify is unavailable, then polling alone notices changes. */
static int watch_jwks(const char *path)
{
	char *copy = strdup(path);
	int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);

	if (fd >= 0 && (!copy || inotify_add_watch(fd, dirname(copy),
						   IN_CLOSE_WRITE | IN_MOVED_TO |
						   IN_CREATE | IN_ATTRIB) < 0)) {
		close(fd);
		fd = -1;
	}
	free(copy);
	return fd;
}

/* Drain inotify events (which name no longer matters: the stat decides). */
static void drain(int fd)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));

	while (read(fd, buf, sizeof buf) > 0)
		;
}

/* Serve until asked to stop; returns the exit status. */
static int serve(Tokend *t)
{
	for (;;) {
		struct pollfd pf[2] = { { t->sig_fd, POLLIN, 0 }, { t->ino_fd, POLLIN, 0 } };
		struct signalfd_siginfo si;
		FileSig now;
		int n = poll(pf, t->ino_fd >= 0 ? 2 : 1, POLL_MS);

		if (n < 0 && errno != EINTR) {
			daemon_log("poll: %s", strerror(errno));
			return DAEMON_EXIT_SOCKET;
		}
		if (n > 0 && (pf[0].revents & POLLIN) &&
		    read(t->sig_fd, &si, sizeof si) == sizeof si) {
			if (si.ssi_signo == SIGHUP) {
				daemon_log("SIGHUP: reloading");
				reload_all(t);
			} else {
				daemon_log("signal %u: stopping", si.ssi_signo);
				return DAEMON_EXIT_OK;
			}
		}
		if (n > 0 && t->ino_fd >= 0 && (pf[1].revents & POLLIN))
			drain(t->ino_fd);
		now = file_sig(t->cfg.jwks_path);
		if (!file_sig_eq(&now, &t->jwks_sig))
			reload_jwks(t);
	}
}

/* -n: would the audit log open? Checked without creating it. */
static int check_audit(const char *path, char *err, size_t errlen)
{
	char *copy;
	int fd, ok;

	if (!path)
		return 0;
	fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC | O_NOFOLLOW);
	if (fd >= 0) {
		close(fd);
		return 0;
	}
	if (errno != ENOENT) {
		snprintf(err, errlen, "audit log %s: %s", path, strerror(errno));
		return -1;
	}
	copy = strdup(path);
	ok = copy && access(dirname(copy), W_OK | X_OK) == 0;
	free(copy);
	if (!ok)
		snprintf(err, errlen, "audit log %s: cannot be created", path);
	return ok ? 0 : -1;
}

/* -n after a good load: the audit log and the socket's place; says what
 * would be served and returns the exit status. */
static int check_only(const TokendConfig *cfg, const Snapshot *snap)
{
	const char *sock = cfg->socket_override ? cfg->socket_override
						: snap->pol->socket_path;
	char err[TOKEND_ERR_MAX];

	if (check_audit(cfg->audit_path, err, sizeof err) < 0) {
		daemon_log("%s", err);
		return DAEMON_EXIT_CONFIG;
	}
	if (server_check_path(sock, err, sizeof err) < 0) {
		daemon_log("%s", err);
		return DAEMON_EXIT_SOCKET;
	}
	log_snapshot("configuration ok", snap);
	daemon_log("token socket %s, owner %s:%s, mode %04o", sock,
		   snap->pol->owner, snap->pol->group, snap->pol->mode);
	return DAEMON_EXIT_OK;
}

/* Steps 2-6; the signals are blocked before any thread exists. */
static int start(Tokend *t, Snapshot *snap)
{
	char err[TOKEND_ERR_MAX];
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0 ||
	    (t->sig_fd = signalfd(-1, &set, SFD_CLOEXEC)) < 0) {
		daemon_log("signals: %s", strerror(errno));
		return DAEMON_EXIT_SOCKET;
	}
	signal(SIGPIPE, SIG_IGN);
	t->audit = audit_open(t->cfg.audit_path, (long long)t->cfg.audit_max_mb << 20,
			      err, sizeof err);
	if (!t->audit) {
		daemon_log("%s", err);
		return DAEMON_EXIT_CONFIG;
	}
	t->srv = server_start(&t->cfg, snap, t->audit, err, sizeof err);
	if (!t->srv) {
		daemon_log("%s", err);
		return DAEMON_EXIT_SOCKET;
	}
	t->jwks_sig = file_sig(t->cfg.jwks_path);
	t->ino_fd = watch_jwks(t->cfg.jwks_path);
	log_snapshot("serving", snap);
	return DAEMON_EXIT_OK;
}

int tokend_main(int argc, char **argv)
{
	Tokend t = { .sig_fd = -1, .ino_fd = -1 };
	char err[TOKEND_ERR_MAX];
	Snapshot *snap;
	int rc;

	daemon_log_init("fp-tokend");
	rc = config_parse_args(&t.cfg, argc, argv);
	if (rc)
		return rc < 0 ? DAEMON_EXIT_OK : rc;
	/* Nothing fp-tokend does needs root, and as root its work on the
	 * socket path (in a directory the containers' user owns) is a way to
	 * root: it runs as the socket's owner, as the NixOS unit starts it. */
	if (!t.cfg.check_only && geteuid() == 0) {
		daemon_log("refusing to serve as root: start fp-tokend as the token "
			   "socket's owner (the policy's container user)");
		return DAEMON_EXIT_CONFIG;
	}
	json_object_seed(0);
	snap = config_load(&t.cfg, err, sizeof err);
	if (!snap) {
		daemon_log("%s", err);
		return DAEMON_EXIT_CONFIG;
	}
	if (t.cfg.check_only) {
		rc = check_only(&t.cfg, snap);
		snapshot_unref(snap);
		return rc;
	}
	rc = start(&t, snap);
	snapshot_unref(snap);
	if (rc == DAEMON_EXIT_OK)
		rc = serve(&t);
	server_stop(t.srv);
	audit_close(t.audit);
	if (t.ino_fd >= 0)
		close(t.ino_fd);
	if (t.sig_fd >= 0)
		close(t.sig_fd);
	if (rc == DAEMON_EXIT_OK)
		daemon_log("stopped");
	return rc;
}
