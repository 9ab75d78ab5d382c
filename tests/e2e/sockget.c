/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * sockget.c: the one client a job of the e2e suite needs that busybox has
 * not: an HTTP GET over a unix socket (the token service's), as a job
 * would send it. Built static by tests/e2e/run.sh and uploaded with the
 * job's files, so it runs in the busybox test image.
 *
 *   sockget SOCKET PATH [BEARER]
 *
 * Prints "STATUS BODY" on one line (the body's newlines as spaces, none
 * trailing) and
 * exits 0, or prints "error: WHY" and exits 1 when there is no answer.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/* Connect to the unix socket PATH; -1 with errno on failure. */
static int unix_connect(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof sa.sun_path) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
		int e = errno;

		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

/* Write all LEN bytes of BUF to FD; 0, or -1 on failure. */
static int write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Read FD to its end into BUF (at most CAP-1 bytes, NUL-terminated);
 * returns the length, or -1 on a read error. */
static ssize_t read_all(int fd, char *buf, size_t cap)
{
	size_t len = 0;

	while (len + 1 < cap) {
		ssize_t n = read(fd, buf + len, cap - 1 - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	return (ssize_t)len;
}

int main(int argc, char **argv)
{
	static char req[16384], resp[65536];
	const char *body;
	char *p;
	int fd, n, status;

	if (argc < 3 || argc > 4) {
		fprintf(stderr, "usage: sockget SOCKET PATH [BEARER]\n");
		return 2;
	}
	n = snprintf(req, sizeof req, "GET %s HTTP/1.0\r\nHost: localhost\r\n%s%s%s\r\n",
		     argv[2], argc == 4 ? "Authorization: Bearer " : "",
		     argc == 4 ? argv[3] : "", argc == 4 ? "\r\n" : "");
	if (n < 0 || (size_t)n >= sizeof req) {
		printf("error: request too long\n");
		return 1;
	}
	fd = unix_connect(argv[1]);
	if (fd < 0) {
		printf("error: connect %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	if (write_all(fd, req, (size_t)n) < 0 || read_all(fd, resp, sizeof resp) < 0) {
		printf("error: %s\n", strerror(errno));
		close(fd);
		return 1;
	}
	close(fd);
	if (sscanf(resp, "HTTP/%*d.%*d %d", &status) != 1) {
		printf("error: not an HTTP answer\n");
		return 1;
	}
	body = strstr(resp, "\r\n\r\n");
	body = body ? body + 4 : "";
	for (p = (char *)body; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	while (p > body && p[-1] == ' ')
		*--p = '\0';
	printf("%d %s\n", status, body);
	return 0;
}
