/* SPDX-License-Identifier: GPL-2.0-or-later */
/* conntrack.c: open connections by peer key, and a reaper thread that
 * shuts down those that sit on one request past the deadline. */
#include "daemon.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

struct TrackedConn {
	TrackedConn *prev, *next;
	int fd;
	RateKey key;
	double since;		/* start, or end of its last request */
	bool closing;
};

struct ConnTrack {
	pthread_mutex_t lock;	/* guards conns, stopping */
	pthread_cond_t cond;
	pthread_t reaper;
	bool stopping;
	double deadline;
	int per_key;
	TrackedConn *conns;
};

/* Shut down connections past the deadline, four times a second. The fd
 * is still libmicrohttpd's: it closes it only after conntrack_remove,
 * which needs the lock held here, so the fd cannot be reused under us. */
static void *reaper_main(void *arg)
{
	ConnTrack *t = arg;

	pthread_mutex_lock(&t->lock);
	while (!t->stopping) {
		struct timespec ts;
		double now = mono_now();

		for (TrackedConn *c = t->conns; c; c = c->next)
			if (!c->closing && c->fd >= 0 && now - c->since > t->deadline) {
				shutdown(c->fd, SHUT_RDWR);
				c->closing = true;
			}
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 250 * 1000 * 1000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		pthread_cond_timedwait(&t->cond, &t->lock, &ts);
	}
	pthread_mutex_unlock(&t->lock);
	return NULL;
}

/* see daemon.h */
ConnTrack *conntrack_new(double deadline_s, int per_key)
{
	ConnTrack *t = calloc(1, sizeof *t);

	if (!t)
		return NULL;
	pthread_mutex_init(&t->lock, NULL);
	pthread_cond_init(&t->cond, NULL);
	t->deadline = deadline_s;
	t->per_key = per_key;
	if (pthread_create(&t->reaper, NULL, reaper_main, t)) {
		pthread_cond_destroy(&t->cond);
		pthread_mutex_destroy(&t->lock);
		free(t);
		return NULL;
	}
	return t;
}

/* see daemon.h */
void conntrack_free(ConnTrack *t)
{
	if (!t)
		return;
	pthread_mutex_lock(&t->lock);
	t->stopping = true;
	pthread_cond_signal(&t->cond);
	pthread_mutex_unlock(&t->lock);
	pthread_join(t->reaper, NULL);
	while (t->conns) {
		TrackedConn *c = t->conns;
		t->conns = c->next;
		free(c);
	}
	pthread_cond_destroy(&t->cond);
	pthread_mutex_destroy(&t->lock);
	free(t);
}

/* see daemon.h */
TrackedConn *conntrack_add(ConnTrack *t, int fd, RateKey key)
{
	TrackedConn *c;
	int same = 0;

	pthread_mutex_lock(&t->lock);
	for (c = t->conns; c; c = c->next)
		same += !c->closing && !memcmp(&c->key, &key, sizeof key);
	if (same >= t->per_key || !(c = calloc(1, sizeof *c))) {
		pthread_mutex_unlock(&t->lock);
		if (fd >= 0)
			shutdown(fd, SHUT_RDWR);
		return NULL;
	}
	c->fd = fd;
	c->key = key;
	c->since = mono_now();
	c->next = t->conns;
	if (t->conns)
		t->conns->prev = c;
	t->conns = c;
	pthread_mutex_unlock(&t->lock);
	return c;
}

/* see daemon.h */
void conntrack_done(ConnTrack *t, TrackedConn *c)
{
	if (!c)
		return;
	pthread_mutex_lock(&t->lock);
	c->since = mono_now();
	pthread_mutex_unlock(&t->lock);
}

/* see daemon.h */
void conntrack_remove(ConnTrack *t, TrackedConn *c)
{
	if (!c)
		return;
	pthread_mutex_lock(&t->lock);
	if (c->prev)
		c->prev->next = c->next;
	else
		t->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	pthread_mutex_unlock(&t->lock);
	free(c);
}
