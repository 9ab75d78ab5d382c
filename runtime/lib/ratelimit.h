/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ratelimit.h: token buckets per peer, shared by fp-apid (keyed by peer
 * address) and fp-tokend (keyed by SO_PEERCRED uid). The limiter owns its
 * buckets; the caller owns the limiter and frees it with ratelimit_free.
 */
#ifndef FP_RATELIMIT_H
#define FP_RATELIMIT_H

#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

typedef struct RateLimit RateLimit;

/* A peer's key: 16 bytes (an IPv6 address, IPv4 v4-mapped, or a uid). */
typedef struct RateKey {
	uint8_t b[16];
} RateKey;

/* The key of a peer address (AF_INET or AF_INET6; others share one key). */
RateKey ratekey_addr(const struct sockaddr *sa);
/* The key of a peer uid. */
RateKey ratekey_uid(uid_t uid);

/* rate tokens per second, burst capacity; rate 0 disables limiting.
 * NULL when out of memory. */
RateLimit *ratelimit_new(double rate, double burst);
void ratelimit_free(RateLimit *rl);
/* Take one token for key at monotonic time now (seconds): 0 if allowed,
 * else the whole seconds (>= 1) to wait. Thread-safe. When every bucket
 * is busy, a new peer waits until an idle one (refilled) can be dropped:
 * many peers cannot push a busy one out. */
int ratelimit_take(RateLimit *rl, RateKey key, double now);
/* Monotonic seconds: the clock of ratelimit_take's now (and of the
 * daemons' timeouts). */
double mono_now(void);

#endif
