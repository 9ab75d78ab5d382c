/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * bundle_int.h: what the loader's files share and nobody else sees: the
 * FpBundle itself and the state of one load. bundle.c builds a bundle,
 * wire.c checks the encoding first, lookup.c answers the look-ups.
 *
 * Ownership: an FpBundle owns one Arena holding all of it (bundle_free()).
 */
#ifndef FP_BUNDLE_INT_H
#define FP_BUNDLE_INT_H

#include "bundle.h"

#include "base.h"

enum {
	MAX_BUNDLE = 16 << 20,	/* bytes a bundle file may have */
	MAX_DEPTH = 8,		/* message nesting the schema needs is 3 */
	MAX_ITEMS = 4096,	/* entries in any other list */
	MAX_SOURCES = 65536,	/* trust-table rows (sources, trust) */
	MAX_ADDRS = 65536,	/* addresses in one via */
	/* messages and strings in all lists together (trust cells aside),
	 * counted before decoding: each costs the decoder an allocation */
	MAX_ENTRIES = 1 << 20,
	MAX_NAME = 63,		/* a policy name's length */
	MAX_TEXT = 4096,	/* free text: invariants, selectors, options */
	MAX_PATH_LEN = 1024,	/* a path or template */
	MAX_SPIFFE = 2048,	/* SPIFFE ID length limit of the spec */
};

/* An address prefix parsed for peer checks. */
typedef struct Pfx {
	int fam;		/* AF_INET, AF_INET6 */
	uint8_t addr[16];
	int len;
} Pfx;

/* The prefixes of a source's address-bearing via clauses. */
typedef struct SrcAddrs {
	Pfx *v;
	int n;
} SrcAddrs;

struct FpBundle {
	Arena *arena;
	unsigned format_version;
	const char *fpc_version, *sha256, *policy_name;
	const char *table_family, *table_name, *trust_domain;
	FpSource *sources;
	SrcAddrs *src_addrs;	/* parallel to sources */
	int n_sources;
	FpService *services;
	int n_services;
	FpCell *cells;		/* n_sources * n_services, row-major */
	FpIdentity *identities;
	int n_identities;
	FpPrivilege *privileges;
	int n_privileges;
	FpMount *mounts;
	int n_mounts;
	FpInvariant *invariants;
	int n_invariants;
	FpSecret *secrets;	/* sorted by name */
	int n_secrets;
	bool has_container;	/* false: a firewall-only policy */
	FpContainer container;
};

/* The state of one load: where the result goes, where an error goes. */
typedef struct Ld {
	FpBundle *b;
	Arena *a;
	char *err;
	size_t errlen;
	bool failed;
	size_t entries;		/* list entries the wire pass has seen */
} Ld;

/* Record the first error of a load (later ones are dropped) in ld's
 * buffer; always returns false. */
bool bundle_fail(Ld *ld, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* wire.c: pass 1 over data[0..len): the bundle begins with the format
 * version this loader reads and is sound on the wire (every field known,
 * of its type, in bounds, at most once if not repeated, strings UTF-8
 * without NUL). False with the error recorded in ld. */
bool bundle_wire_check(Ld *ld, const uint8_t *data, size_t len);

/* lookup.c: whether address a (family fam: AF_INET, 4 bytes; AF_INET6,
 * 16 bytes) lies inside p. */
bool bundle_prefix_contains(const Pfx *p, int fam, const uint8_t *a);

#endif
