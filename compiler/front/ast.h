/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ast.h: the syntax tree of a policy file, internal to the parser, sema and
 * fmt. It records what was written, with a location on every node, and
 * nothing is checked yet (sema does that).
 *
 * Ownership: every node, string and array lives in the arena handed to
 * parse_policy(); strings are NUL-terminated copies (quoted strings without
 * quotes, escapes resolved).
 */
#ifndef FPC_AST_H
#define FPC_AST_H

#include "base.h"

/* A word as written: a name, number, address or (unquoted) string. */
typedef struct AstTok {
	const char *s;	/* NULL: absent */
	Loc loc;
} AstTok;

typedef struct AstList {
	AstTok *v;
	int n;
} AstList;

/* A trust-table cell: its text and column (the line is its row's). */
typedef struct AstCell {
	const char *s;
	int col;
} AstCell;

typedef enum {
	AST_POLICY,		/* name; body: AST_TABLE */
	AST_TABLE,		/* a = family, b = table name */
	AST_ROOTS,		/* name = "roots"; list = directories */
	AST_SOURCE,		/* name; body: AST_VIA */
	AST_VIA,		/* sub = ViaKind; list = interfaces, list2 =
				 * addresses; a = user */
	AST_SERVICE,		/* name; sub = ServiceKind; tcp/udp: a = port,
				 * b = last port, c = `on` address; unix: a =
				 * path, b = owner, c = group, d = mode; egress:
				 * list = destinations */
	AST_TRUST,		/* list = header; body: AST_ROW */
	AST_ROW,		/* name; cells */
	AST_INVARIANT,		/* name; a = text; body: AST_CLAUSE */
	AST_CLAUSE,		/* name = source; sub = 1 can / 0 cannot;
				 * list = services */
	AST_TRUST_DOMAIN,	/* a = domain */
	AST_IDENTITY,		/* name; a = SPIFFE ID; list = selectors;
				 * b = privilege */
	AST_PRIVILEGE,		/* name; body: AST_SECRETS, AST_GRANT, AST_RANGE */
	AST_SECRETS,		/* list = secret names */
	AST_GRANT,		/* name = mount; a = ro|rw */
	AST_RANGE,		/* sub = AstRangeKind; a = min, b = max,
				 * c = unit, d = default */
	AST_MOUNT,		/* name; sub = 0 path: a = host, b = target;
				 * sub = 1 service: a = service; c = ro|rw */
	AST_CONTAINER,		/* body: AST_C_* */
	AST_C_SOURCE,		/* name = source */
	AST_C_ENGINE,		/* name = engine; sub = rootless; a = user,
				 * b = uid */
	AST_C_USERNS,		/* a */
	AST_C_NETWORK,		/* a */
	AST_C_IMAGE,		/* a */
	AST_C_CAP_DROP,		/* list */
	AST_C_SECOPT,		/* list */
	AST_C_LABEL,		/* a = key, b = value */
	AST_WIREGUARD,		/* name = interface (a string); body: AST_WG_* */
	AST_WG_LISTEN,		/* name = udp service */
	AST_WG_PEER,		/* name = source; a = key; b = endpoint;
				 * c = keepalive; d = `allow`, list = its addresses */
	AST_RSYNCD,		/* body: AST_RS_* */
	AST_RS_SERVICE,		/* name = tcp service */
	AST_RS_MODULE,		/* name = module; a = mount */
	AST_RS_MAXCONN,		/* a = number */
	AST_SPIRE_PARENT,	/* a = SPIFFE ID */
} AstKind;

typedef enum { RANGE_CPUS, RANGE_MEMORY, RANGE_TIMEOUT } AstRangeKind;

typedef struct AstStmt AstStmt;

/* One statement or declaration; which fields are used depends on kind. */
struct AstStmt {
	AstKind kind;
	Loc loc;		/* the whole statement, keyword to ';' or '}' */
	int sub;
	AstTok name;
	AstTok a, b, c, d;
	AstList list, list2;
	AstCell *cells;		/* AST_ROW */
	int n_cells;
	AstStmt **body;		/* blocks */
	int n_body;
	Loc open, close;	/* blocks: the braces */
};

typedef struct AstComment {
	const char *text;	/* from '#', trailing blanks removed */
	Loc loc;
	bool trailing;		/* code precedes it on its line */
} AstComment;

struct Ast {
	const char *file;
	AstStmt **decls;	/* top level, in file order */
	int n_decls;
	AstComment *comments;	/* in file order */
	int n_comments;
};

#endif
