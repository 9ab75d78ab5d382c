/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * sema_int.h: what the two halves of sema share, private to front/.
 *
 *   sema.c          the checker's state, values, sources, services, the
 *                   trust table, invariants, and the entry point
 *   sema_runtime.c  what the daemons get: mounts, privileges, the trust
 *                   domain and identities, the container profile
 */
#ifndef FPC_SEMA_INT_H
#define FPC_SEMA_INT_H

#include "front.h"
#include "ast.h"
#include "bundle.h"	/* the daemons' rules for images and podman words */

/* A name map: open addressing, keys are arena strings. */
typedef struct NameMap {
	const char **keys;
	void **vals;
	size_t cap;	/* a power of two, at least twice the entries */
} NameMap;

/* The checker's state. */
typedef VEC(AstStmt *) StmtVec;

typedef struct Sema {
	Arena *a;
	Diag *d;
	const char *file;
	Policy *p;
	AstStmt *policy, *trust, *trust_domain, *container;
	AstStmt *wireguard, *rsyncd, *spire_parent;
	StmtVec sources, services, invariants, identities, privileges, mounts;
	Source *src_decl;	/* sources in declaration order */
	Service *svc_decl;
	NameMap src_map, svc_map, priv_map, mount_map;
	const char **src_names, **svc_names, **priv_names, **mount_names;
	bool table_ok;		/* the trust table was complete and valid */
	/* rows (trust-table order) with a via taking every packet on lo,
	 * and rows with a `via user` (row_user[r]: its first one) */
	int *lo_rows, n_lo_rows, *user_rows, n_user_rows;
	const Via **row_user;
} Sema;

#define err(S, loc, ...) diag_error((S)->d, (loc), __VA_ARGS__)

enum {
	NAME_MAX_LEN = 63,	/* names become nft set names and bundle keys */
	IFNAME_MAX_LEN = 15,	/* IFNAMSIZ less the NUL, a pattern's '*' included */
	PATH_MAX_LEN = 1024,
	TEXT_MAX_LEN = 4096,
};

/* A map for up to n entries. */
void sema_map_init(Arena *a, NameMap *m, int n);

/* The value of k, or NULL. */
void *sema_map_get(const NameMap *m, const char *k);

/* Insert k -> v unless k is there; return the value already there or NULL. */
void *sema_map_put(NameMap *m, const char *k, void *v);

/* From the start of a to the end of b (a block's keyword to its name). */
Loc sema_loc_span(Loc a, Loc b);

/* The location of bytes off..off+n-1 of a quoted string token's value,
 * or of the whole token when escapes make the columns uncertain. */
Loc sema_str_loc(const AstTok *t, size_t off, size_t n);

/* Report an unknown name of kind what, with a did-you-mean among names
 * (only while diagnostics are still shown: the search is not free). */
void sema_unknown(Sema *S, Loc loc, const char *what, const char *name,
		    const char **names, int n);

/* A declared name: at most NAME_MAX_LEN characters (the scanner has
 * already restricted the characters). */
void sema_check_name(Sema *S, const AstTok *t, const char *what);

/* Report a second declaration of name, pointing at the first. */
void sema_duplicate(Sema *S, Loc loc, const char *what, const char *name,
		      Loc first);

/* A decimal number in min..max; reports "WHAT N is out of range". */
bool sema_num_in(Sema *S, const AstTok *t, long min, long max,
		   const char *what, long *out);

/* A user name as the kernel's passwd lookups take it (reported if not). */
void sema_check_user(Sema *S, const AstTok *t, const char *what);

/* Placeholders: every brace must belong to {job_id}, {upload_id} or
 * {privilege}. */
bool sema_check_placeholders(Sema *S, const AstTok *t);

/* An absolute path of at most PATH_MAX_LEN bytes: no empty, '.' or '..'
 * segment, no ':' or ',' (podman's volume separators), and placeholders
 * only in a template (a mount's host path). */
bool sema_check_path(Sema *S, const AstTok *t, const char *what, bool templ);

/* SPIFFE ID syntax: spiffe://DOMAIN/SEG/SEG, no port, userinfo, query or
 * fragment, and DOMAIN must be the trust domain. */
bool sema_check_spiffe(Sema *S, const AstTok *t, const char *domain);

/* sema_runtime.c: resolve the mount blocks into p->mounts. */
void sema_mounts(Sema *S);

/* resolve the privilege blocks (after the mounts). */
void sema_privileges(Sema *S);

/* resolve the trust domain and the identity blocks. */
void sema_identities(Sema *S);

/* resolve the container profile. */
void sema_container(Sema *S);

/* sema_layers.c: the WireGuard interfaces, with the proof that each
 * trusted address is one peer's key (after the trust table). */
void sema_wireguard(Sema *S);

/* the rsyncd block and its allowlist (after the table and the container). */
void sema_rsyncd(Sema *S);

/* SPIRE: the parent ID, and every identity's selectors against the
 * workload attestors' documented forms (after the identities). */
void sema_spire(Sema *S);

/* sema.c, for sema_layers.c: ADDR[/LEN] into p (host bits zero; host_only:
 * no prefix), reported if not; whether two prefixes overlap. */
bool sema_prefix(Sema *S, const AstTok *t, Prefix *p, bool host_only);
bool sema_prefix_overlap(const Prefix *a, const Prefix *b);

#endif
