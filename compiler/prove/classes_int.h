/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * classes_int.h: what the two halves of the class engine share, private to
 * prove/.
 *
 *   classes.c       the pool, keys, class sets, the space and its axes
 *   classes_eval.c  compiled rulesets, packets and boxes, evaluation
 */
#ifndef FPC_CLASSES_INT_H
#define FPC_CLASSES_INT_H

#include "classes.h"

#include <limits.h>

/* A stack allocator for evaluation temporaries. */
typedef struct Chunk {
	struct Chunk *next;
	size_t used, size;
	max_align_t data[];
} Chunk;

typedef struct Pool {
	Chunk *first, *cur;
} Pool;

typedef struct PoolMark {
	Chunk *c;
	size_t used;
} PoolMark;

/* Keys: 17 bytes, big-endian (classes.c's header comment). */
typedef struct Key {
	uint8_t b[17];
} Key;

/* Class sets: sorted, disjoint ranges of class numbers. */
typedef struct IRange {
	int lo, hi;
} IRange;

struct ISet {
	int n;
	IRange *r;
	int64_t *cum;	/* cum[i]: classes in r[0..i) */
};

/* The uid/gid of a packet without a socket. */
#define ID_ABSENT (1ULL << 32)

/* The space: one axis a packet field. */
typedef struct IfAtom {
	const char *name;
	bool wild;
} IfAtom;

typedef struct Axis {
	bool ifname;
	Key max;
	VEC(Key) atoms;		/* bounds collected before sealing */
	Key *bounds;		/* class i is [bounds[i], bounds[i+1]) */
	int n;			/* classes */
	VEC(IfAtom) ifatoms;
	IfAtom *ifs;		/* sorted; class 1 + i */
	int n_ifs;
	const char **repr;	/* ifname classes: representative names */
} Axis;

typedef struct NameId {
	const char *name;
	long id;
	bool group;
} NameId;

struct Space {
	Arena *arena;
	Pool pool;
	int in_eval;		/* > 0: sets go to the pool */
	bool sealed;
	Axis ax[D_N];
	VEC(NameId) names;	/* uids and gids by name */
	int placeholders;
	int fix_lo, fix_empty;	/* classes of "lo" and "" */
};

/* n bytes (uninitialised) from the pool's current chunk or the next one. */
void *pool_alloc(Pool *p, size_t n);

PoolMark pool_mark(Pool *p);

/* Forget everything allocated since m. */
void pool_release(Pool *p, PoolMark m);

int key_cmp(const Key *a, const Key *b);

Key key_int(uint64_t v);

uint64_t key_to_int(const Key *k);

Key key_addr(AddrFamily fam, const uint8_t *a);

void key_to_addr(const Key *k, AddrFamily *fam, uint8_t *a);

/* A set of any ranges: sorted and merged in place, then made. */
const ISet *iset_from(Space *sp, IRange *r, int n);

const ISet *iset_range(Space *sp, int lo, int hi);

int64_t iset_size(const ISet *s);

bool iset_has(const ISet *s, int x);

/* Number of classes in a and b. */
int64_t iset_meas_inter(const ISet *a, const ISet *b);

const ISet *iset_inter(Space *sp, const ISet *a, const ISet *b);

const ISet *iset_minus(Space *sp, const ISet *a, const ISet *b);

/* The class holding key k. */
int axis_class(const Axis *ax, const Key *k);

/* The classes an exact name or a pattern of the ifname axis matches. */
IRange if_range(const Axis *ax, const char *name, bool wild);

/* A name of class c that no other class claims. */
const char *if_repr(Space *sp, Axis *ax, int c);

/* A name for an id, or NULL. */
const char *id_name(Space *sp, long id, bool group);

Dim key_dim(RsKey k);

/* The key range of a non-name value v of field d. */
void value_keys(Space *sp, Dim d, const RsValue *v, Key *lo, Key *hi);

/* Classes of the key range lo..hi (both registered as atoms). */
IRange key_range(Space *sp, Dim d, Key lo, Key hi);

#endif
