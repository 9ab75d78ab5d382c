/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * apid_slowclient: a client that sends an HTTP request one byte a second,
 * to show that fp-apid closes it.
 *
 *   apid_slowclient SRC DST PORT headers|body MAXSECONDS
 *
 * connects from address SRC to DST:PORT. headers: trickles the request
 * line and headers; body: sends complete headers of a POST /jobs (with
 * the bearer token in $APID_TOKEN) announcing a body, then trickles the
 * body. Prints
 * "closed after N s" when the server closes the connection, or
 * "open after N s" when MAXSECONDS pass first (exit 1).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Whether the peer closed fd (EOF, reset, or a reply followed by close). */
static int peer_closed(int fd, int wait_ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	char buf[4096];

	if (poll(&p, 1, wait_ms) <= 0)
		return 0;
	for (;;) {
		ssize_t n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK))
			return 1;
		if (n < 0)
			return 0;
	}
}

int main(int argc, char **argv)
{
	static const char head[] = "GET /health HTTP/1.1\r\nHost: x\r\nUser-Agent: slow\r\n"
		"X-Padding: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n";
	struct sockaddr_in sa = { .sin_family = AF_INET }, src = { .sin_family = AF_INET };
	char bodyhead[512];
	const char *trickle;
	double t0, max;
	int fd;

	if (argc != 6 || inet_pton(AF_INET, argv[1], &src.sin_addr) != 1 ||
	    inet_pton(AF_INET, argv[2], &sa.sin_addr) != 1 ||
	    (strcmp(argv[4], "headers") && strcmp(argv[4], "body"))) {
		fprintf(stderr, "usage: apid_slowclient SRC DST PORT headers|body MAXSECONDS\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	sa.sin_port = htons((unsigned short)atoi(argv[3]));
	max = atof(argv[5]);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&src, sizeof src) < 0 ||
	    connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
		perror("connect");
		return 2;
	}
	snprintf(bodyhead, sizeof bodyhead, "POST /jobs HTTP/1.1\r\nHost: x\r\n"
		 "Authorization: Bearer %s\r\nContent-Type: application/json\r\n"
		 "Content-Length: 400\r\n\r\n", getenv("APID_TOKEN") ? getenv("APID_TOKEN") : "");
	t0 = now();
	if (!strcmp(argv[4], "body")) {
		if (write(fd, bodyhead, strlen(bodyhead)) < 0)
			return 2;
		trickle = "{\"type\":\"worker\",\"command\":\"" /* never finished */;
	} else {
		trickle = head;
	}
	for (size_t i = 0; now() - t0 < max; i++) {
		char c = trickle[i % strlen(trickle)];
		if (send(fd, &c, 1, MSG_NOSIGNAL) < 0 || peer_closed(fd, 1000)) {
			printf("closed after %.0f s\n", now() - t0);
			return 0;
		}
	}
	printf("open after %.0f s\n", now() - t0);
	return 1;
}
