/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * udp_echo ADDR PORT [ADDR PORT]...: bind a UDP socket to each address and
 * port and send every datagram back to its sender, from the address it was
 * sent to, until killed. tests/equiv uses it to tell an accepted UDP probe
 * (it gets its datagram back) from a dropped one.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

enum { MAX_SOCKS = 64 };

/* A UDP socket bound to addr:port (IPv4 or IPv6), or -1 with a message. */
static int bind_udp(const char *addr, const char *port)
{
	struct sockaddr_storage ss = { 0 };
	struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
	char *end;
	long p = strtol(port, &end, 10);
	int fd, one = 1;
	socklen_t len;

	if (*end || p < 1 || p > 65535) {
		fprintf(stderr, "udp_echo: bad port '%s'\n", port);
		return -1;
	}
	if (inet_pton(AF_INET, addr, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)p);
		len = sizeof *s4;
	} else if (inet_pton(AF_INET6, addr, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)p);
		len = sizeof *s6;
	} else {
		fprintf(stderr, "udp_echo: bad address '%s'\n", addr);
		return -1;
	}
	fd = socket(ss.ss_family, SOCK_DGRAM, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
	    bind(fd, (struct sockaddr *)&ss, len) < 0) {
		fprintf(stderr, "udp_echo: %s port %s: ", addr, port);
		perror(NULL);
		return -1;
	}
	return fd;
}

/* Answer one datagram waiting on fd. */
static void echo_one(int fd)
{
	char buf[2048];
	struct sockaddr_storage from;
	socklen_t flen = sizeof from;
	ssize_t n = recvfrom(fd, buf, sizeof buf, 0, (struct sockaddr *)&from, &flen);

	if (n >= 0)
		sendto(fd, buf, (size_t)n, 0, (struct sockaddr *)&from, flen);
}

int main(int argc, char **argv)
{
	struct pollfd pfd[MAX_SOCKS];
	int n = 0;

	if (argc < 3 || argc % 2 == 0 || (argc - 1) / 2 > MAX_SOCKS) {
		fprintf(stderr, "usage: udp_echo ADDR PORT [ADDR PORT]...\n");
		return 2;
	}
	for (int i = 1; i + 1 < argc; i += 2, n++) {
		pfd[n].fd = bind_udp(argv[i], argv[i + 1]);
		pfd[n].events = POLLIN;
		if (pfd[n].fd < 0)
			return 1;
	}
	for (;;) {
		if (poll(pfd, (nfds_t)n, -1) < 0)
			continue;
		for (int i = 0; i < n; i++)
			if (pfd[i].revents & POLLIN)
				echo_one(pfd[i].fd);
	}
}
