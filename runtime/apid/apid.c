/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * apid.c: fp-apid's start-up order (OpenBSD daemons' order): read and
 * validate the bundle and the token; resolve the container user; open the
 * listening socket; drop to that user; open the store; reconcile; serve.
 * Any failure before serving exits 1 with one line on stderr (fail
 * closed). SIGTERM/SIGINT stop it; running containers are left running
 * and adopted by the next start. SIGHUP re-reads the bearer token file
 * (rotation): requests from then on need the new token, jobs and
 * connections are untouched, and a file that does not load leaves the old
 * token in force.
 */
#include "apid.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* see apid.h */
int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Directories the daemon writes must exist and be ours after the drop. */
static int check_dir(const char *what, const char *path, char *err, size_t errlen)
{
	struct stat st;

	if (stat(path, &st) < 0 || !S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "%s %s: not a directory", what, path);
		return -1;
	}
	if (access(path, W_OK | X_OK) < 0) {
		snprintf(err, errlen, "%s %s: not writable by uid %ld", what, path,
			 (long)geteuid());
		return -1;
	}
	return 0;
}

/* The directory part of path (static buffer). */
static const char *dir_of(const char *path)
{
	static char buf[4096];
	char *slash;

	snprintf(buf, sizeof buf, "%s", path);
	slash = strrchr(buf, '/');
	if (!slash)
		return ".";
	if (slash == buf)
		return "/";
	*slash = '\0';
	return buf;
}

/* Print what -n checked. */
static void print_summary(const ApidConfig *cfg, const FpBundle *b, const RunAs *ra)
{
	int n;
	const FpPrivilege *p = bundle_privileges(b, &n);

	printf("fp-apid: configuration OK\n");
	printf("policy %s (sha256 %s)\n", bundle_policy_name(b), bundle_policy_sha256(b));
	printf("service %s, container user %s (uid %ld)\n", cfg->service, ra->name,
	       (long)ra->uid);
	for (int i = 0; i < n; i++)
		printf("job type %s: %s, cpus %ld..%ld, memory %ld..%ld GB, timeout %ld..%ld min\n",
		       p[i].name, job_kind_for(&p[i]) == FP_JOB_AGENT ? "agent" : "command",
		       p[i].cpus.min, p[i].cpus.max, p[i].memory_gb.min, p[i].memory_gb.max,
		       p[i].timeout_min.min, p[i].timeout_min.max);
}

/* Block the signals the main thread waits for (threads inherit it). */
static void block_signals(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, set, NULL);
	signal(SIGPIPE, SIG_IGN);
}

/* see apid.h */
int apid_run(const ApidConfig *cfg)
{
	char err[BUNDLE_ERR_MAX + 256], token[AUTH_TOKEN_LEN + 1];
	AuthToken *tok = NULL;
	FpBundle *b = NULL;
	RunAs ra = { 0 };
	Store *store = NULL;
	Executor *ex = NULL;
	Server *srv = NULL;
	RateLimit *rl = NULL;
	sigset_t set;
	int fd = -1, rc = DAEMON_EXIT_CONFIG, sig = 0;

	b = bundle_load_file(cfg->bundle_path, err, sizeof err);
	if (!b)
		goto fail;
	if (auth_load_token(cfg->token_path, token, err, sizeof err) < 0 ||
	    runas_resolve(b, &ra, err, sizeof err) < 0)
		goto fail;
	if (cfg->check_only) {
		print_summary(cfg, b, &ra);
		rc = DAEMON_EXIT_OK;
		goto out;
	}
	block_signals(&set);
	fd = api_server_listen(cfg, b, err, sizeof err);
	if (fd < 0) {
		rc = DAEMON_EXIT_SOCKET;
		goto fail;
	}
	if (runas_drop(&ra, err, sizeof err) < 0)
		goto fail;
	if (chdir("/") < 0 || check_dir("log directory", cfg->log_dir, err, sizeof err) < 0 ||
	    check_dir("database directory", dir_of(cfg->db_path), err, sizeof err) < 0)
		goto fail;
	store = store_open(cfg->db_path, err, sizeof err);
	if (!store)
		goto fail;
	ExecEnv xe = { .bundle = b, .cfg = cfg, .store = store, .child_env = ra.env };
	ex = executor_start(&xe, err, sizeof err);
	if (!ex)
		goto fail;
	rl = ratelimit_new((double)cfg->rate, (double)cfg->burst);
	tok = auth_token_new(token);
	if (!rl || !tok) {
		snprintf(err, sizeof err, "out of memory");
		goto fail;
	}
	ServerEnv se = { .cfg = cfg, .bundle = b, .token = tok, .store = store,
			 .executor = ex, .rl = rl };
	srv = api_server_start(&se, fd, err, sizeof err);
	if (!srv)
		goto fail;
	daemon_log("serving policy %s as uid %ld (pid %ld)", bundle_policy_name(b),
		 (long)geteuid(), (long)getpid());
	while (sig != SIGTERM && sig != SIGINT) {
		if (sigwait(&set, &sig))
			break;
		if (sig == SIGHUP && auth_token_reload(tok, cfg->token_path, err,
						       sizeof err) < 0)
			daemon_log("SIGHUP: keeping the old token: %s", err);
		else if (sig == SIGHUP)
			daemon_log("SIGHUP: token re-read from %s (a new bundle needs a "
				   "restart)", cfg->token_path);
	}
	daemon_log("stopping on signal %d; running containers stay up", sig);
	rc = DAEMON_EXIT_OK;
	goto out;
fail:
	daemon_log("%s", err);
out:
	api_server_stop(srv);
	executor_stop(ex);
	ratelimit_free(rl);
	store_close(store);
	if (fd >= 0)
		close(fd);
	auth_token_free(tok);
	runas_free(&ra);
	bundle_free(b);
	explicit_bzero(token, sizeof token);
	return rc;
}
