/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ratelimit.c: token buckets per peer in a fixed open-addressed table. */
#include "ratelimit.h"

#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { RL_SLOTS = 1024, RL_PROBES = 16 };

typedef struct Bucket {
	RateKey key;
	bool used;
	double tokens;
	double last;	/* monotonic seconds of the last refill */
} Bucket;

struct RateLimit {
	pthread_mutex_t lock;
	double rate, burst;
	Bucket slots[RL_SLOTS];
};

/* see ratelimit.h */
RateKey ratekey_addr(const struct sockaddr *sa)
{
	RateKey k = { { 0 } };

	if (sa && sa->sa_family == AF_INET6) {
		memcpy(k.b, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
	} else if (sa && sa->sa_family == AF_INET) {
		k.b[10] = k.b[11] = 0xff;
		memcpy(k.b + 12, &((const struct sockaddr_in *)sa)->sin_addr, 4);
	}
	return k;
}

/* see ratelimit.h (a uid key cannot equal an address key: byte 0 is 'u') */
RateKey ratekey_uid(uid_t uid)
{
	RateKey k = { { 'u' } };
	uint64_t u = (uint64_t)uid;

	memcpy(k.b + 8, &u, sizeof u);
	return k;
}

/* see ratelimit.h */
RateLimit *ratelimit_new(double rate, double burst)
{
	RateLimit *rl = calloc(1, sizeof *rl);

	if (!rl)
		return NULL;
	pthread_mutex_init(&rl->lock, NULL);
	rl->rate = rate;
	rl->burst = burst;
	return rl;
}

/* see ratelimit.h */
void ratelimit_free(RateLimit *rl)
{
	if (!rl)
		return;
	pthread_mutex_destroy(&rl->lock);
	free(rl);
}

/* Refill bucket b up to now. */
static void refill(const RateLimit *rl, Bucket *b, double now)
{
	if (now > b->last) {
		b->tokens += (now - b->last) * rl->rate;
		if (b->tokens > rl->burst)
			b->tokens = rl->burst;
		b->last = now;
	}
}

/* The bucket of key: found, a free slot, or an idle (full) one reused;
 * NULL when every probed bucket is busy. */
static Bucket *bucket_for(RateLimit *rl, const RateKey *key, double now)
{
	uint32_t h = 2166136261u;
	Bucket *spare = NULL;

	for (int i = 0; i < 16; i++)
		h = (h ^ key->b[i]) * 16777619u;
	for (int probe = 0; probe < RL_PROBES; probe++) {
		Bucket *b = &rl->slots[(h + (uint32_t)probe) % RL_SLOTS];

		if (b->used && !memcmp(&b->key, key, sizeof *key))
			return b;
		if (!b->used) {
			spare = spare ? spare : b;
			break;
		}
		refill(rl, b, now);
		if (!spare && b->tokens >= rl->burst)
			spare = b;
	}
	if (spare)
		*spare = (Bucket){ .key = *key, .used = true, .tokens = rl->burst, .last = now };
	return spare;
}

/* s (> 0) rounded up to whole seconds. */
static int seconds_up(double s)
{
	int w = (int)s;

	return w < s ? w + 1 : w;
}

/* see ratelimit.h */
int ratelimit_take(RateLimit *rl, RateKey key, double now)
{
	Bucket *b;
	int wait = 0;

	if (rl->rate <= 0)
		return 0;
	pthread_mutex_lock(&rl->lock);
	b = bucket_for(rl, &key, now);
	if (!b) {
		wait = 1;
	} else {
		refill(rl, b, now);
		if (b->tokens >= 1)
			b->tokens -= 1;
		else	/* whole seconds until one token is back (rounded up, > 0) */
			wait = seconds_up((1 - b->tokens) / rl->rate);
	}
	pthread_mutex_unlock(&rl->lock);
	return wait;
}

/* see ratelimit.h */
double mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}
