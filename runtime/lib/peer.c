/* SPDX-License-Identifier: GPL-2.0-or-later */
/* peer.c: a unix-socket peer's uid, pid and container. */
#include "daemon.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef SO_PEERPIDFD
#define SO_PEERPIDFD 77
#endif

/* Whether the n bytes at s are lower-case hex digits. */
static bool all_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!isxdigit((unsigned char)s[i]) || isupper((unsigned char)s[i]))
			return false;
	return true;
}

/* see daemon.h */
bool peer_container_of(const char *cgroup, char *out)
{
	bool found = false;

	for (const char *p = cgroup; *p; p++) {
		const char *start, *end;
		size_t n;

		if (*p != '/')
			continue;
		start = p + 1;
		n = strcspn(start, "/\n");
		end = start + n;
		/* "<engine>-ID.scope" or "ID" as the whole component */
		if (n > 6 && !strncmp(end - 6, ".scope", 6))
			end -= 6;
		if (end - start >= 64 && all_hex(end - 64, 64) &&
		    (end - start == 64 || end[-65] == '-')) {
			memcpy(out, end - 64, 64);
			out[64] = '\0';
			found = true;
		}
	}
	return found;
}

/* A 64-bit FNV-1a of n bytes, seeded. */
static uint64_t fnv64(uint64_t h, const void *data, size_t n)
{
	const unsigned char *s = data;

	for (size_t i = 0; i < n; i++)
		h = (h ^ s[i]) * 1099511628211ull;
	return h;
}

/* see daemon.h */
RateKey peer_key(uid_t uid, const char *container, const char *cgroup_path)
{
	RateKey k = { { 0 } };
	uint64_t u = (uint64_t)uid, a, b;

	if (container && container[0]) {
		/* 120 of the id's 256 random bits */
		k.b[0] = 'c';
		for (int i = 0; i < 15; i++) {
			unsigned v;
			sscanf(container + 2 * i, "%2x", &v);
			k.b[1 + i] = (uint8_t)v;
		}
		return k;
	}
	if (!cgroup_path || !strcmp(cgroup_path, "/") || !cgroup_path[0])
		return ratekey_uid(uid);
	a = fnv64(fnv64(14695981039346656037ull, &u, sizeof u), cgroup_path,
		  strlen(cgroup_path));
	b = fnv64(fnv64(0x9e3779b97f4a7c15ull, cgroup_path, strlen(cgroup_path)),
		  &u, sizeof u);
	k.b[0] = 'g';
	memcpy(k.b + 1, &a, 8);
	memcpy(k.b + 9, &b, 7);
	return k;
}

/* Read /proc/PID/cgroup into buf (NUL-terminated); false if unreadable. */
static bool read_cgroup(pid_t pid, char *buf, size_t len)
{
	char path[64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof path, "/proc/%ld/cgroup", (long)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	return true;
}

/* The path of the cgroup v2 line ("0::PATH") of a cgroup file, in out. */
static void v2_path(const char *cgroup, char *out, size_t len)
{
	const char *p = cgroup;

	out[0] = '\0';
	while (p && *p) {
		if (!strncmp(p, "0::", 3)) {
			size_t n = strcspn(p + 3, "\n");
			snprintf(out, len, "%.*s", (int)(n < len ? n : len - 1), p + 3);
			return;
		}
		p = strchr(p, '\n');
		p = p ? p + 1 : NULL;
	}
}

/* see daemon.h */
void peer_cred_read(int fd, PeerCred *p)
{
	struct ucred cr;
	socklen_t len = sizeof cr;
	char cg[4096], path[1024];
	int pidfd = -1;
	bool have_cg;

	memset(p, 0, sizeof *p);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) < 0 || len != sizeof cr)
		return;
	p->known = true;
	p->pid = cr.pid;
	p->uid = cr.uid;
	p->gid = cr.gid;
	/* the pidfd pins the peer process: if it is still alive after its
	 * cgroup file was read, that file was its own, not a reused pid's */
	len = sizeof pidfd;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERPIDFD, &pidfd, &len) < 0)
		pidfd = -1;
	have_cg = cr.pid > 0 && read_cgroup(cr.pid, cg, sizeof cg);
	if (have_cg && pidfd >= 0 &&
	    syscall(SYS_pidfd_send_signal, pidfd, 0, NULL, 0) < 0 && errno == ESRCH)
		have_cg = false;
	if (pidfd >= 0)
		close(pidfd);
	if (!have_cg) {
		p->key = ratekey_uid(p->uid);
		return;
	}
	peer_container_of(cg, p->container);
	v2_path(cg, path, sizeof path);
	p->key = peer_key(p->uid, p->container, path);
}
