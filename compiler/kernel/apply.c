/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * apply.c: `fpc apply DIR|POLICY [--netns NAME] [--confirm-timeout S]` and
 * `fpc apply --confirm [--netns NAME]`.
 *
 * The policy is checked, lowered and proved, then its tables go to the
 * kernel as one netlink batch per apply: for each table "add, delete, add
 * with contents", so the old table is replaced in the same transaction
 * and no other table is touched. With --confirm-timeout the previous
 * table is read back first (verbatim, through libnftnl); the new one is
 * applied; unless a confirmation arrives within S seconds (an answer at
 * the prompt when stdin is a terminal, or `fpc apply --confirm` on the
 * socket /run/fpc/confirm-NETNS.sock) the previous table is put back in
 * one batch. SIGHUP is ignored while waiting (a lost ssh session must
 * still roll back); SIGINT and SIGTERM roll back at once. While an apply
 * waits, other applies in its namespace are refused.
 */
#include "kernel.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define FPC_RUN_DIR "/run/fpc"

/* The policy file DIR|POLICY names: POLICY itself, or the one *.fp in DIR.
 * Heap string, NULL with a message printed. */
static char *policy_path(const char *arg)
{
	struct stat st;
	DIR *d;
	struct dirent *e;
	char *found = NULL;
	int n = 0;

	if (stat(arg, &st) < 0) {
		fprintf(stderr, "fpc: error: cannot read %s: %s\n", arg, strerror(errno));
		return NULL;
	}
	if (!S_ISDIR(st.st_mode))
		return xstrdup(arg);
	d = opendir(arg);
	if (!d) {
		fprintf(stderr, "fpc: error: cannot read %s: %s\n", arg, strerror(errno));
		return NULL;
	}
	while ((e = readdir(d))) {
		size_t l = strlen(e->d_name);

		if (l > 3 && !strcmp(e->d_name + l - 3, ".fp")) {
			n++;
			free(found);
			found = xmalloc(strlen(arg) + l + 2);
			sprintf(found, "%s/%s", arg, e->d_name);
		}
	}
	closedir(d);
	if (n != 1) {
		fprintf(stderr, "fpc: error: %s holds %d policy files (*.fp); name one\n",
			arg, n);
		free(found);
		return NULL;
	}
	return found;
}

/* The confirmation socket of a namespace ("host" for the current one). */
static void confirm_path(const char *netns, struct sockaddr_un *sa)
{
	memset(sa, 0, sizeof *sa);
	sa->sun_family = AF_UNIX;
	snprintf(sa->sun_path, sizeof sa->sun_path, FPC_RUN_DIR "/confirm-%s.sock",
		 netns ? netns : "host");
}

/* `fpc apply --confirm`: tell the waiting apply to keep its table. */
static int confirm(const char *netns)
{
	struct sockaddr_un sa;
	char reply[256] = { 0 };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ssize_t n;

	confirm_path(netns, &sa);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
		fprintf(stderr, "fpc: error: no apply is waiting for confirmation (%s: %s)\n",
			sa.sun_path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return 1;
	}
	if (write(fd, "confirm\n", 8) != 8) {
		fprintf(stderr, "fpc: error: %s: %s\n", sa.sun_path, strerror(errno));
		close(fd);
		return 1;
	}
	n = read(fd, reply, sizeof reply - 1);
	close(fd);
	if (n > 0 && !strncmp(reply, "kept", 4)) {
		printf("confirmed: the new ruleset stays\n");
		return 0;
	}
	fprintf(stderr, "fpc: error: the waiting apply did not keep its table (%s)\n",
		n > 0 ? reply : "no answer");
	return 1;
}

/* Whether an apply waits for confirmation on sa (someone listens there). */
static bool apply_waiting(const struct sockaddr_un *sa)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool up = fd >= 0 && connect(fd, (const struct sockaddr *)sa, sizeof *sa) == 0;

	if (fd >= 0)
		close(fd);
	return up;
}

/* Refuse (1, with a message) when an apply waits for confirmation in the
 * namespace: whatever we load, its timeout would undo. 0 otherwise. */
static int refuse_if_waiting(const char *netns)
{
	struct sockaddr_un sa;

	confirm_path(netns, &sa);
	if (!apply_waiting(&sa))
		return 0;
	fprintf(stderr, "fpc: error: another apply is waiting for confirmation (%s): "
		"confirm it with `fpc apply --confirm%s%s` or let it time out first\n",
		sa.sun_path, netns ? " --netns " : "", netns ? netns : "");
	return 1;
}

/* Listen on the namespace's confirmation socket (a stale one, nobody
 * listening, is replaced; a live one refuses, checked under a lock on the
 * run directory so two applies cannot both take it); -1 with a message. */
static int confirm_listen(const char *netns)
{
	struct sockaddr_un sa;
	int fd = -1, dfd;

	confirm_path(netns, &sa);
	if (mkdir(FPC_RUN_DIR, 0700) < 0 && errno != EEXIST) {
		fprintf(stderr, "fpc: error: cannot create " FPC_RUN_DIR ": %s\n",
			strerror(errno));
		return -1;
	}
	dfd = open(FPC_RUN_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || flock(dfd, LOCK_EX) < 0) {
		fprintf(stderr, "fpc: error: " FPC_RUN_DIR ": %s\n", strerror(errno));
		if (dfd >= 0)
			close(dfd);
		return -1;
	}
	if (refuse_if_waiting(netns))
		goto out;
	unlink(sa.sun_path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 ||
	    chmod(sa.sun_path, 0600) < 0 || listen(fd, 4) < 0) {
		fprintf(stderr, "fpc: error: %s: %s\n", sa.sun_path, strerror(errno));
		if (fd >= 0)
			close(fd);
		fd = -1;
	}
out:
	close(dfd);	/* releases the lock */
	return fd;
}

/* The signal that interrupted a wait for confirmation, or 0. */
static volatile sig_atomic_t got_signal;
static void on_signal(int sig)
{
	got_signal = sig;
}

/* Monotonic milliseconds, for the confirmation deadline. */
static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* How a wait for confirmation ended. */
typedef enum { WAIT_TIMEOUT, WAIT_CONFIRMED, WAIT_REFUSED, WAIT_SIGNAL } WaitEnd;

/* Wait for a confirmation until timeout_s passes. */
static WaitEnd wait_confirm(int lfd, int timeout_s, const char *netns)
{
	long deadline = now_ms() + timeout_s * 1000L;
	bool tty = isatty(STDIN_FILENO);
	struct sigaction sa = { 0 };

	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGHUP, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	if (tty) {
		printf("Keep the new ruleset? Type 'yes' within %d s (or run "
		       "`fpc apply --confirm%s%s`); anything else restores the "
		       "previous one: ", timeout_s, netns ? " --netns " : "",
		       netns ? netns : "");
	} else {
		printf("waiting %d s for `fpc apply --confirm%s%s`\n", timeout_s,
		       netns ? " --netns " : "", netns ? netns : "");
	}
	fflush(stdout);
	while (!got_signal) {
		struct pollfd pf[2] = { { lfd, POLLIN, 0 }, { STDIN_FILENO, POLLIN, 0 } };
		long left = deadline - now_ms();
		int n;

		if (left <= 0)
			return WAIT_TIMEOUT;
		n = poll(pf, tty ? 2 : 1, (int)left);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return WAIT_TIMEOUT;
		if (pf[0].revents & POLLIN) {
			int c = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
			struct timeval tv = { 1, 0 };	/* a silent client cannot stall us */
			char buf[64] = { 0 };
			ssize_t r;

			if (c < 0)
				continue;
			setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
			r = read(c, buf, sizeof buf - 1);
			if (r > 0 && !strncmp(buf, "confirm", 7)) {
				if (write(c, "kept\n", 5) != 5) {
					/* the confirming side learns from the table */
				}
				close(c);
				return WAIT_CONFIRMED;
			}
			close(c);
		}
		if (tty && (pf[1].revents & (POLLIN | POLLHUP))) {
			char line[64];

			if (!fgets(line, sizeof line, stdin)) {
				tty = false;	/* terminal gone: wait for --confirm */
				continue;
			}
			return !strcmp(line, "yes\n") || !strcmp(line, "y\n") ?
				WAIT_CONFIRMED : WAIT_REFUSED;
		}
	}
	return WAIT_SIGNAL;
}

/* Commit b, printing the kernel's refusals (those naming a policy line
 * through d, which quotes it); 0 or 1. */
static int commit(NlSock *s, NlBatch *b, Diag *d)
{
	Buf err = { 0 };
	int rc;

	nl_batch_set_diag(b, d);
	rc = nl_commit(s, b, &err);
	if (rc < 0) {
		diag_flush(d, stderr);
		if (err.data)
			fputs(err.data, stderr);
		fprintf(stderr, "fpc: nothing was changed: the previous ruleset is in force\n");
	}
	buf_free(&err);
	return rc < 0 ? 1 : 0;
}

/* The proven ruleset of the policy at path (in p's arena), or NULL; d
 * keeps the policy's text to quote when the kernel refuses a rule. */
static Ruleset *build(const char *path, Diag *d, Policy **pp)
{
	Buf report = { 0 };
	Policy *p = policy_load(path, d);
	Ruleset *rs = NULL;

	if (p) {
		rs = lower(p);
		if (prove_policy(p, rs, d, &report) > 0) {
			fprintf(stderr, "fpc: error: %s does not prove; nothing applied\n", path);
			rs = NULL;
		}
		diag_flush(d, stderr);
	}
	buf_free(&report);
	*pp = p;
	return rs;
}

/* Rules in all chains of t. */
static int count_rules(const RsTable *t)
{
	int n = 0;

	for (int c = 0; c < t->n_chains; c++)
		n += t->chains[c].n_rules;
	return n;
}

/* Put the previous tables back (or remove ours when there were none). */
static int restore(NlSock *s, const Ruleset *rs, NlSnap **snaps, Diag *d)
{
	NlBatch *b = nl_batch_new();
	int rc;

	for (int i = 0; i < rs->n_tables; i++) {
		nl_batch_drop_table(b, rs->tables[i].family, rs->tables[i].name);
		if (snaps[i])
			nl_batch_add_snap(b, snaps[i]);
	}
	rc = commit(s, b, d);
	nl_batch_free(b);
	for (int i = 0; rc == 0 && i < rs->n_tables; i++)
		printf("%s table %s %s\n", snaps[i] ? "restored the previous" :
		       "removed the new (there was none before):",
		       rs_family_name(rs->tables[i].family), rs->tables[i].name);
	return rc;
}

/* `fpc apply ARG`: build, replace our tables in one batch, and with
 * timeout_s > 0 keep them only if confirmed in time. Exit status. */
static int apply(const char *arg, const char *netns, int timeout_s)
{
	char *path = policy_path(arg);
	Policy *p = NULL;
	Diag *d = diag_new();
	Ruleset *rs = path ? build(path, d, &p) : NULL;
	NlSnap **snaps = NULL;
	NlSock *s = NULL;
	NlBatch *b = NULL;
	Buf err = { 0 };
	int rc = 1, lfd = -1;

	if (!rs)
		goto out;
	if (rs->n_tables == 0) {
		fprintf(stderr, "fpc: error: %s compiles to no table\n", path);
		goto out;
	}
	b = nl_batch_new();
	for (int i = 0; i < rs->n_tables; i++) {
		nl_batch_drop_table(b, rs->tables[i].family, rs->tables[i].name);
		if (nl_batch_add_table(b, &rs->tables[i], &err) < 0) {
			fprintf(stderr, "fpc: error: %s\n", err.data);
			goto out;
		}
	}
	if (refuse_if_waiting(netns))
		goto out;
	if (nl_enter_netns(netns, &err) < 0 || !(s = nl_open(&err))) {
		fprintf(stderr, "fpc: error: %s\n", err.data);
		goto out;
	}
	if (timeout_s > 0) {
		lfd = confirm_listen(netns);
		if (lfd < 0)
			goto out;
		snaps = xcalloc((size_t)rs->n_tables, sizeof *snaps);
		for (int i = 0; i < rs->n_tables; i++)
			if (nl_snap_table(s, rs->tables[i].family, rs->tables[i].name,
					  &snaps[i], &err) < 0) {
				fprintf(stderr, "fpc: error: %s\n", err.data);
				goto out;
			}
	}
	rc = commit(s, b, d);
	if (rc)
		goto out;
	for (int i = 0; i < rs->n_tables; i++)
		printf("applied table %s %s: %d rules in %d chains, %d sets (%d messages, one batch)\n",
		       rs_family_name(rs->tables[i].family), rs->tables[i].name,
		       count_rules(&rs->tables[i]), rs->tables[i].n_chains,
		       rs->tables[i].n_sets, nl_batch_len(b));
	if (timeout_s > 0) {
		static const char *const why[] = {
			[WAIT_TIMEOUT] = "not confirmed in time",
			[WAIT_REFUSED] = "not confirmed at the prompt",
			[WAIT_SIGNAL] = "interrupted",
		};
		WaitEnd end = wait_confirm(lfd, timeout_s, netns);

		if (end == WAIT_CONFIRMED) {
			printf("confirmed: keeping the new ruleset\n");
		} else {
			printf("%s: restoring the previous ruleset\n", why[end]);
			restore(s, rs, snaps, d);
			rc = 1;	/* not confirmed: the new table is not in force */
		}
	}
out:
	if (lfd >= 0) {
		struct sockaddr_un sa;

		confirm_path(netns, &sa);
		unlink(sa.sun_path);
		close(lfd);
	}
	for (int i = 0; snaps && i < rs->n_tables; i++)
		nl_snap_free(snaps[i]);
	free(snaps);
	nl_batch_free(b);
	nl_close(s);
	buf_free(&err);
	diag_free(d);
	policy_free(p);
	free(path);
	return rc;
}

int cmd_apply(int argc, char **argv)
{
	const char *arg = NULL, *netns = NULL, *timeout = NULL, *why = NULL;
	bool do_confirm = false;
	int timeout_s = 0, n;
	const DiagOpt opts[] = {
		{ "--netns", &netns, NULL }, { "--confirm-timeout", &timeout, NULL },
		{ "--confirm", NULL, &do_confirm }, { NULL, NULL, NULL },
	};

	if ((n = diag_args(argc, argv, opts, &arg, 0, 1, "DIR|POLICY")) < 0)
		return 2;
	if (timeout && (timeout_s = (int)parse_num(timeout, 1, 86400, &why), why))
		return diag_usage("--confirm-timeout '%s' %s (1 to 86400 seconds)", timeout, why);
	if (netns && (strchr(netns, '/') || !*netns || strlen(netns) > 64))
		return diag_usage("--netns '%s': not a namespace name (no '/', at most 64 characters)",
				  netns);
	if (do_confirm && (arg || timeout))
		return diag_usage("--confirm takes no %s", arg ? "policy" : "--confirm-timeout");
	if (do_confirm)
		return confirm(netns);
	if (!n)
		return diag_usage("missing DIR|POLICY");
	return apply(arg, netns, timeout_s);
}
