/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * tokend_load.c: a load client for fp-tokend over its unix socket.
 *
 *   tokend_load -S SOCKET [-p PATH] [-t TOKENFILE] [-c CLIENTS] [-d SECONDS]
 *               [-w WARMUP_SECONDS] [-1]
 *
 * CLIENTS threads each keep one HTTP/1.1 connection (with -1: a new
 * connection per request, as a container fetching its tokens once does)
 * and send GET PATH (default /tokens) with "Authorization: Bearer TOKEN"
 * when -t is given, as fast as answers come, for SECONDS after a warm-up.
 * Prints one line:
 *
 *   path clients requests seconds req/s p50_us p99_us errors
 *
 * where errors counts answers other than 200 and broken connections.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "base.h"

typedef struct Client {
	pthread_t th;
	double *lat;		/* microseconds, one per request measured */
	size_t n, cap;
	long errors;
} Client;

static const char *sock_path, *path = "/tokens";
static char *request;
static size_t request_len;
static double t_start, t_measure, t_end;
static bool new_conn;

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A connected socket, or -1. */
static int dial(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(sa.sun_path, sizeof sa.sun_path, "%s", sock_path);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
		close(fd);
		fd = -1;
	}
	return fd;
}

/* Send the request and read one whole answer; its status, or -1. */
static int exchange(int fd)
{
	char buf[16384];
	size_t have = 0, need = 0;
	const char *p = request;
	size_t left = request_len;
	char *hdr_end;
	long status, clen;

	while (left > 0) {
		ssize_t w = send(fd, p, left, MSG_NOSIGNAL);

		if (w <= 0)
			return -1;
		p += w;
		left -= (size_t)w;
	}
	for (;;) {
		ssize_t r = recv(fd, buf + have, sizeof buf - 1 - have, 0);

		if (r <= 0)
			return -1;
		have += (size_t)r;
		buf[have] = '\0';
		hdr_end = strstr(buf, "\r\n\r\n");
		if (!hdr_end) {
			if (have == sizeof buf - 1)
				return -1;
			continue;
		}
		if (!need) {
			char *cl = strcasestr(buf, "\r\nContent-Length:");

			clen = cl && cl < hdr_end ? strtol(cl + 17, NULL, 10) : 0;
			need = (size_t)(hdr_end + 4 - buf) + (size_t)clen;
			if (need >= sizeof buf)
				return -1;
		}
		if (have >= need)
			break;
	}
	if (sscanf(buf, "HTTP/1.1 %ld", &status) != 1)
		return -1;
	return (int)status;
}

static void *client_run(void *arg)
{
	Client *c = arg;
	int fd = -1;

	while (now_s() < t_end) {
		double t0, t1;
		int st;

		if (fd < 0 && (fd = dial()) < 0) {
			c->errors++;
			usleep(1000);
			continue;
		}
		t0 = now_s();
		st = exchange(fd);
		t1 = now_s();
		if (st < 0 || new_conn) {
			close(fd);
			fd = -1;
		}
		if (t0 < t_measure)
			continue;
		if (st != 200)
			c->errors++;
		if (c->n == c->cap) {
			c->cap = c->cap ? 2 * c->cap : 4096;
			c->lat = realloc(c->lat, c->cap * sizeof *c->lat);
			if (!c->lat)
				BUG("out of memory");
		}
		c->lat[c->n++] = (t1 - t0) * 1e6;
	}
	if (fd >= 0)
		close(fd);
	return NULL;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* The token in file (trailing white space dropped), or exit. */
static char *read_token(const char *file)
{
	size_t len;
	char *t = read_file(file, &len);

	if (!t) {
		fprintf(stderr, "tokend_load: cannot read %s\n", file);
		exit(2);
	}
	while (len && (t[len - 1] == '\n' || t[len - 1] == '\r' || t[len - 1] == ' '))
		t[--len] = '\0';
	return t;
}

int main(int argc, char **argv)
{
	int clients = 1, opt;
	double secs = 3, warm = 0.5;
	char *token = NULL;
	Client *cs;
	Buf req = { 0 };
	size_t total = 0;
	long errors = 0;
	double *all;

	while ((opt = getopt(argc, argv, "S:p:t:c:d:w:1")) != -1) {
		switch (opt) {
		case 'S': sock_path = optarg; break;
		case 'p': path = optarg; break;
		case 't': token = read_token(optarg); break;
		case 'c': clients = atoi(optarg); break;
		case 'd': secs = atof(optarg); break;
		case 'w': warm = atof(optarg); break;
		case '1': new_conn = true; break;
		default:
			fprintf(stderr, "usage: tokend_load -S SOCKET [-p PATH] [-t TOKENFILE] "
				"[-c CLIENTS] [-d SECONDS] [-w WARMUP] [-1]\n");
			return 2;
		}
	}
	if (!sock_path || clients < 1 || clients > 1024 || secs <= 0 || warm < 0) {
		fprintf(stderr, "tokend_load: need -S SOCKET, 1-1024 clients, -d > 0\n");
		return 2;
	}
	buf_printf(&req, "GET %s HTTP/1.1\r\nHost: localhost\r\n", path);
	if (token)
		buf_printf(&req, "Authorization: Bearer %s\r\n", token);
	buf_puts(&req, "\r\n");
	request = req.data;
	request_len = req.len;
	cs = xcalloc((size_t)clients, sizeof *cs);
	t_start = now_s();
	t_measure = t_start + warm;
	t_end = t_measure + secs;
	for (int i = 0; i < clients; i++)
		if (pthread_create(&cs[i].th, NULL, client_run, &cs[i]))
			BUG("pthread_create");
	for (int i = 0; i < clients; i++) {
		pthread_join(cs[i].th, NULL);
		total += cs[i].n;
		errors += cs[i].errors;
	}
	all = xcalloc(total ? total : 1, sizeof *all);
	for (int i = 0, k = 0; i < clients; i++) {
		memcpy(all + k, cs[i].lat, cs[i].n * sizeof *all);
		k += (int)cs[i].n;
		free(cs[i].lat);
	}
	qsort(all, total, sizeof *all, cmp_double);
	printf("%s %d %zu %.2f %.0f %.0f %.0f %ld\n", path, clients, total, secs,
	       (double)total / secs, total ? all[total / 2] : 0.0,
	       total ? all[(size_t)((double)total * 0.99)] : 0.0, errors);
	free(all);
	free(cs);
	buf_free(&req);
	free(token);
	return errors ? 1 : 0;
}
