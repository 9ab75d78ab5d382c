/* SPDX-License-Identifier: GPL-2.0-or-later */
/* ratelimit.c: one token bucket per peer address, in a small fixed table
 * (the least recently seen peer is evicted when it is full). */
#include "apid.h"

#include <math.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

enum { RL_SLOTS = 1024 };

typedef struct Bucket {
	uint8_t key[16];
	bool used;
	double tokens;
	double last;
} Bucket;

struct RateLimiter {
	pthread_mutex_t lock;
	double rate, burst;
	Bucket slots[RL_SLOTS];
};

/* see apid.h */
RateLimiter *ratelimit_new(double rate, double burst)
{
	RateLimiter *rl = calloc(1, sizeof *rl);

	if (!rl)
		abort();
	pthread_mutex_init(&rl->lock, NULL);
	rl->rate = rate;
	rl->burst = burst;
	return rl;
}

/* see apid.h */
void ratelimit_free(RateLimiter *rl)
{
	if (!rl)
		return;
	pthread_mutex_destroy(&rl->lock);
	free(rl);
}

/* The 16-byte key of a peer: its IPv6 address, or IPv4 as v4-mapped. */
static void peer_key(const struct sockaddr *sa, uint8_t key[16])
{
	memset(key, 0, 16);
	if (sa && sa->sa_family == AF_INET6) {
		memcpy(key, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
	} else if (sa && sa->sa_family == AF_INET) {
		key[10] = key[11] = 0xff;
		memcpy(key + 12, &((const struct sockaddr_in *)sa)->sin_addr, 4);
	}
}

/* The bucket of key: found, a free slot, or the stalest one reset. */
static Bucket *bucket_for(RateLimiter *rl, const uint8_t key[16], double now)
{
	uint32_t h = 2166136261u;
	Bucket *victim = NULL;

	for (int i = 0; i < 16; i++)
		h = (h ^ key[i]) * 16777619u;
	for (int probe = 0; probe < 8; probe++) {
		Bucket *b = &rl->slots[(h + (uint32_t)probe) % RL_SLOTS];
		if (b->used && !memcmp(b->key, key, 16))
			return b;
		if (!b->used || !victim || b->last < victim->last)
			victim = b;
		if (!b->used)
			break;
	}
	memcpy(victim->key, key, 16);
	victim->used = true;
	victim->tokens = rl->burst;
	victim->last = now;
	return victim;
}

/* see apid.h */
int ratelimit_take(RateLimiter *rl, const struct sockaddr *sa, double now)
{
	uint8_t key[16];
	Bucket *b;
	int wait = 0;

	if (rl->rate <= 0)
		return 0;
	peer_key(sa, key);
	pthread_mutex_lock(&rl->lock);
	b = bucket_for(rl, key, now);
	b->tokens += (now - b->last) * rl->rate;
	if (b->tokens > rl->burst)
		b->tokens = rl->burst;
	b->last = now;
	if (b->tokens >= 1.0)
		b->tokens -= 1.0;
	else
		wait = (int)ceil((1.0 - b->tokens) / rl->rate);
	pthread_mutex_unlock(&rl->lock);
	return wait;
}
