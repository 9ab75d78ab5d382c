/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * sema.c: check an AST and resolve it into the Policy IR (policy.h).
 *
 * Every check reports through diag with the location of the offending
 * text and goes on, so one run shows several mistakes; sema returns NULL
 * if anything was wrong. Name lookups go through hash maps, so the work is
 * linear in the size of the policy (plus the trust-table matrix itself).
 */
#include "sema_int.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>

const char *const policy_placeholders[3] = { "{job_id}", "{upload_id}", "{privilege}" };

/* ---- name maps: open addressing, keys are arena strings ---- */

static uint64_t name_hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

/* A map for up to n entries. */
void sema_map_init(Arena *a, NameMap *m, int n)
{
	m->cap = 16;
	while (m->cap < 2 * (size_t)n + 2)
		m->cap *= 2;
	m->keys = arena_alloc(a, m->cap * sizeof *m->keys);
	m->vals = arena_alloc(a, m->cap * sizeof *m->vals);
}

static size_t map_slot(const NameMap *m, const char *k)
{
	size_t i = name_hash(k) & (m->cap - 1);

	while (m->keys[i] && strcmp(m->keys[i], k) != 0)
		i = (i + 1) & (m->cap - 1);
	return i;
}

void *sema_map_get(const NameMap *m, const char *k)
{
	return m->cap ? m->vals[map_slot(m, k)] : NULL;
}

/* Insert k -> v unless k is there; return the value already there or NULL. */
void *sema_map_put(NameMap *m, const char *k, void *v)
{
	size_t i = map_slot(m, k);

	if (m->keys[i])
		return m->vals[i];
	m->keys[i] = k;
	m->vals[i] = v;
	return NULL;
}

/* ---- the checker's state ---- */

static Loc file_loc(const Sema *S)
{
	return (Loc){ S->file, 1, 1, 1, 1 };
}

/* From the start of a to the end of b (a block's keyword to its name). */
Loc sema_loc_span(Loc a, Loc b)
{
	a.last_line = b.last_line;
	a.last_col = b.last_col;
	return a;
}

/* The location of bytes off..off+n-1 of a quoted string token's value,
 * or of the whole token when escapes make the columns uncertain. */
Loc sema_str_loc(const AstTok *t, size_t off, size_t n)
{
	Loc l = t->loc;
	size_t len = strlen(t->s);

	if (l.first_line != l.last_line ||
	    (size_t)(l.last_col - l.first_col + 1) != len + 2)
		return l;
	l.first_col += 1 + (int)off;
	l.last_col = l.first_col + (int)(n ? n : 1) - 1;
	return l;
}

/* Report an unknown name of kind what, with a did-you-mean among names
 * (only while diagnostics are still shown: the search is not free). */
void sema_unknown(Sema *S, Loc loc, const char *what, const char *name,
		    const char **names, int n)
{
	const char *hint = NULL;

	if (diag_errors(S->d) < DIAG_MAX)
		hint = diag_suggest(name, names, n);
	if (hint)
		err(S, loc, "unknown %s '%s'; did you mean '%s'?", what, name, hint);
	else
		err(S, loc, "unknown %s '%s'", what, name);
}

/* A declared name: at most NAME_MAX_LEN characters (the scanner has
 * already restricted the characters). */
void sema_check_name(Sema *S, const AstTok *t, const char *what)
{
	if (t->s && strlen(t->s) > NAME_MAX_LEN)
		err(S, t->loc, "%s name '%.20s...' is longer than %d characters", what, t->s,
		    NAME_MAX_LEN);
}

/* Report a second declaration of name, pointing at the first. */
void sema_duplicate(Sema *S, Loc loc, const char *what, const char *name,
		      Loc first)
{
	err(S, loc, "duplicate %s '%s' (the first is at line %d)", what, name,
	    first.first_line);
}

/* ---- values ---- */

/* A decimal number in min..max; reports "WHAT N is out of range". */
bool sema_num_in(Sema *S, const AstTok *t, long min, long max,
		   const char *what, long *out)
{
	long v = 0;
	const char *s = t->s;

	for (; *s == '0' && s[1]; s++)
		;
	if (strlen(s) > 12) {
		err(S, t->loc, "%s %s is out of range (%ld-%ld)", what, t->s, min, max);
		return false;
	}
	for (; *s; s++)
		v = v * 10 + (*s - '0');
	if (v < min || v > max) {
		err(S, t->loc, "%s %s is out of range (%ld-%ld)", what, t->s, min, max);
		return false;
	}
	*out = v;
	return true;
}

/* Parse ADDR[/LEN] into p; host bits must be zero. host_only: no prefix. */
static bool parse_prefix(Sema *S, const AstTok *t, Prefix *p, bool host_only)
{
	char buf[64];
	const char *slash = strchr(t->s, '/');
	size_t alen = slash ? (size_t)(slash - t->s) : strlen(t->s);
	bool v6 = memchr(t->s, ':', alen) != NULL;
	const char *fam = v6 ? "IPv6" : "IPv4";
	int max = v6 ? 128 : 32;

	memset(p, 0, sizeof *p);
	p->loc = t->loc;
	p->fam = v6 ? FAM_IP6 : FAM_IP4;
	p->len = max;
	if (alen < sizeof buf) {
		memcpy(buf, t->s, alen);
		buf[alen] = '\0';
	}
	if (alen >= sizeof buf || inet_pton(v6 ? AF_INET6 : AF_INET, buf, p->addr) != 1) {
		err(S, t->loc, "'%.*s' is not a valid %s address", (int)alen, t->s, fam);
		return false;
	}
	if (slash && host_only) {
		err(S, t->loc, "'%s' must be a single address, not a prefix", t->s);
		return false;
	}
	if (slash) {
		const char *l = slash + 1;

		if (!*l || strlen(l) > 3 || (l[0] == '0' && l[1]) || atoi(l) > max) {
			err(S, t->loc, "prefix length /%s is not a number from 0 to %d (%s)", l, max, fam);
			return false;
		}
		p->len = atoi(l);
	}
	for (int bit = p->len; bit < max; bit++) {
		if (p->addr[bit / 8] & (0x80 >> (bit % 8))) {
			char net[INET6_ADDRSTRLEN];
			uint8_t a[16];

			memcpy(a, p->addr, sizeof a);
			for (int b = p->len; b < max; b++)
				a[b / 8] &= (uint8_t)~(0x80 >> (b % 8));
			inet_ntop(v6 ? AF_INET6 : AF_INET, a, net, sizeof net);
			err(S, t->loc, "'%s' has host bits set; the network is %s/%d",
			    t->s, net, p->len);
			return false;
		}
	}
	return true;
}

/* Prefixes a, b overlap (one contains the other). */
static bool prefix_overlap(const Prefix *a, const Prefix *b)
{
	int len = a->len < b->len ? a->len : b->len;

	if (a->fam != b->fam)
		return false;
	for (int bit = 0; bit < len; bit++) {
		int m = 0x80 >> (bit % 8);

		if ((a->addr[bit / 8] & m) != (b->addr[bit / 8] & m))
			return false;
	}
	return true;
}

static int prefix_cmp(const void *x, const void *y)
{
	const Prefix *a = *(Prefix *const *)x, *b = *(Prefix *const *)y;
	int c = (int)a->fam - (int)b->fam;

	if (!c)
		c = memcmp(a->addr, b->addr, sizeof a->addr);
	if (!c)
		c = a->len - b->len;
	return c;
}

bool sema_prefix(Sema *S, const AstTok *t, Prefix *p, bool host_only)
{
	return parse_prefix(S, t, p, host_only);
}

bool sema_prefix_overlap(const Prefix *a, const Prefix *b)
{
	return prefix_overlap(a, b);
}

/* Parse a list of prefixes; report any two that overlap (n log n). */
static Prefix *prefix_list(Sema *S, const AstList *l, int *n_out)
{
	Prefix *v = arena_alloc(S->a, (size_t)l->n * sizeof *v);
	Prefix **sorted = arena_alloc(S->a, (size_t)l->n * sizeof *sorted);
	int n = 0;

	for (int i = 0; i < l->n; i++)
		if (parse_prefix(S, &l->v[i], &v[n], false))
			n++;
	for (int i = 0; i < n; i++)
		sorted[i] = &v[i];
	qsort(sorted, (size_t)n, sizeof *sorted, prefix_cmp);
	/* sorted by address then length, any overlap shows between neighbours */
	for (int i = 1; i < n; i++) {
		const Prefix *x = sorted[i - 1], *y = sorted[i], *later, *other;
		char a[INET6_ADDRSTRLEN];

		if (!prefix_overlap(x, y))
			continue;
		later = y->loc.first_line > x->loc.first_line ||
			(y->loc.first_line == x->loc.first_line &&
			 y->loc.first_col > x->loc.first_col) ? y : x;
		other = later == y ? x : y;
		inet_ntop(other->fam == FAM_IP6 ? AF_INET6 : AF_INET, other->addr, a, sizeof a);
		err(S, later->loc, "this address overlaps %s/%d in the same list", a, other->len);
	}
	*n_out = n;
	return v;
}

/* POSIX-ish user and group names: [a-z_][a-z0-9_-]*[$]?, at most 32. */
static bool user_name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 32 || !(islower((unsigned char)s[0]) || s[0] == '_'))
		return false;
	for (size_t i = 1; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (!(islower(c) || isdigit(c) || c == '_' || c == '-' ||
		      (c == '$' && i == n - 1)))
			return false;
	}
	return true;
}

void sema_check_user(Sema *S, const AstTok *t, const char *what)
{
	if (!user_name_ok(t->s))
		err(S, t->loc, "'%s' is not a valid %s name (lower-case letters, digits, '_' and '-', "
		    "starting with a letter or '_', at most 32 characters)", t->s, what);
}

/* Placeholders: every brace must belong to {job_id}, {upload_id} or
 * {privilege}. */
bool sema_check_placeholders(Sema *S, const AstTok *t)
{
	const char *s = t->s;

	for (size_t i = 0; s[i]; i++) {
		if (s[i] == '}') {
			err(S, sema_str_loc(t, i, 1), "unbalanced '}' (placeholders are {job_id}, {upload_id} and {privilege})");
			return false;
		}
		if (s[i] != '{')
			continue;
		size_t j = i + 1;

		while (s[j] && s[j] != '}' && s[j] != '{')
			j++;
		if (s[j] != '}') {
			err(S, sema_str_loc(t, i, 1), "unbalanced '{' (placeholders are {job_id}, {upload_id} and {privilege})");
			return false;
		}
		char *ph = arena_strndup(S->a, s + i, j - i + 1);
		bool known = false;

		for (int k = 0; k < 3; k++)
			known |= !strcmp(ph, policy_placeholders[k]);
		if (!known) {
			const char *hint = diag_suggest(ph, policy_placeholders, 3);

			if (hint)
				err(S, sema_str_loc(t, i, j - i + 1), "unknown placeholder '%s'; did you mean '%s'?", ph, hint);
			else
				err(S, sema_str_loc(t, i, j - i + 1), "unknown placeholder '%s' (placeholders are {job_id}, {upload_id} and {privilege})", ph);
			return false;
		}
		i = j;
	}
	return true;
}

/* An absolute path of at most PATH_MAX_LEN bytes: no empty, '.' or '..'
 * segment, no ':' or ',' (podman's volume separators), and placeholders
 * only in a template (a mount's host path). */
bool sema_check_path(Sema *S, const AstTok *t, const char *what, bool templ)
{
	const char *s = t->s;
	size_t n = strlen(s);

	if (s[0] != '/') {
		err(S, t->loc, "%s must be an absolute path (start with '/')", what);
		return false;
	}
	if (n > PATH_MAX_LEN) {
		err(S, t->loc, "%s is longer than %d bytes", what, PATH_MAX_LEN);
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		if (s[i] == ':' || s[i] == ',') {
			err(S, sema_str_loc(t, i, 1), "%s cannot hold '%c' (podman separates volume options with it)",
			    what, s[i]);
			return false;
		}
		if (!templ && (s[i] == '{' || s[i] == '}')) {
			err(S, sema_str_loc(t, i, 1), "%s cannot hold placeholders", what);
			return false;
		}
	}
	for (size_t i = 1; i <= n; ) {
		size_t m = strcspn(s + i, "/");

		if (m == 0 && s[i]) {
			err(S, sema_str_loc(t, i - 1, 2), "%s has an empty segment ('//')", what);
			return false;
		}
		if ((m == 1 && s[i] == '.') || (m == 2 && s[i] == '.' && s[i + 1] == '.')) {
			err(S, sema_str_loc(t, i, m), "'%.*s' is not allowed in %s", (int)m, s + i, what);
			return false;
		}
		i += m + 1;
	}
	return !templ || sema_check_placeholders(S, t);
}

/* An interface pattern: at most 15 bytes with its '*' (what nft and the
 * kernel take: IFNAMSIZ is 16 with the NUL), '*' only at the end, no '/',
 * ':' or blanks (the kernel's rules for names). */
static bool parse_iface(Sema *S, const AstTok *t, IfPattern *out)
{
	const char *s = t->s;
	size_t n = strlen(s);
	bool wild = n > 0 && s[n - 1] == '*';
	size_t len = wild ? n - 1 : n;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '*') {
			err(S, sema_str_loc(t, i, 1), "'*' may only end an interface pattern");
			return false;
		}
		if (!isalnum(c) && c != '_' && c != '.' && c != '-') {
			err(S, sema_str_loc(t, i, 1), "an interface name holds only A-Z, a-z, 0-9, '_', '.' and '-'");
			return false;
		}
	}
	if (len == 0) {
		err(S, t->loc, wild ? "'*' alone matches every interface: leave the interfaces out (via from ...;) or use via any"
				    : "empty interface name");
		return false;
	}
	if (n > IFNAME_MAX_LEN) {
		err(S, t->loc, wild ? "interface pattern '%.40s' is longer than %d bytes (the kernel's IFNAMSIZ counts the '*' and the NUL)"
				    : "interface name '%.40s' is longer than %d bytes (the kernel's IFNAMSIZ counts the NUL)",
		    s, IFNAME_MAX_LEN);
		return false;
	}
	out->name = arena_strndup(S->a, s, len);
	out->wildcard = wild;
	out->loc = t->loc;
	return true;
}

/* SPIFFE ID syntax: spiffe://DOMAIN/SEG/SEG, no port, userinfo, query or
 * fragment, and DOMAIN must be the trust domain. */
bool sema_check_spiffe(Sema *S, const AstTok *t, const char *domain)
{
	const char *s = t->s, *td, *path;
	size_t n = strlen(s), tdlen;

	if (n > 2048) {
		err(S, t->loc, "SPIFFE ID is longer than 2048 bytes");
		return false;
	}
	if (strncmp(s, "spiffe://", 9) != 0) {
		err(S, t->loc, "a SPIFFE ID starts with \"spiffe://\" (in lower case)");
		return false;
	}
	td = s + 9;
	path = strchr(td, '/');
	tdlen = path ? (size_t)(path - td) : strlen(td);
	if (tdlen == 0) {
		err(S, t->loc, "the SPIFFE ID has an empty trust domain");
		return false;
	}
	for (size_t i = 0; i < tdlen; i++) {
		unsigned char c = (unsigned char)td[i];
		size_t off = (size_t)(td - s) + i;

		if (islower(c) || isdigit(c) || c == '.' || c == '-' || c == '_')
			continue;
		err(S, sema_str_loc(t, off, 1), "%s", c == ':' ? "a SPIFFE ID has no port" :
		    c == '@' ? "a SPIFFE ID has no user info" :
		    c == '?' ? "a SPIFFE ID has no query" :
		    c == '#' ? "a SPIFFE ID has no fragment" :
		    isupper(c) ? "a SPIFFE trust domain is lower case" :
		    "a SPIFFE trust domain holds only a-z, 0-9, '.', '-' and '_'");
		return false;
	}
	if (!path || !path[1]) {
		err(S, t->loc, "the SPIFFE ID of an identity needs a path (spiffe://%.*s/NAME)",
		    (int)tdlen, td);
		return false;
	}
	for (const char *seg = path + 1;; ) {
		const char *end = strchr(seg, '/');
		size_t len = end ? (size_t)(end - seg) : strlen(seg);
		size_t off = (size_t)(seg - s);

		if (len == 0) {
			err(S, sema_str_loc(t, off ? off - 1 : 0, 1), "empty path segment in the SPIFFE ID (a '/' too many)");
			return false;
		}
		if ((len == 1 && seg[0] == '.') || (len == 2 && seg[0] == '.' && seg[1] == '.')) {
			err(S, sema_str_loc(t, off, len), "'.' and '..' segments are not allowed in a SPIFFE ID");
			return false;
		}
		for (size_t i = 0; i < len; i++) {
			unsigned char c = (unsigned char)seg[i];

			if (isalnum(c) || c == '.' || c == '-' || c == '_')
				continue;
			err(S, sema_str_loc(t, off + i, 1), "%s",
			    c == '?' ? "a SPIFFE ID has no query" :
			    c == '#' ? "a SPIFFE ID has no fragment" :
			    "a SPIFFE ID path holds only A-Z, a-z, 0-9, '.', '-' and '_'");
			return false;
		}
		if (!end)
			break;
		seg = end + 1;
	}
	if (domain && (strlen(domain) != tdlen || strncmp(td, domain, tdlen) != 0)) {
		err(S, sema_str_loc(t, 9, tdlen), "SPIFFE ID is outside the trust domain '%s'", domain);
		return false;
	}
	return true;
}

/* ---- collecting declarations ---- */

/* Keep the first of a singleton block; report a second one. */
static void single(Sema *S, AstStmt **slot, AstStmt *s, const char *what)
{
	if (*slot)
		err(S, s->loc, "a second %s (the first is at line %d)", what,
		    (*slot)->loc.first_line);
	else
		*slot = s;
}

static void collect(Sema *S, const Ast *ast)
{
	for (int i = 0; i < ast->n_decls; i++) {
		AstStmt *s = ast->decls[i];

		switch (s->kind) {
		case AST_POLICY: single(S, &S->policy, s, "policy block"); break;
		case AST_TRUST: single(S, &S->trust, s, "trust table"); break;
		case AST_TRUST_DOMAIN: single(S, &S->trust_domain, s, "trust_domain"); break;
		case AST_CONTAINER: single(S, &S->container, s, "container block"); break;
		case AST_SOURCE: vec_push(S->a, &S->sources, s); break;
		case AST_SERVICE: vec_push(S->a, &S->services, s); break;
		case AST_INVARIANT: vec_push(S->a, &S->invariants, s); break;
		case AST_IDENTITY: vec_push(S->a, &S->identities, s); break;
		case AST_PRIVILEGE: vec_push(S->a, &S->privileges, s); break;
		case AST_MOUNT: vec_push(S->a, &S->mounts, s); break;
		case AST_WIREGUARD: single(S, &S->wireguard, s, "wireguard block"); break;
		case AST_RSYNCD: single(S, &S->rsyncd, s, "rsyncd block"); break;
		case AST_SPIRE_PARENT: single(S, &S->spire_parent, s, "spire_parent"); break;
		default: BUG("declaration kind %d", (int)s->kind);
		}
	}
}

/* ---- policy block ---- */

/* The words nft 1.0's parser takes as keywords where a table's name
 * stands, quoted or not (found by loading `table inet WORD` for every word
 * of nft(8)), sorted for bsearch. */
static const char *const nft_keywords[] = {
	"accept", "add", "ah", "all", "and", "arp", "bridge", "cgroup", "chain",
	"comment", "comp", "constant", "continue", "counter", "cpu", "create", "ct",
	"day", "dccp", "define", "delete", "describe", "device", "devices", "dnat",
	"drop", "dst", "dup", "dynamic", "ecn", "element", "elements", "esp",
	"ether", "exists", "expires", "exthdr", "fib", "flags", "flow", "flowtable",
	"flush", "frag", "fwd", "get", "goto", "handle", "hbh", "hook", "hour",
	"ibrname", "icmp", "icmpv6", "igmp", "iif", "iifgroup", "iifname",
	"iiftype", "include", "index", "inet", "insert", "interval", "ip", "ip6",
	"ipsec", "jhash", "jump", "limit", "list", "log", "lt", "map", "mark",
	"masquerade", "meta", "mh", "missing", "monitor", "ne", "netdev", "nftrace",
	"not", "notrack", "numgen", "obrname", "offload", "oif", "oifgroup",
	"oifname", "oiftype", "or", "osf", "pkttype", "policy", "position",
	"priority", "queue", "quota", "random", "redefine", "redirect", "reject",
	"rename", "replace", "reset", "return", "rt", "rtclassid", "rule",
	"ruleset", "sctp", "secmark", "set", "size", "skgid", "skuid", "snat",
	"socket", "srh", "symhash", "synproxy", "table", "tcp", "th", "time",
	"timeout", "tproxy", "type", "typeof", "udp", "udplite", "undefine",
	"update", "vlan", "vmap", "xt",
};

static int cmp_word(const void *k, const void *e)
{
	return strcmp(k, *(const char *const *)e);
}

/* Is s a word nft cannot read as a table's name? */
static bool nft_keyword(const char *s)
{
	return bsearch(s, nft_keywords, sizeof nft_keywords / sizeof *nft_keywords,
		       sizeof *nft_keywords, cmp_word) != NULL;
}

/* True for a directory that is not the policy's to create or hand out:
 * "/", a top-level directory, a system tree (/etc, /usr, /root, /boot,
 * /proc, /sys, /dev, /bin, /sbin, /lib*, /nix) or a shared second-level
 * directory (/var/lib, /var/log, /run/user ...). */
bool policy_dir_is_shared(const char *path)
{
	static const char *const system[] = {
		"/etc", "/usr", "/root", "/boot", "/proc", "/sys", "/dev", "/bin",
		"/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/nix",
	};
	static const char *const shared[] = {
		"/var/lib", "/var/log", "/var/cache", "/var/tmp", "/var/spool",
		"/var/run", "/var/empty", "/run/user", "/run/wrappers",
		"/run/current-system", "/run/systemd", "/etc/ssl",
	};
	const char *second = strchr(path + 1, '/');

	if (!second || second[1] == '\0')
		return true;
	for (size_t i = 0; i < sizeof system / sizeof *system; i++) {
		size_t n = strlen(system[i]);

		if (!strncmp(path, system[i], n) && path[n] == '/')
			return true;
	}
	for (size_t i = 0; i < sizeof shared / sizeof *shared; i++)
		if (!strcmp(path, shared[i]))
			return true;
	return false;
}

/* p->mount_roots from `mount roots` (each an absolute path the policy
 * may own), or the defaults when the policy block has none. */
static void sema_roots(Sema *S, const AstStmt *roots)
{
	Policy *p = S->p;

	if (!roots) {
		p->mount_roots = arena_alloc(S->a, 4 * sizeof *p->mount_roots);
		p->mount_roots[p->n_mount_roots++] = arena_printf(S->a, "/var/lib/%s", p->name);
		p->mount_roots[p->n_mount_roots++] = arena_printf(S->a, "/tmp/%s", p->name);
		p->mount_roots[p->n_mount_roots++] = arena_printf(S->a, "/run/%s", p->name);
		p->mount_roots[p->n_mount_roots++] = "/srv";
		return;
	}
	if (strcmp(roots->name.s, "roots") != 0) {
		err(S, roots->name.loc, "unknown policy statement 'mount %s': the policy block takes `mount roots \"DIR\", ...;`",
		    roots->name.s);
		return;
	}
	p->mount_roots = arena_alloc(S->a, (size_t)roots->list.n * sizeof *p->mount_roots);
	for (int i = 0; i < roots->list.n; i++) {
		const AstTok *t = &roots->list.v[i];
		size_t n;

		if (!sema_check_path(S, t, "a mount root", false))
			continue;
		if (policy_dir_is_shared(t->s)) {
			err(S, t->loc, "mount root '%s' is a system or shared directory: name a directory of this policy's own below it",
			    t->s);
			continue;
		}
		n = strlen(t->s);
		p->mount_roots[p->n_mount_roots++] = t->s[n - 1] == '/' ? arena_strndup(S->a, t->s, n - 1) : t->s;
	}
}

static void sema_policy(Sema *S)
{
	Policy *p = S->p;
	AstStmt *table = NULL, *roots = NULL;

	if (!S->policy) {
		err(S, file_loc(S), "missing policy block: begin with `policy NAME { table inet NAME; }`");
		return;
	}
	p->name = S->policy->name.s;
	p->loc = sema_loc_span(S->policy->loc, S->policy->name.loc);
	sema_check_name(S, &S->policy->name, "policy");
	for (int i = 0; i < S->policy->n_body; i++) {
		AstStmt *st = S->policy->body[i];

		if (st->kind == AST_ROOTS)
			single(S, &roots, st, "mount roots statement");
		else
			single(S, &table, st, "table statement");
	}
	sema_roots(S, roots);
	if (!table) {
		err(S, p->loc, "the policy block needs `table inet NAME;`");
		return;
	}
	if (strcmp(table->a.s, "inet") != 0)
		err(S, table->a.loc, "table family '%s' is not supported: use inet (one table for IPv4 and IPv6)",
		    table->a.s);
	sema_check_name(S, &table->b, "table");
	if (nft_keyword(table->b.s))
		err(S, table->b.loc, "table name '%s' is an nft keyword, which nft cannot read as a table's name (quoted or not): choose another",
		    table->b.s);
	p->table_family = table->a.s;
	p->table_name = table->b.s;
}

/* ---- sources ---- */

static void sema_via(Sema *S, Source *src, const AstStmt *v, Via *out)
{
	out->kind = (ViaKind)v->sub;
	out->loc = v->loc;
	out->uid = -1;
	switch (out->kind) {
	case VIA_NET: {
		NameMap seen = { 0 };

		out->ifaces = arena_alloc(S->a, (size_t)v->list.n * sizeof *out->ifaces);
		sema_map_init(S->a, &seen, v->list.n);
		for (int i = 0; i < v->list.n; i++) {
			IfPattern *ifp = &out->ifaces[out->n_ifaces];

			if (!parse_iface(S, &v->list.v[i], ifp))
				continue;
			if (sema_map_put(&seen, v->list.v[i].s, ifp))
				err(S, v->list.v[i].loc, "interface pattern \"%s\" is listed twice",
				    v->list.v[i].s);
			else
				out->n_ifaces++;
		}
		out->addrs = prefix_list(S, &v->list2, &out->n_addrs);
		break;
	}
	case VIA_USER:
		sema_check_user(S, &v->a, "user");
		out->user = v->a.s;
		break;
	case VIA_ANY:
		src->catch_all = true;
		break;
	default:
		BUG("via kind %d", v->sub);
	}
}

static void sema_sources(Sema *S)
{
	int n = S->sources.n;

	S->src_decl = arena_alloc(S->a, (size_t)n * sizeof *S->src_decl);
	S->src_names = arena_alloc(S->a, (size_t)n * sizeof *S->src_names);
	sema_map_init(S->a, &S->src_map, n);
	for (int i = 0; i < n; i++) {
		AstStmt *st = S->sources.v[i];
		Source *src = &S->src_decl[i], *old;

		src->name = st->name.s;
		src->loc = sema_loc_span(st->loc, st->name.loc);
		sema_check_name(S, &st->name, "source");
		src->index = -1;
		S->src_names[i] = src->name;
		if ((old = sema_map_put(&S->src_map, src->name, src)))
			sema_duplicate(S, st->name.loc, "source", src->name, old->loc);
		if (st->n_body == 0)
			err(S, src->loc, "source '%s' has no via clause (say how its traffic arrives)",
			    src->name);
		src->vias = arena_alloc(S->a, (size_t)st->n_body * sizeof *src->vias);
		src->n_vias = st->n_body;
		for (int j = 0; j < st->n_body; j++)
			sema_via(S, src, st->body[j], &src->vias[j]);
		if (src->catch_all && st->n_body > 1) {
			for (int j = 0; j < st->n_body; j++)
				if (st->body[j]->sub == VIA_ANY) {
					err(S, st->body[j]->loc, "`via any` matches every packet and must be the only clause of its source");
					break;
				}
		}
	}
}

/* ---- services ---- */

/* The port or range of st (its a and b words) into svc, checked. */
static void sema_ports(Sema *S, const AstStmt *st, Service *svc)
{
	long v;

	if (sema_num_in(S, &st->a, 1, 65535, "port", &v))
		svc->port_lo = svc->port_hi = (int)v;
	if (st->b.s && sema_num_in(S, &st->b, 1, 65535, "port", &v)) {
		svc->port_hi = (int)v;
		if (svc->port_lo > svc->port_hi)
			err(S, sema_loc_span(st->a.loc, st->b.loc), "port range %s-%s is empty (the first port is above the last)",
			    st->a.s, st->b.s);
	}
}

/* One service declaration, checked, into svc. */
static void sema_service(Sema *S, const AstStmt *st, Service *svc)
{

	svc->kind = (ServiceKind)st->sub;
	switch (svc->kind) {
	case SVC_TCP:
	case SVC_UDP:
		sema_ports(S, st, svc);
		if (st->c.s)
			svc->has_listen = parse_prefix(S, &st->c, &svc->listen, true);
		break;
	case SVC_UNIX:
		sema_check_path(S, &st->a, "a socket path", false);
		sema_check_user(S, &st->b, "user");
		sema_check_user(S, &st->c, "group");
		svc->path = st->a.s;
		svc->owner = st->b.s;
		svc->group = st->c.s;
		if (strspn(st->d.s, "01234567") != strlen(st->d.s))
			err(S, st->d.loc, "mode %s is not octal (write it like 0660)", st->d.s);
		else if (strlen(st->d.s) > 6 || (svc->mode = (int)strtol(st->d.s, NULL, 8)) > 07777)
			err(S, st->d.loc, "mode %s is above 07777", st->d.s);
		break;
	case SVC_EGRESS:
		svc->dests = prefix_list(S, &st->list, &svc->n_dests);
		if (!st->c.s)
			break;
		svc->eproto = !strcmp(st->c.s, "tcp") ? 6 : 17;
		sema_ports(S, st, svc);
		break;
	default:
		BUG("service kind %d", st->sub);
	}
}

static void sema_services(Sema *S)
{
	int n = S->services.n;

	S->svc_decl = arena_alloc(S->a, (size_t)n * sizeof *S->svc_decl);
	S->svc_names = arena_alloc(S->a, (size_t)n * sizeof *S->svc_names);
	sema_map_init(S->a, &S->svc_map, n);
	for (int i = 0; i < n; i++) {
		AstStmt *st = S->services.v[i];
		Service *svc = &S->svc_decl[i], *old;

		svc->name = st->name.s;
		svc->loc = st->loc;
		sema_check_name(S, &st->name, "service");
		svc->index = -1;
		S->svc_names[i] = svc->name;
		if ((old = sema_map_put(&S->svc_map, svc->name, svc)))
			sema_duplicate(S, st->name.loc, "service", svc->name, old->loc);
		sema_service(S, st, svc);
	}
}

/* ---- the trust table ---- */

/* The column's service, or NULL (reported). */
static Service *table_column(Sema *S, const AstTok *t, NameMap *seen)
{
	Service *svc = sema_map_get(&S->svc_map, t->s);

	if (!svc) {
		if (sema_map_get(&S->src_map, t->s))
			err(S, t->loc, "'%s' is a source; the header line names services (the columns)", t->s);
		else
			sema_unknown(S, t->loc, "service", t->s, S->svc_names, S->services.n);
		return NULL;
	}
	if (sema_map_put(seen, t->s, svc)) {
		err(S, t->loc, "service '%s' has two columns", t->s);
		return NULL;
	}
	return svc;
}

/* The row's source, or NULL (reported). */
static Source *table_row(Sema *S, const AstStmt *row, NameMap *seen)
{
	const AstTok *t = &row->name;
	Source *src = sema_map_get(&S->src_map, t->s);
	Source *old;

	if (!src) {
		if (sema_map_get(&S->svc_map, t->s))
			err(S, t->loc, "'%s' is a service; each row starts with a source", t->s);
		else
			sema_unknown(S, t->loc, "source", t->s, S->src_names, S->sources.n);
		return NULL;
	}
	if ((old = sema_map_put(seen, t->s, src))) {
		err(S, t->loc, "source '%s' has two rows (the first is at line %d)", t->s,
		    old->row_loc.first_line);
		return NULL;
	}
	return src;
}

static CellKind cell_kind(Sema *S, const AstCell *c, Loc loc)
{
	static const char *const words[] = { "allow", "deny" };

	if (c->s[0] == 'a' && !strcmp(c->s, "allow"))
		return CELL_ALLOW;
	if (c->s[0] == 'd' && !strcmp(c->s, "deny"))
		return CELL_DENY;
	if (c->s[0] == '-' && !c->s[1])
		return CELL_NONE;
	const char *hint = diag_suggest(c->s, words, 2);

	if (hint)
		err(S, loc, "'%s' is not a cell; did you mean '%s'? (a cell is allow, deny or -)", c->s, hint);
	else
		err(S, loc, "'%s' is not a cell: write allow, deny or -", c->s);
	return CELL_NONE;
}

/* The catch-all row must be last and decide every network service. */
static void table_catch_all(Sema *S)
{
	Policy *p = S->p;
	int rows = 0;

	for (int r = 0; r < p->n_sources; r++) {
		Source *src = p->sources[r];

		if (!src->catch_all)
			continue;
		rows++;
		if (r != p->n_sources - 1)
			err(S, src->row_loc, "the catch-all row '%s' must be the last row (it decides every packet, so rows below it are never reached)",
			    src->name);
		for (int c = 0; c < p->n_services; c++) {
			Cell *cell = policy_cell(p, r, c);

			if (service_is_network(p->services[c]) && cell->kind == CELL_NONE)
				err(S, cell->loc, "the catch-all row '%s' leaves %s service '%s' undecided: write allow or deny",
				    src->name, p->services[c]->kind == SVC_TCP ? "tcp" : "udp",
				    p->services[c]->name);
		}
	}
	if (rows == 0)
		err(S, S->trust->loc, "the trust table has no catch-all row: add a source with `via any` as its last row, so every packet is decided");
}

/* Order of network services for the overlap sweep: protocol, first port. */
static int svc_port_cmp(const void *x, const void *y)
{
	const Service *a = *(Service *const *)x, *b = *(Service *const *)y;

	if (a->kind != b->kind)
		return (int)a->kind - (int)b->kind;
	if (a->port_lo != b->port_lo)
		return a->port_lo - b->port_lo;
	return a->index - b->index;
}

/* "tcp 8000-8999" (arena). */
static const char *svc_ports(Sema *S, const Service *s)
{
	const char *proto = s->kind == SVC_TCP ? "tcp" : "udp";

	if (s->port_lo == s->port_hi)
		return arena_printf(S->a, "%s %d", proto, s->port_lo);
	return arena_printf(S->a, "%s %d-%d", proto, s->port_lo, s->port_hi);
}

/* What a cell does to its service, as a verb for diagnostics. */
static const char *cell_verb(CellKind k)
{
	return k == CELL_ALLOW ? "allows" : k == CELL_DENY ? "denies" : "leaves to the rows below";
}

/* Report that row r gives services s1 and s2, whose ports overlap,
 * different cells (opposite verdicts, or a verdict and '-'); at the cell
 * of the later column. */
static void conflict(Sema *S, int r, const Service *s1, const Service *s2)
{
	Policy *p = S->p;
	const Service *t;

	if (s1->index > s2->index) {
		t = s1;
		s1 = s2;
		s2 = t;
	}
	const Cell *c1 = policy_cell(p, r, s1->index), *c2 = policy_cell(p, r, s2->index);
	bool undecided = c1->kind == CELL_NONE || c2->kind == CELL_NONE;

	err(S, c2->loc, "row '%s' %s '%s' (%s) but %s '%s' (%s), and their ports overlap: "
	    "the firewall matches ports, so %s "
	    "(give them the same %s or ports that do not overlap)",
	    p->sources[r]->name, cell_verb(c1->kind), s1->name, svc_ports(S, s1),
	    cell_verb(c2->kind), s2->name, svc_ports(S, s2),
	    undecided ? "this row's rule decides the packets of both" : "one rule would decide both",
	    undecided ? "cell" : "verdict");
}

/* Two network services of one protocol whose ports overlap cannot have
 * different cells in one row (opposite verdicts, or a verdict and '-'):
 * the firewall matches the port (not the listen address), so whichever
 * rule came first would decide both, and a row's rule decides the
 * packets of a service the row leaves to the rows below.
 * Per row, a sweep over the services sorted by protocol and first port
 * keeps, for each cell kind, the service reaching the highest port so far:
 * a service overlaps an earlier one of another kind exactly when it
 * overlaps that one. Linear in the size of the table after one sort. */
static void table_conflicts(Sema *S)
{
	Policy *p = S->p;
	Service **v = arena_alloc(S->a, (size_t)p->n_services * sizeof *v);
	int n = 0;

	for (int i = 0; i < p->n_services; i++)
		if (service_is_network(p->services[i]))
			v[n++] = p->services[i];
	qsort(v, (size_t)n, sizeof *v, svc_port_cmp);
	for (int r = 0; r < p->n_sources; r++) {
		const Service *reach[3] = { 0 };	/* by CellKind */

		for (int i = 0; i < n; i++) {
			CellKind k = policy_cell(p, r, v[i]->index)->kind;
			const Service *o;

			if (i > 0 && v[i]->kind != v[i - 1]->kind)
				memset(reach, 0, sizeof reach);
			for (int ok = CELL_NONE; ok <= CELL_DENY; ok++) {
				o = reach[ok];
				if ((CellKind)ok != k && o && o->port_hi >= v[i]->port_lo) {
					conflict(S, r, o, v[i]);
					break;
				}
			}
			if (!reach[k] || reach[k]->port_hi < v[i]->port_hi)
				reach[k] = v[i];
		}
	}
}

/* Does a packet a local process sends (back in on lo) from an address
 * of v's match v? (A network via with no interface, or one lo matches,
 * whatever its addresses.) */
static bool via_covers_lo(const Via *v)
{
	if (v->kind != VIA_NET)
		return false;
	for (int i = 0; i < v->n_ifaces; i++) {
		const IfPattern *f = &v->ifaces[i];

		if (f->wildcard ? !strncmp(f->name, "lo", strlen(f->name))
				: !strcmp(f->name, "lo"))
			return true;
	}
	return v->n_ifaces == 0;
}

/* Does via match every packet arriving on lo, whatever its addresses?
 * (`via any`, or interfaces that include lo and no address list.) */
static bool via_takes_all_lo(const Via *v)
{
	return v->kind == VIA_ANY || (v->n_addrs == 0 && via_covers_lo(v));
}

/* Fill S's lists of rows taking all of lo and of rows with a `via user`,
 * so the checks below look at those rows only. */
static void table_row_kinds(Sema *S)
{
	Policy *p = S->p;

	S->lo_rows = arena_alloc(S->a, ((size_t)p->n_sources + 1) * sizeof *S->lo_rows);
	S->user_rows = arena_alloc(S->a, ((size_t)p->n_sources + 1) * sizeof *S->user_rows);
	S->row_user = arena_alloc(S->a, ((size_t)p->n_sources + 1) * sizeof *S->row_user);
	for (int r = 0; r < p->n_sources; r++) {
		const Source *src = p->sources[r];
		bool lo = false;

		for (int i = 0; i < src->n_vias; i++) {
			lo = lo || via_takes_all_lo(&src->vias[i]);
			if (src->vias[i].kind == VIA_USER && !S->row_user[r])
				S->row_user[r] = &src->vias[i];
		}
		if (lo)
			S->lo_rows[S->n_lo_rows++] = r;
		if (S->row_user[r])
			S->user_rows[S->n_user_rows++] = r;
	}
}

/* The first row deciding column s for every packet on lo, or -1. */
static int lo_row(const Sema *S, int s)
{
	for (int i = 0; i < S->n_lo_rows; i++)
		if (policy_cell(S->p, S->lo_rows[i], s)->kind != CELL_NONE)
			return S->lo_rows[i];
	return -1;
}

/* Can a packet of via v reach service x (a listen address of the other
 * family leaves none)? */
static bool via_meets_service(const Via *v, const Service *x);

/* The first row below the catch-all-of-lo rule that denies network
 * service s to packets arriving on lo: a row with a via that covers lo
 * (no interface, or lo's; any addresses) whose cell denies s, above the
 * first row that decides s for every packet on lo. -1 if none. */
static int lo_deny_row(const Sema *S, int s)
{
	const Policy *p = S->p;

	for (int r = 0; r < p->n_sources; r++) {
		const Source *src = p->sources[r];
		CellKind k = policy_cell(p, r, s)->kind;
		bool covers = false, all = false;

		if (k == CELL_NONE)
			continue;
		for (int i = 0; i < src->n_vias; i++) {
			const Via *v = &src->vias[i];

			if (via_takes_all_lo(v) || (via_covers_lo(v) && via_meets_service(v, p->services[s]))) {
				covers = true;
				all = all || via_takes_all_lo(v);
			}
		}
		if (covers && k == CELL_DENY)
			return r;
		if (all)
			return -1;
	}
	return -1;
}

/* A `via user` row's allow of a tcp/udp service is an accept rule on the
 * output hook; the connection then arrives on lo, where the input hook no
 * longer knows its owner. If a row that covers lo (the catch-all, or a
 * row with no interface, whatever its addresses) denies the service there
 * before a row decides it for all of lo, the user's connections from those
 * addresses are dropped on input: nothing can let them through, so refuse
 * the table rather than emit a rule that cannot work. */
static void table_user_allows(Sema *S)
{
	Policy *p = S->p;

	for (int s = 0; S->n_user_rows && s < p->n_services; s++) {
		int lo = service_is_network(p->services[s]) ? lo_deny_row(S, s) : -1;

		if (lo < 0)
			continue;
		for (int k = 0; k < S->n_user_rows; k++) {
			int r = S->user_rows[k];
			const Source *src = p->sources[r];
			const Via *user = S->row_user[r];

			if (policy_cell(p, r, s)->kind != CELL_ALLOW || r == lo)
				continue;
			err(S, policy_cell(p, r, s)->loc, "row '%s' allows '%s' to processes of user %s, but row '%s' "
			    "(line %d) denies it on lo, where their connections arrive with no owner to tell them apart; "
			    "deny it here too, or allow it in row '%s'",
			    src->name, p->services[s]->name, user->user, p->sources[lo]->name,
			    p->sources[lo]->row_loc.first_line, p->sources[lo]->name);
		}
	}
}

/* Can a packet of via v reach service x (a listen address of the other
 * family leaves none)? */
static bool via_meets_service(const Via *v, const Service *x)
{
	if (!x->has_listen || v->n_addrs == 0)
		return true;
	for (int i = 0; i < v->n_addrs; i++)
		if (v->addrs[i].fam == x->listen.fam)
			return true;
	return false;
}

/* Row a's allow of network service s covers local packets (a via with
 * no interface, or lo's), but row u below it denies s to processes of a
 * user: that deny is a reject on the output hook, which decides their
 * packets before the input hook reaches row a's accept, so row a's cell
 * could never hold for them. Refuse the table. */
static void table_lo_rows_above_user(Sema *S)
{
	Policy *p = S->p;
	int *net_rows, n_net = 0;	/* rows with a via covering lo */

	if (!S->n_user_rows)
		return;
	net_rows = arena_alloc(S->a, ((size_t)p->n_sources + 1) * sizeof *net_rows);
	for (int a = 0; a < p->n_sources; a++)
		for (int i = 0; i < p->sources[a]->n_vias; i++)
			if (via_covers_lo(&p->sources[a]->vias[i])) {
				net_rows[n_net++] = a;
				break;
			}
	for (int s = 0; s < p->n_services; s++) {
		const Service *x = p->services[s];
		int lo;

		if (!service_is_network(x))
			continue;
		lo = lo_row(S, s);
		for (int k = 0; k < n_net && (lo < 0 || net_rows[k] <= lo); k++) {
			int a = net_rows[k];
			const Source *src = p->sources[a];
			const Via *net = NULL;

			if (policy_cell(p, a, s)->kind != CELL_ALLOW)
				continue;
			for (int i = 0; i < src->n_vias && !net; i++)
				if (via_covers_lo(&src->vias[i]) &&
				    via_meets_service(&src->vias[i], x))
					net = &src->vias[i];
			for (int j = 0; net && j < S->n_user_rows; j++) {
				int u = S->user_rows[j];
				const Source *us = p->sources[u];
				const Via *user = S->row_user[u];

				if (u <= a || policy_cell(p, u, s)->kind != CELL_DENY)
					continue;
				err(S, policy_cell(p, a, s)->loc, "row '%s' allows '%s' to packets of local processes (its via on line %d "
				    "covers lo), but row '%s' below it (line %d) denies '%s' to processes of user %s on the "
				    "output hook, which decides their packets before the input hook reaches row '%s'; "
				    "move row '%s' above row '%s', or give row '%s' an interface other than lo",
				    src->name, x->name, net->loc.first_line, us->name,
				    us->row_loc.first_line, x->name, user->user, src->name,
				    us->name, src->name, src->name);
				break;
			}
		}
	}
}

static void sema_table(Sema *S)
{
	Policy *p = S->p;
	AstStmt *t = S->trust;
	int ncol, errs = diag_errors(S->d);
	Service **cols;
	NameMap seen_svc = { 0 }, seen_src = { 0 };

	if (!t) {
		err(S, file_loc(S), "missing trust table: add `trust { ... }` with a column per service and a row per source");
		return;
	}
	p->table_loc = t->loc;
	if (t->list.n == 0) {
		err(S, t->loc, "the trust table is empty: its first line names the services, then comes one row per source");
		return;
	}
	/* the header: list.v[0] is the first name (the row parser's "name") */
	ncol = t->list.n;
	cols = arena_alloc(S->a, (size_t)ncol * sizeof *cols);
	p->services = arena_alloc(S->a, (size_t)ncol * sizeof *p->services);
	sema_map_init(S->a, &seen_svc, ncol);
	for (int j = 0; j < ncol; j++) {
		cols[j] = table_column(S, &t->list.v[j], &seen_svc);
		if (cols[j]) {
			cols[j]->index = p->n_services;
			p->services[p->n_services++] = cols[j];
		}
	}
	/* the rows, in order */
	p->sources = arena_alloc(S->a, (size_t)t->n_body * sizeof *p->sources);
	p->cells = arena_alloc(S->a, (size_t)t->n_body * (size_t)p->n_services * sizeof *p->cells);
	sema_map_init(S->a, &seen_src, t->n_body);
	for (int r = 0; r < t->n_body; r++) {
		AstStmt *row = t->body[r];
		Source *src = table_row(S, row, &seen_src);

		if (row->n_cells != ncol)
			err(S, row->loc, "row '%s' has %d cell%s but the header names %d service%s",
			    row->name.s, row->n_cells, row->n_cells == 1 ? "" : "s",
			    ncol, ncol == 1 ? "" : "s");
		if (!src)
			continue;
		src->index = p->n_sources;
		src->row_loc = row->loc;
		p->sources[p->n_sources] = src;
		for (int j = 0; j < row->n_cells && j < ncol; j++) {
			Loc l = row->loc;

			l.first_col = row->cells[j].col;
			l.last_col = l.first_col + (int)strlen(row->cells[j].s) - 1;
			CellKind k = cell_kind(S, &row->cells[j], l);

			if (cols[j])
				*policy_cell(p, p->n_sources, cols[j]->index) = (Cell){ k, l };
		}
		p->n_sources++;
	}
	for (int i = 0; i < S->sources.n; i++)
		if (S->src_decl[i].index < 0 && sema_map_get(&S->src_map, S->src_decl[i].name) == &S->src_decl[i])
			err(S, S->src_decl[i].loc, "source '%s' is missing from the trust table (add a row for it)",
			    S->src_decl[i].name);
	for (int i = 0; i < S->services.n; i++)
		if (S->svc_decl[i].index < 0 && sema_map_get(&S->svc_map, S->svc_decl[i].name) == &S->svc_decl[i])
			err(S, S->svc_decl[i].loc, "service '%s' is missing from the trust table (add a column for it)",
			    S->svc_decl[i].name);
	if (diag_errors(S->d) == errs) {
		S->table_ok = true;
		table_row_kinds(S);
		table_catch_all(S);
		table_conflicts(S);
		table_user_allows(S);
		table_lo_rows_above_user(S);
	}
}

/* ---- invariants ---- */

static void sema_invariants(Sema *S)
{
	Policy *p = S->p;
	NameMap names = { 0 };

	p->invariants = arena_alloc(S->a, (size_t)S->invariants.n * sizeof *p->invariants);
	sema_map_init(S->a, &names, S->invariants.n);
	for (int i = 0; i < S->invariants.n; i++) {
		AstStmt *st = S->invariants.v[i];
		Invariant *inv = &p->invariants[p->n_invariants++], *old;

		inv->name = st->name.s;
		inv->text = st->a.s;
		sema_check_name(S, &st->name, "invariant");
		if (strlen(inv->text) > TEXT_MAX_LEN)
			err(S, st->a.loc, "an invariant's text has at most %d characters", TEXT_MAX_LEN);
		inv->loc = sema_loc_span(st->loc, st->a.loc);
		if ((old = sema_map_put(&names, inv->name, inv)))
			sema_duplicate(S, st->name.loc, "invariant", inv->name, old->loc);
		if (st->n_body == 0)
			err(S, inv->loc, "invariant '%s' states nothing (add `SOURCE cannot reach SERVICE;`)", inv->name);
		inv->clauses = arena_alloc(S->a, (size_t)st->n_body * sizeof *inv->clauses);
		for (int j = 0; j < st->n_body; j++) {
			AstStmt *c = st->body[j];
			InvClause *ic = &inv->clauses[inv->n_clauses++];

			ic->loc = c->loc;
			ic->can = c->sub;
			ic->source = sema_map_get(&S->src_map, c->name.s);
			if (!ic->source)
				sema_unknown(S, c->name.loc, "source", c->name.s, S->src_names, S->sources.n);
			ic->services = arena_alloc(S->a, (size_t)c->list.n * sizeof *ic->services);
			for (int k = 0; k < c->list.n; k++) {
				Service *svc = sema_map_get(&S->svc_map, c->list.v[k].s);

				if (!svc)
					sema_unknown(S, c->list.v[k].loc, "service", c->list.v[k].s,
						S->svc_names, S->services.n);
				else
					ic->services[ic->n_services++] = svc;
			}
		}
	}
}

/* ---- entry points ---- */

Policy *sema(Arena *a, Diag *d, const Ast *ast, const char *file,
	     const char *text, size_t len)
{
	Sema S = { .a = a, .d = d, .file = file };
	int errs = diag_errors(d);
	Policy *p = arena_alloc(a, sizeof *p);

	p->arena = a;
	p->file = file;
	p->text = text;
	p->text_len = len;
	p->container.uid = -1;
	S.p = p;
	collect(&S, ast);
	sema_policy(&S);
	sema_sources(&S);
	sema_services(&S);
	sema_table(&S);
	sema_invariants(&S);
	sema_mounts(&S);
	sema_privileges(&S);
	sema_identities(&S);
	sema_container(&S);
	sema_wireguard(&S);
	sema_rsyncd(&S);
	sema_spire(&S);
	return diag_errors(d) > errs ? NULL : p;
}

Source *policy_source(const Policy *p, const char *name)
{
	for (int i = 0; i < p->n_sources; i++)
		if (!strcmp(p->sources[i]->name, name))
			return p->sources[i];
	return NULL;
}

Service *policy_service(const Policy *p, const char *name)
{
	for (int i = 0; i < p->n_services; i++)
		if (!strcmp(p->services[i]->name, name))
			return p->services[i];
	return NULL;
}

/* How many packets an egress service covers, for ordering: destination
 * addresses first (all of them when it has none), then any protocol above
 * one, then the number of ports. */
static void egress_measure(const Service *v, double m[3])
{
	m[0] = v->n_dests ? 0 : 1e300;
	for (int i = 0; i < v->n_dests; i++) {
		double n = 1;

		for (int b = v->dests[i].len; b < (v->dests[i].fam == FAM_IP4 ? 32 : 128); b++)
			n *= 2;
		m[0] += n;
	}
	m[1] = v->eproto ? 0 : 1;
	m[2] = v->eproto ? v->port_hi - v->port_lo + 1 : 65536;
}

int policy_egress_cmp(const Service *a, const Service *b)
{
	double ma[3], mb[3];

	egress_measure(a, ma);
	egress_measure(b, mb);
	for (int i = 0; i < 3; i++)
		if (ma[i] != mb[i])
			return ma[i] < mb[i] ? -1 : 1;
	return a->index - b->index;
}

Privilege *policy_privilege(const Policy *p, const char *name)
{
	for (int i = 0; i < p->n_privileges; i++)
		if (!strcmp(p->privileges[i].name, name))
			return &p->privileges[i];
	return NULL;
}
