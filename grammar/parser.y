/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * parser.y: the grammar of policy files (docs/language.md), building the
 * AST of ast.h. Pure and reentrant: all state is in ParseState.
 *
 * Error handling: a syntax error names what was found and what was
 * expected (and guesses a missing ';' or a misspelt keyword); the parser
 * then recovers at the next ';' or '}' so one run reports several
 * mistakes. Lists under construction are heap-owned (TokList, StmtList,
 * freed by the %destructors when error recovery drops them) and moved into
 * the arena when their rule is reduced; everything else is in the arena.
 */
%code top {
/* SPDX-License-Identifier: GPL-2.0-or-later */
}

%code requires {
#include "front.h"
#include "ast.h"

/* A list the parser grows on the heap until a rule moves it into the AST. */
typedef struct TokList {
	AstTok *v;
	int n, cap;
} TokList;

typedef struct StmtList {
	AstStmt **v;
	int n, cap;
} StmtList;

/* Everything one parse needs; the scanner's extra data. */
typedef struct ParseState {
	Arena *a;
	Diag *d;
	const char *file;
	VEC(AstStmt *) decls;
	VEC(AstComment) comments;
	int line, col;		/* position of the next character */
	int tok_line;		/* line of the last token returned */
	Loc prev, last;		/* the last two tokens returned */
	const char *last_text;	/* the text of the last token */
	bool trust_pending;	/* `trust` seen, its '{' starts the table */
	int bad_line, bad_col;	/* end of the last run of bad characters */
} ParseState;

#ifndef FP_TYPEDEF_YYSCAN_T
#define FP_TYPEDEF_YYSCAN_T
typedef void *yyscan_t;
#endif

/* A location spans its first to its last symbol; an empty rule sits at the
 * end of the symbol before it. */
#define YYLLOC_DEFAULT(Cur, Rhs, N) do {                               \
	if (N) {                                                       \
		(Cur) = YYRHSLOC(Rhs, 1);                              \
		(Cur).last_line = YYRHSLOC(Rhs, N).last_line;          \
		(Cur).last_col = YYRHSLOC(Rhs, N).last_col;            \
	} else {                                                       \
		(Cur) = YYRHSLOC(Rhs, 0);                              \
		(Cur).first_line = (Cur).last_line;                    \
		(Cur).first_col = (Cur).last_col;                      \
	}                                                              \
} while (0)
}

%code provides {
int fplex(FPSTYPE *lval, Loc *lloc, yyscan_t scanner);
}

%code {
static void fperror(Loc *loc, yyscan_t scanner, ParseState *ps, const char *msg);
static AstStmt *stmt_new(ParseState *ps, AstKind kind, Loc loc);
static AstStmt *block(ParseState *ps, AstKind kind, Loc loc, AstTok name,
		      StmtList *body, Loc open, Loc close);
static StmtList *stmts_push(StmtList *l, AstStmt *s);
static void stmts_free(StmtList *l);
static TokList *toks_push(TokList *l, AstTok t);
static void toks_free(TokList *l);
static AstList toks_move(ParseState *ps, TokList *l);
static AstStmt *row_new(ParseState *ps, TokList *words, Loc loc);
static AstStmt *trust_new(ParseState *ps, Loc loc, StmtList *lines,
			  Loc open, Loc close);
static AstStmt *range_new(ParseState *ps, Loc loc, int kind, AstTok min,
			  AstTok max, AstTok unit, AstTok def);
static void decl_add(ParseState *ps, AstStmt *s);
#define NOTOK ((AstTok){ NULL, { 0 } })
}

%define api.pure full
%define api.prefix {fp}
%define api.location.type {Loc}
%define parse.error custom
%locations
%param {yyscan_t scanner}
%parse-param {ParseState *ps}
%expect 0

%union {
	AstTok tok;
	TokList *toks;
	StmtList *stmts;
	AstStmt *stmt;
	int num;
	AstTok *pair;	/* two, in the arena (keeps the value stack small) */
}

%token <tok> IDENT "name" NUMBER "number" ADDR "address" STRING "string"
%token <tok> WORD "word" NL "end of line" DOTDOT "'..'"
%token <tok> POLICY "policy" TABLE "table" SOURCE "source" VIA "via"
%token <tok> FROM "from" USER "user" ANY "any" SERVICE "service"
%token <tok> TCP "tcp" UDP "udp" UNIX "unix" EGRESS "egress" ON "on"
%token <tok> TO "to" OWNER "owner" MODE "mode" TRUST "trust"
%token <tok> INVARIANT "invariant" CAN "can" CANNOT "cannot" REACH "reach"
%token <tok> TRUST_DOMAIN "trust_domain" IDENTITY "identity"
%token <tok> SELECTOR "selector" PRIVILEGE "privilege" SECRETS "secrets"
%token <tok> MOUNT "mount" RO "ro" RW "rw" CPUS "cpus" MEMORY "memory"
%token <tok> TIMEOUT "timeout" DEFAULT "default" AT "at"
%token <tok> CONTAINER "container" ENGINE "engine" ROOTLESS "rootless"
%token <tok> UID "uid" USERNS "userns" NETWORK "network" IMAGE "image"
%token <tok> CAP_DROP "cap_drop" SECURITY_OPT "security_opt" LABEL "label"
%token <tok> WIREGUARD "wireguard" LISTEN "listen" PEER "peer" KEY "key"
%token <tok> ENDPOINT "endpoint" KEEPALIVE "keepalive" ALLOW "allow"
%token <tok> RSYNCD "rsyncd" MODULE "module" MAX_CONNECTIONS "max_connections"
%token <tok> SPIRE_PARENT "spire_parent"
%token <tok> '{' '}' ';' ',' ':' '=' '-'

%type <stmt> decl policy table_stmt roots_stmt source via service trust invariant clause
%type <stmt> trust_domain identity privilege priv_stmt mount container
%type <stmt> c_stmt engine_opts
%type <stmts> policy_body source_body inv_body priv_body c_body trust_lines
%type <toks> ifaces addrs names strings words
%type <tok> iface addr mode mode_opt unit_opt default_opt listen_opt
%type <tok> egress_l4
%type <num> range_kw
%type <stmt> wireguard wg_stmt peer_opts rsyncd rs_stmt spire_parent
%type <stmts> wg_body rs_body
%type <pair> ports

%destructor { toks_free($$); } <toks>
%destructor { stmts_free($$); } <stmts>

%%

file:
	  %empty
	| file decl			{ decl_add(ps, $2); }
	;

decl:
	  policy | source | service | trust | invariant | trust_domain
	| identity | privilege | mount | container
	| wireguard | rsyncd | spire_parent
	| error ';'			{ $$ = NULL; yyerrok; }
	| error '}'			{ $$ = NULL; yyerrok; }
	;

/* policy NAME { table inet NAME; } */
policy:
	  POLICY IDENT '{' policy_body '}'
		{ $$ = block(ps, AST_POLICY, @$, $2, $4, @3, @5); }
	| POLICY IDENT '{' policy_body error '}'
		{ $$ = block(ps, AST_POLICY, @$, $2, $4, @3, @6); yyerrok; }
	;

policy_body:
	  %empty			{ $$ = NULL; }
	| policy_body table_stmt	{ $$ = stmts_push($1, $2); }
	| policy_body roots_stmt	{ $$ = stmts_push($1, $2); }
	| policy_body error ';'		{ $$ = $1; yyerrok; }
	;

table_stmt:
	  TABLE IDENT IDENT ';'
		{ $$ = stmt_new(ps, AST_TABLE, @$); $$->a = $2; $$->b = $3; }
	;

/* mount roots "/var/lib/x", ...; (name checked by sema: "roots") */
roots_stmt:
	  MOUNT IDENT strings ';'
		{ $$ = stmt_new(ps, AST_ROOTS, @$); $$->name = $2;
		  $$->list = toks_move(ps, $3); }
	;

/* source NAME { via ...; } */
source:
	  SOURCE IDENT '{' source_body '}'
		{ $$ = block(ps, AST_SOURCE, @$, $2, $4, @3, @5); }
	| SOURCE IDENT '{' source_body error '}'
		{ $$ = block(ps, AST_SOURCE, @$, $2, $4, @3, @6); yyerrok; }
	;

source_body:
	  %empty			{ $$ = NULL; }
	| source_body via		{ $$ = stmts_push($1, $2); }
	| source_body error ';'		{ $$ = $1; yyerrok; }
	;

via:
	  VIA ifaces ';'
		{ $$ = stmt_new(ps, AST_VIA, @$); $$->sub = VIA_NET;
		  $$->list = toks_move(ps, $2); }
	| VIA ifaces FROM addrs ';'
		{ $$ = stmt_new(ps, AST_VIA, @$); $$->sub = VIA_NET;
		  $$->list = toks_move(ps, $2); $$->list2 = toks_move(ps, $4); }
	| VIA FROM addrs ';'
		{ $$ = stmt_new(ps, AST_VIA, @$); $$->sub = VIA_NET;
		  $$->list2 = toks_move(ps, $3); }
	| VIA USER IDENT ';'
		{ $$ = stmt_new(ps, AST_VIA, @$); $$->sub = VIA_USER; $$->a = $3; }
	| VIA USER STRING ';'
		{ diag_error(ps->d, @3, "a user name is written without quotes: %s", $3.s);
		  $$ = stmt_new(ps, AST_VIA, @$); $$->sub = VIA_USER; $$->a = $3; }
	| VIA ANY ';'
		{ $$ = stmt_new(ps, AST_VIA, @$); $$->sub = VIA_ANY; }
	;

ifaces:
	  iface				{ $$ = toks_push(NULL, $1); }
	| ifaces ',' iface		{ $$ = toks_push($1, $3); }
	;

iface:
	  STRING
	| IDENT
		{ diag_error(ps->d, @1, "interface patterns are quoted: write \"%s\"", $1.s);
		  $$ = $1; }
	;

addrs:
	  addr				{ $$ = toks_push(NULL, $1); }
	| addrs ',' addr		{ $$ = toks_push($1, $3); }
	;

addr:
	  ADDR
	| NUMBER
		{ diag_error(ps->d, @1, "'%s' is not an address (write 10.0.0.2, 10.0.0.0/24 or fd00::1)", $1.s);
		  $$ = $1; }
	;

/* service NAME tcp|udp PORT[-PORT] [on ADDR];
 * service NAME unix "PATH" owner USER:GROUP mode MODE;
 * service NAME egress [tcp|udp PORT[-PORT]] [to ADDRS]; */
service:
	  SERVICE IDENT TCP ports listen_opt ';'
		{ $$ = stmt_new(ps, AST_SERVICE, @$); $$->name = $2; $$->sub = SVC_TCP;
		  $$->a = $4[0]; $$->b = $4[1]; $$->c = $5; }
	| SERVICE IDENT UDP ports listen_opt ';'
		{ $$ = stmt_new(ps, AST_SERVICE, @$); $$->name = $2; $$->sub = SVC_UDP;
		  $$->a = $4[0]; $$->b = $4[1]; $$->c = $5; }
	| SERVICE IDENT UNIX STRING OWNER IDENT ':' IDENT MODE NUMBER ';'
		{ $$ = stmt_new(ps, AST_SERVICE, @$); $$->name = $2; $$->sub = SVC_UNIX;
		  $$->a = $4; $$->b = $6; $$->c = $8; $$->d = $10; }
	| SERVICE IDENT EGRESS ';'
		{ $$ = stmt_new(ps, AST_SERVICE, @$); $$->name = $2; $$->sub = SVC_EGRESS; }
	| SERVICE IDENT EGRESS TO addrs ';'
		{ $$ = stmt_new(ps, AST_SERVICE, @$); $$->name = $2; $$->sub = SVC_EGRESS;
		  $$->list = toks_move(ps, $5); }
	| SERVICE IDENT EGRESS egress_l4 ports ';'
		{ $$ = stmt_new(ps, AST_SERVICE, @$); $$->name = $2; $$->sub = SVC_EGRESS;
		  $$->a = $5[0]; $$->b = $5[1]; $$->c = $4; }
	| SERVICE IDENT EGRESS egress_l4 ports TO addrs ';'
		{ $$ = stmt_new(ps, AST_SERVICE, @$); $$->name = $2; $$->sub = SVC_EGRESS;
		  $$->a = $5[0]; $$->b = $5[1]; $$->c = $4; $$->list = toks_move(ps, $7); }
	;

/* the protocol of an egress service with ports: c.s is "tcp" or "udp" */
egress_l4:
	  TCP				{ $$ = $1; $$.s = "tcp"; }
	| UDP				{ $$ = $1; $$.s = "udp"; }
	;

ports:
	  NUMBER			{ $$ = arena_alloc(ps->a, 2 * sizeof *$$);
					  $$[0] = $1; $$[1] = NOTOK; }
	| NUMBER '-' NUMBER		{ $$ = arena_alloc(ps->a, 2 * sizeof *$$);
					  $$[0] = $1; $$[1] = $3; }
	;

listen_opt:
	  %empty			{ $$ = NOTOK; }
	| ON addr			{ $$ = $2; }
	;

/* trust { header NL rows NL } */
trust:
	  TRUST '{' trust_lines '}'
		{ $$ = trust_new(ps, @$, $3, @2, @4); }
	| TRUST '{' trust_lines words '}'
		{ $$ = trust_new(ps, @$, stmts_push($3, row_new(ps, $4, @4)), @2, @5); }
	;

trust_lines:
	  %empty			{ $$ = NULL; }
	| trust_lines NL		{ $$ = $1; }
	| trust_lines words NL		{ $$ = stmts_push($1, row_new(ps, $2, @2)); }
	;

words:
	  WORD				{ $$ = toks_push(NULL, $1); }
	| words WORD			{ $$ = toks_push($1, $2); }
	;

/* invariant NAME "text" { SOURCE can|cannot reach SVC, ...; } */
invariant:
	  INVARIANT IDENT STRING '{' inv_body '}'
		{ $$ = block(ps, AST_INVARIANT, @$, $2, $5, @4, @6); $$->a = $3; }
	| INVARIANT IDENT STRING '{' inv_body error '}'
		{ $$ = block(ps, AST_INVARIANT, @$, $2, $5, @4, @7); $$->a = $3; yyerrok; }
	;

inv_body:
	  %empty			{ $$ = NULL; }
	| inv_body clause		{ $$ = stmts_push($1, $2); }
	| inv_body error ';'		{ $$ = $1; yyerrok; }
	;

clause:
	  IDENT CANNOT REACH names ';'
		{ $$ = stmt_new(ps, AST_CLAUSE, @$); $$->name = $1; $$->sub = 0;
		  $$->list = toks_move(ps, $4); }
	| IDENT CAN REACH names ';'
		{ $$ = stmt_new(ps, AST_CLAUSE, @$); $$->name = $1; $$->sub = 1;
		  $$->list = toks_move(ps, $4); }
	;

names:
	  IDENT				{ $$ = toks_push(NULL, $1); }
	| names ',' IDENT		{ $$ = toks_push($1, $3); }
	;

strings:
	  STRING			{ $$ = toks_push(NULL, $1); }
	| strings ',' STRING		{ $$ = toks_push($1, $3); }
	;

trust_domain:
	  TRUST_DOMAIN STRING ';'
		{ $$ = stmt_new(ps, AST_TRUST_DOMAIN, @$); $$->a = $2; }
	;

/* identity NAME "spiffe://..." selector "s"[, "s"] [privilege NAME]; */
identity:
	  IDENTITY IDENT STRING SELECTOR strings ';'
		{ $$ = stmt_new(ps, AST_IDENTITY, @$); $$->name = $2; $$->a = $3;
		  $$->list = toks_move(ps, $5); }
	| IDENTITY IDENT STRING SELECTOR strings PRIVILEGE IDENT ';'
		{ $$ = stmt_new(ps, AST_IDENTITY, @$); $$->name = $2; $$->a = $3;
		  $$->list = toks_move(ps, $5); $$->b = $7; }
	;

/* privilege NAME { secrets ...; mount NAME ro|rw; cpus 1..4 default 2; ... } */
privilege:
	  PRIVILEGE IDENT '{' priv_body '}'
		{ $$ = block(ps, AST_PRIVILEGE, @$, $2, $4, @3, @5); }
	| PRIVILEGE IDENT '{' priv_body error '}'
		{ $$ = block(ps, AST_PRIVILEGE, @$, $2, $4, @3, @6); yyerrok; }
	;

priv_body:
	  %empty			{ $$ = NULL; }
	| priv_body priv_stmt		{ $$ = stmts_push($1, $2); }
	| priv_body error ';'		{ $$ = $1; yyerrok; }
	;

priv_stmt:
	  SECRETS names ';'
		{ $$ = stmt_new(ps, AST_SECRETS, @$); $$->list = toks_move(ps, $2); }
	| MOUNT IDENT mode ';'
		{ $$ = stmt_new(ps, AST_GRANT, @$); $$->name = $2; $$->a = $3; }
	| range_kw NUMBER DOTDOT NUMBER unit_opt default_opt ';'
		{ $$ = range_new(ps, @$, $1, $2, $4, $5, $6); }
	;

range_kw:
	  CPUS				{ $$ = RANGE_CPUS; }
	| MEMORY			{ $$ = RANGE_MEMORY; }
	| TIMEOUT			{ $$ = RANGE_TIMEOUT; }
	;

unit_opt:
	  %empty			{ $$ = NOTOK; }
	| IDENT
	;

default_opt:
	  %empty			{ $$ = NOTOK; }
	| DEFAULT NUMBER		{ $$ = $2; }
	;

mode:
	  RO
	| RW
	;

mode_opt:
	  %empty			{ $$ = NOTOK; }
	| mode
	;

/* mount NAME "HOST" at "TARGET" [ro|rw]; mount NAME service SVC [ro|rw]; */
mount:
	  MOUNT IDENT STRING AT STRING mode_opt ';'
		{ $$ = stmt_new(ps, AST_MOUNT, @$); $$->name = $2; $$->sub = 0;
		  $$->a = $3; $$->b = $5; $$->c = $6; }
	| MOUNT IDENT SERVICE IDENT mode_opt ';'
		{ $$ = stmt_new(ps, AST_MOUNT, @$); $$->name = $2; $$->sub = 1;
		  $$->a = $4; $$->c = $5; }
	;

/* container { source NAME; engine podman ...; ... } */
container:
	  CONTAINER '{' c_body '}'
		{ $$ = block(ps, AST_CONTAINER, @$, NOTOK, $3, @2, @4); }
	| CONTAINER '{' c_body error '}'
		{ $$ = block(ps, AST_CONTAINER, @$, NOTOK, $3, @2, @5); yyerrok; }
	;

c_body:
	  %empty			{ $$ = NULL; }
	| c_body c_stmt			{ $$ = stmts_push($1, $2); }
	| c_body error ';'		{ $$ = $1; yyerrok; }
	;

c_stmt:
	  SOURCE IDENT ';'
		{ $$ = stmt_new(ps, AST_C_SOURCE, @$); $$->name = $2; }
	| ENGINE IDENT engine_opts ';'
		{ $$ = $3; $$->loc = @$; $$->name = $2; }
	| USERNS IDENT ';'
		{ $$ = stmt_new(ps, AST_C_USERNS, @$); $$->a = $2; }
	| NETWORK IDENT ';'
		{ $$ = stmt_new(ps, AST_C_NETWORK, @$); $$->a = $2; }
	| IMAGE STRING ';'
		{ $$ = stmt_new(ps, AST_C_IMAGE, @$); $$->a = $2; }
	| CAP_DROP names ';'
		{ $$ = stmt_new(ps, AST_C_CAP_DROP, @$); $$->list = toks_move(ps, $2); }
	| SECURITY_OPT strings ';'
		{ $$ = stmt_new(ps, AST_C_SECOPT, @$); $$->list = toks_move(ps, $2); }
	| LABEL STRING '=' STRING ';'
		{ $$ = stmt_new(ps, AST_C_LABEL, @$); $$->a = $2; $$->b = $4; }
	;

engine_opts:
	  %empty
		{ $$ = stmt_new(ps, AST_C_ENGINE, @$); }
	| engine_opts ROOTLESS
		{ $$ = $1;
		  if ($$->sub)
			  diag_error(ps->d, @2, "'rootless' is given twice");
		  $$->sub = 1; }
	| engine_opts USER IDENT
		{ $$ = $1;
		  if ($$->a.s)
			  diag_error(ps->d, @2, "the engine's user is given twice");
		  $$->a = $3; }
	| engine_opts UID NUMBER
		{ $$ = $1;
		  if ($$->b.s)
			  diag_error(ps->d, @2, "the engine's uid is given twice");
		  $$->b = $3; }
	;

/* wireguard "IFACE" { listen SERVICE; peer SOURCE key "KEY" [opts]; } */
wireguard:
	  WIREGUARD STRING '{' wg_body '}'
		{ $$ = block(ps, AST_WIREGUARD, @$, $2, $4, @3, @5); }
	| WIREGUARD STRING '{' wg_body error '}'
		{ $$ = block(ps, AST_WIREGUARD, @$, $2, $4, @3, @6); yyerrok; }
	;

wg_body:
	  %empty			{ $$ = NULL; }
	| wg_body wg_stmt		{ $$ = stmts_push($1, $2); }
	| wg_body error ';'		{ $$ = $1; yyerrok; }
	;

wg_stmt:
	  LISTEN IDENT ';'
		{ $$ = stmt_new(ps, AST_WG_LISTEN, @$); $$->name = $2; }
	| PEER IDENT KEY STRING peer_opts ';'
		{ $$ = $5; $$->loc = @$; $$->name = $2; $$->a = $4; }
	;

/* [endpoint "HOST:PORT"] [keepalive SECONDS] [allow ADDR, ...], any order */
peer_opts:
	  %empty
		{ $$ = stmt_new(ps, AST_WG_PEER, @$); }
	| peer_opts ENDPOINT STRING
		{ $$ = $1;
		  if ($$->b.s)
			  diag_error(ps->d, @2, "the peer's endpoint is given twice");
		  $$->b = $3; }
	| peer_opts KEEPALIVE NUMBER
		{ $$ = $1;
		  if ($$->c.s)
			  diag_error(ps->d, @2, "the peer's keepalive is given twice");
		  $$->c = $3; }
	| peer_opts ALLOW addrs
		{ $$ = $1;
		  if ($$->list.n)
			  diag_error(ps->d, @2, "the peer's allow list is given twice");
		  $$->list = toks_move(ps, $3); $$->d = $2; }
	;

/* rsyncd { service SERVICE; module NAME mount MOUNT; max_connections N; } */
rsyncd:
	  RSYNCD '{' rs_body '}'
		{ $$ = block(ps, AST_RSYNCD, @$, NOTOK, $3, @2, @4); }
	| RSYNCD '{' rs_body error '}'
		{ $$ = block(ps, AST_RSYNCD, @$, NOTOK, $3, @2, @5); yyerrok; }
	;

rs_body:
	  %empty			{ $$ = NULL; }
	| rs_body rs_stmt		{ $$ = stmts_push($1, $2); }
	| rs_body error ';'		{ $$ = $1; yyerrok; }
	;

rs_stmt:
	  SERVICE IDENT ';'
		{ $$ = stmt_new(ps, AST_RS_SERVICE, @$); $$->name = $2; }
	| MODULE IDENT MOUNT IDENT ';'
		{ $$ = stmt_new(ps, AST_RS_MODULE, @$); $$->name = $2; $$->a = $4; }
	| MAX_CONNECTIONS NUMBER ';'
		{ $$ = stmt_new(ps, AST_RS_MAXCONN, @$); $$->a = $2; }
	;

/* spire_parent "spiffe://DOMAIN/PATH"; */
spire_parent:
	  SPIRE_PARENT STRING ';'
		{ $$ = stmt_new(ps, AST_SPIRE_PARENT, @$); $$->a = $2; }
	;

%%

#define YYSTYPE FPSTYPE
#define YYLTYPE FPLTYPE
#include "scanner.h"

static void fperror(Loc *loc, yyscan_t scanner, ParseState *ps, const char *msg)
{
	(void)scanner;
	diag_error(ps->d, *loc, "%s", msg);
}

static bool sym_is_keyword(yysymbol_kind_t k);

/* The user-facing name of a token kind: 'policy', ';', name, end of file. */
static const char *sym_name(yysymbol_kind_t k, char *buf, size_t n)
{
	const char *s = yysymbol_name(k);
	size_t len = strlen(s);

	if (k == YYSYMBOL_YYEOF)
		return "end of file";
	if (len >= 2 && s[0] == '"' && s[len - 1] == '"') {
		s++;
		len -= 2;
	}
	snprintf(buf, n, sym_is_keyword(k) ? "'%.*s'" : "%.*s", (int)len, s);
	return buf;
}

static bool sym_is_keyword(yysymbol_kind_t k)
{
	return (k >= YYSYMBOL_POLICY && k <= YYSYMBOL_LABEL) ||
	       (k >= YYSYMBOL_WIREGUARD && k <= YYSYMBOL_SPIRE_PARENT);
}

/* "unexpected X, expected A, B or C", with a guess at what was meant: a
 * missing ';' at the end of the line before, a misspelt keyword, or a
 * reserved word used as a name. */
static int yyreport_syntax_error(const yypcontext_t *ctx, yyscan_t scanner,
				 ParseState *ps)
{
	yysymbol_kind_t exp[YYNTOKENS], la = yypcontext_token(ctx);
	const Loc *at = yypcontext_location(ctx);
	int n = yypcontext_expected_tokens(ctx, exp, YYNTOKENS);
	const char *kw[YYNTOKENS];
	int nkw = 0;
	bool semi = false, ident = false;
	char b1[64], b2[64];
	Buf m = { 0 };

	(void)scanner;
	bool addr = false;
	int kept = 0;

	for (int i = 0; i < n; i++)
		addr |= exp[i] == YYSYMBOL_ADDR;
	for (int i = 0; i < n; i++)	/* a number for an address has its own rule */
		if (!(addr && exp[i] == YYSYMBOL_NUMBER))
			exp[kept++] = exp[i];
	n = kept;
	for (int i = 0; i < n; i++) {
		semi |= !strcmp(yysymbol_name(exp[i]), "';'");
		ident |= exp[i] == YYSYMBOL_IDENT;
		if (sym_is_keyword(exp[i]))
			kw[nkw++] = yysymbol_name(exp[i]);
	}
	if (semi && la != YYSYMBOL_YYEOF && at->first_line > ps->prev.last_line &&
	    ps->prev.file) {
		Loc end = ps->prev;

		end.first_line = end.last_line;
		end.first_col = end.last_col = end.last_col + 1;
		diag_error(ps->d, end, "missing ';' at the end of this statement");
		return 0;
	}
	buf_puts(&m, "unexpected ");
	buf_puts(&m, sym_name(la, b1, sizeof b1));
	if (la == YYSYMBOL_IDENT || la == YYSYMBOL_WORD || la == YYSYMBOL_NUMBER ||
	    la == YYSYMBOL_ADDR)
		buf_printf(&m, " '%.40s'", ps->last_text ? ps->last_text : "");
	else if (la == YYSYMBOL_STRING)
		buf_printf(&m, " \"%.40s\"", ps->last_text ? ps->last_text : "");
	for (int i = 0; i < n; i++) {
		buf_puts(&m, i == 0 ? ", expected " : i == n - 1 ? " or " : ", ");
		buf_puts(&m, sym_name(exp[i], b2, sizeof b2));
	}
	if (la == YYSYMBOL_IDENT && nkw > 0 && ps->last_text) {
		char clean[YYNTOKENS][32];
		const char *cands[YYNTOKENS];

		for (int i = 0; i < nkw; i++) {
			size_t len = strlen(kw[i]);
			bool q = len >= 2 && kw[i][0] == '"';

			snprintf(clean[i], sizeof clean[i], "%.*s",
				 (int)(q ? len - 2 : len), kw[i] + q);
			cands[i] = clean[i];
		}
		const char *hint = diag_suggest(ps->last_text, cands, nkw);

		if (hint)
			buf_printf(&m, "; did you mean '%s'?", hint);
	}
	if (sym_is_keyword(la) && ident)
		buf_printf(&m, " ('%s' is a reserved word and cannot be a name)",
			   ps->last_text ? ps->last_text : "");
	diag_error(ps->d, *at, "%s", m.data);
	buf_free(&m);
	return 0;
}

static AstStmt *stmt_new(ParseState *ps, AstKind kind, Loc loc)
{
	AstStmt *s = arena_alloc(ps->a, sizeof *s);

	s->kind = kind;
	s->loc = loc;
	return s;
}

static StmtList *stmts_push(StmtList *l, AstStmt *s)
{
	if (!l)
		l = xcalloc(1, sizeof *l);
	if (!s)
		return l;
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 8;
		l->v = realloc(l->v, (size_t)l->cap * sizeof *l->v);
		if (!l->v)
			BUG("out of memory");
	}
	l->v[l->n++] = s;
	return l;
}

static void stmts_free(StmtList *l)
{
	if (l) {
		free(l->v);
		free(l);
	}
}

static TokList *toks_push(TokList *l, AstTok t)
{
	if (!l)
		l = xcalloc(1, sizeof *l);
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 8;
		l->v = realloc(l->v, (size_t)l->cap * sizeof *l->v);
		if (!l->v)
			BUG("out of memory");
	}
	l->v[l->n++] = t;
	return l;
}

static void toks_free(TokList *l)
{
	if (l) {
		free(l->v);
		free(l);
	}
}

/* Copy l into the arena and free it. */
static AstList toks_move(ParseState *ps, TokList *l)
{
	AstList r = { 0 };

	if (!l)
		return r;
	r.n = l->n;
	r.v = arena_alloc(ps->a, (size_t)l->n * sizeof *r.v);
	memcpy(r.v, l->v, (size_t)l->n * sizeof *r.v);
	toks_free(l);
	return r;
}

/* A block statement owning the statements of body (which it frees). */
static AstStmt *block(ParseState *ps, AstKind kind, Loc loc, AstTok name,
		      StmtList *body, Loc open, Loc close)
{
	AstStmt *s = stmt_new(ps, kind, loc);

	s->name = name;
	s->open = open;
	s->close = close;
	if (body && body->n) {
		s->n_body = body->n;
		s->body = arena_alloc(ps->a, (size_t)body->n * sizeof *s->body);
		memcpy(s->body, body->v, (size_t)body->n * sizeof *s->body);
	}
	stmts_free(body);
	return s;
}

/* A trust-table line: its first word names the row, the rest are cells. */
static AstStmt *row_new(ParseState *ps, TokList *words, Loc loc)
{
	AstStmt *r = stmt_new(ps, AST_ROW, loc);

	r->name = words->v[0];
	r->n_cells = words->n - 1;
	r->cells = arena_alloc(ps->a, (size_t)r->n_cells * sizeof *r->cells);
	for (int i = 1; i < words->n; i++)
		r->cells[i - 1] = (AstCell){ words->v[i].s, words->v[i].loc.first_col };
	toks_free(words);
	return r;
}

/* The table: its first line is the header (kept in list), the rest rows. */
static AstStmt *trust_new(ParseState *ps, Loc loc, StmtList *lines,
			  Loc open, Loc close)
{
	AstStmt *t = block(ps, AST_TRUST, loc, NOTOK, lines, open, close);

	if (t->n_body > 0) {
		AstStmt *h = t->body[0];

		t->list.n = h->n_cells + 1;
		t->list.v = arena_alloc(ps->a, (size_t)t->list.n * sizeof *t->list.v);
		t->list.v[0] = h->name;
		for (int i = 0; i < h->n_cells; i++) {
			Loc l = h->loc;

			l.first_col = h->cells[i].col;
			l.last_col = l.first_col + (int)strlen(h->cells[i].s) - 1;
			t->list.v[i + 1] = (AstTok){ h->cells[i].s, l };
		}
		t->body++;
		t->n_body--;
	}
	return t;
}

static AstStmt *range_new(ParseState *ps, Loc loc, int kind, AstTok min,
			  AstTok max, AstTok unit, AstTok def)
{
	AstStmt *s = stmt_new(ps, AST_RANGE, loc);

	s->sub = kind;
	s->a = min;
	s->b = max;
	s->c = unit;
	s->d = def;
	return s;
}

static void decl_add(ParseState *ps, AstStmt *s)
{
	if (s)
		vec_push(ps->a, &ps->decls, s);
}

Ast *parse_policy(Arena *a, Diag *d, const char *file, const char *text,
		  size_t len)
{
	ParseState ps = { .a = a, .d = d, .file = file, .line = 1, .col = 1 };
	yyscan_t scanner;
	Ast *ast = arena_alloc(a, sizeof *ast);

	if (len > (size_t)INT32_MAX - 2) {
		diag_error(d, ((Loc){ file, 1, 1, 1, 1 }), "%s is too large", file);
		return NULL;
	}
	if (fplex_init_extra(&ps, &scanner) != 0)
		BUG("cannot initialise the scanner");
	fp_scan_bytes(text, (int)len, scanner);
	fpparse(scanner, &ps);
	fplex_destroy(scanner);
	ast->file = file;
	ast->decls = ps.decls.v;
	ast->n_decls = ps.decls.n;
	ast->comments = ps.comments.v;
	ast->n_comments = ps.comments.n;
	return ast;
}
