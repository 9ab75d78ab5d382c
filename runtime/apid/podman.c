/* SPDX-License-Identifier: GPL-2.0-or-later */
/* podman.c: starting engine processes (never through a shell) and the
 * few facts about processes the executor needs. */
#include "apid.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* see apid.h */
pid_t podman_spawn(char *const argv[], char *const env[], int out_fd, int err_fd)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t none, deflt;
	pid_t pid;
	int rc;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	if (out_fd >= 0)
		posix_spawn_file_actions_adddup2(&fa, out_fd, 1);
	else
		posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	if (err_fd >= 0)
		posix_spawn_file_actions_adddup2(&fa, err_fd, 2);
	else
		posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	posix_spawnattr_init(&at);
	sigemptyset(&none);
	sigemptyset(&deflt);
	sigaddset(&deflt, SIGPIPE);
	sigaddset(&deflt, SIGTERM);
	sigaddset(&deflt, SIGINT);
	sigaddset(&deflt, SIGHUP);
	sigaddset(&deflt, SIGCHLD);
	posix_spawnattr_setsigmask(&at, &none);
	posix_spawnattr_setsigdefault(&at, &deflt);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF |
				 POSIX_SPAWN_SETSID);
	rc = posix_spawnp(&pid, argv[0], &fa, &at, argv, env);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	if (rc) {
		errno = rc;
		return -1;
	}
	return pid;
}

/* see apid.h */
int podman_run_capture(char *const argv[], char *const env[], char **out,
		       size_t cap, double timeout_s)
{
	int p[2], status = 0;
	size_t len = 0;
	pid_t pid;
	double end = mono_now() + timeout_s;
	bool killed = false;

	*out = calloc(1, cap + 1);
	if (!*out)
		abort();
	if (pipe2(p, O_CLOEXEC) < 0)
		return -1;
	pid = podman_spawn(argv, env, p[1], -1);
	close(p[1]);
	if (pid < 0) {
		close(p[0]);
		return -1;
	}
	for (;;) {
		struct pollfd pfd = { .fd = p[0], .events = POLLIN };
		double left = end - mono_now();
		char sink[4096];
		ssize_t n;

		if (left <= 0 && !killed) {
			kill(pid, SIGKILL);
			killed = true;
		}
		if (poll(&pfd, 1, left > 0 ? (int)(left * 1000) + 1 : 1000) <= 0)
			continue;
		n = len < cap ? read(p[0], *out + len, cap - len) : read(p[0], sink, sizeof sink);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (len < cap)
			len += (size_t)n;
	}
	close(p[0]);
	(*out)[len] = '\0';
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (killed || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

/* see apid.h */
long long proc_start_time(pid_t pid)
{
	char path[64], buf[1024];
	const char *p;
	long long v = -1;
	FILE *f;

	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	if (!fgets(buf, sizeof buf, f)) {
		fclose(f);
		return -1;
	}
	fclose(f);
	/* comm may hold spaces and parentheses: count from the last ')' */
	p = strrchr(buf, ')');
	if (!p)
		return -1;
	p++;
	for (int field = 2; field < 22 && p; field++)
		p = strchr(p + 1, ' ');
	if (p)
		sscanf(p + 1, "%lld", &v);
	return v;
}

/* see apid.h */
unsigned long oom_kill_count(void)
{
	char line[128];
	unsigned long v = 0;
	FILE *f = fopen("/proc/vmstat", "re");

	if (!f)
		return 0;
	while (fgets(line, sizeof line, f))
		if (sscanf(line, "oom_kill %lu", &v) == 1)
			break;
	fclose(f);
	return v;
}
