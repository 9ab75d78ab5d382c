/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ratelimit.c: a token bucket per peer uid (from SO_PEERCRED, which the
 * kernel fills in: a peer cannot choose it). A host has few uids, so the
 * buckets are a small array; when it is full, buckets that have refilled
 * completely (idle peers) are dropped, and if none has, the new peer is
 * refused until one does.
 */
#include "tokend.h"

#include <pthread.h>
#include <stdlib.h>

enum { RL_MAX_PEERS = 1024 };

typedef struct Bucket {
	uid_t uid;
	double tokens;
	double last;	/* monotonic seconds of the last refill */
} Bucket;

struct RateLimit {
	pthread_mutex_t lock;
	double rate, burst;
	Bucket *b;
	int n;
};

RateLimit *ratelimit_new(double rate, double burst)
{
	RateLimit *rl = calloc(1, sizeof *rl);

	if (!rl)
		return NULL;
	rl->b = calloc(RL_MAX_PEERS, sizeof *rl->b);
	if (!rl->b) {
		free(rl);
		return NULL;
	}
	pthread_mutex_init(&rl->lock, NULL);
	rl->rate = rate;
	rl->burst = burst;
	return rl;
}

void ratelimit_free(RateLimit *rl)
{
	if (!rl)
		return;
	pthread_mutex_destroy(&rl->lock);
	free(rl->b);
	free(rl);
}

/* Refill bucket b up to now. */
static void rl_refill(const RateLimit *rl, Bucket *b, double now)
{
	if (now > b->last) {
		b->tokens += (now - b->last) * rl->rate;
		if (b->tokens > rl->burst)
			b->tokens = rl->burst;
		b->last = now;
	}
}

/* Drop every bucket that is full again at now. */
static void rl_sweep(RateLimit *rl, double now)
{
	int j = 0;

	for (int i = 0; i < rl->n; i++) {
		rl_refill(rl, &rl->b[i], now);
		if (rl->b[i].tokens < rl->burst)
			rl->b[j++] = rl->b[i];
	}
	rl->n = j;
}

/* The bucket of uid, created full; NULL if there is no room. */
static Bucket *rl_bucket(RateLimit *rl, uid_t uid, double now)
{
	for (int i = 0; i < rl->n; i++)
		if (rl->b[i].uid == uid)
			return &rl->b[i];
	if (rl->n == RL_MAX_PEERS)
		rl_sweep(rl, now);
	if (rl->n == RL_MAX_PEERS)
		return NULL;
	rl->b[rl->n] = (Bucket){ .uid = uid, .tokens = rl->burst, .last = now };
	return &rl->b[rl->n++];
}

int ratelimit_take(RateLimit *rl, uid_t uid, double now)
{
	Bucket *b;
	int wait = 0;

	if (rl->rate <= 0)
		return 0;
	pthread_mutex_lock(&rl->lock);
	b = rl_bucket(rl, uid, now);
	if (!b) {
		wait = 1;
	} else {
		rl_refill(rl, b, now);
		if (b->tokens >= 1)
			b->tokens -= 1;
		else	/* whole seconds until one token is back, at least 1 */
			wait = 1 + (int)((1 - b->tokens) / rl->rate);
	}
	pthread_mutex_unlock(&rl->lock);
	return wait;
}
