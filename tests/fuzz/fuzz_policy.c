/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fuzz_policy: the policy parser, checker, formatter, lowering, nft
 * emitter, prover and bundle writer on arbitrary bytes.
 * Whatever parses is formatted; the formatted text must parse again without
 * a diagnostic and format to the same bytes (fmt is idempotent), and must
 * check exactly as the original did. Whatever checks is lowered and
 * emitted twice, to the same bytes; is proved (any verdict); and its
 * bundle (emit_pb) is loaded back with the daemons' loader (bundle_load).
 */
#include "back.h"
#include "bundle.h"
#include "prove.h"
#include "front.h"
#include "ast.h"


/* Parse text; the AST (in a) or NULL when a diagnostic was raised. */
static Ast *parse(Arena *a, const char *text, size_t len, bool *ok)
{
	Diag *d = diag_new();
	Ast *ast;

	diag_add_source(d, "fuzz.fp", text, len);
	ast = parse_policy(a, d, "fuzz.fp", text, len);
	*ok = ast && diag_errors(d) == 0;
	diag_free(d);
	return ast;
}

/* Lower p and print its ruleset twice: the two texts must be the same
 * bytes (the emitter is deterministic), and neither may be empty. Then
 * prove p on it, and load p's bundle as the daemons do. */
static void lower_emit(const Policy *p)
{
	Buf one = { 0 }, two = { 0 }, report = { 0 }, pb = { 0 };
	Ruleset *rs = lower(p);
	char err[BUNDLE_ERR_MAX];
	FpBundle *b;
	Diag *d;

	emit_nft(rs, &one);
	emit_nft(lower(p), &two);
	if (!one.len || one.len != two.len || memcmp(one.data, two.data, one.len) != 0)
		__builtin_trap();	/* the ruleset text is not deterministic */
	d = diag_new();
	(void)prove_policy(p, rs, d, &report);
	diag_free(d);
	/* a refusal is no crash: fpc's driver loads the bundle the same way
	 * and refuses the policy then (e.g. a selector that is not UTF-8) */
	emit_pb(p, &pb);
	b = bundle_load(pb.data, pb.len, err, sizeof err);
	bundle_free(b);
	buf_free(&pb);
	buf_free(&report);
	buf_free(&one);
	buf_free(&two);
}

/* Whether sema accepts ast; what it accepts is lowered and emitted. */
static bool checks(Arena *a, const Ast *ast, const char *text, size_t len)
{
	Diag *d = diag_new();
	Policy *p;

	diag_add_source(d, "fuzz.fp", text, len);
	p = sema(a, d, ast, "fuzz.fp", text, len);
	diag_free(d);
	if (p)
		lower_emit(p);
	return p != NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	Arena *a = arena_new();
	char *text = arena_strndup(a, (const char *)data, size);
	Buf once = { 0 }, twice = { 0 };
	bool ok, ok2;
	Ast *ast, *again;

	if (memchr(data, '\0', size)) {	/* load.c refuses these */
		arena_free(a);
		return 0;
	}
	ast = parse(a, text, size, &ok);
	if (ok) {
		bool valid = checks(a, ast, text, size);

		fmt_policy(ast, text, &once);
		again = parse(a, once.data ? once.data : "", once.len, &ok2);
		if (!ok2)
			__builtin_trap();	/* fmt wrote something unparsable */
		fmt_policy(again, once.data, &twice);
		if (once.len != twice.len ||
		    (once.len && memcmp(once.data, twice.data, once.len) != 0))
			__builtin_trap();	/* fmt is not idempotent */
		if (checks(a, again, once.data ? once.data : "", once.len) != valid)
			__builtin_trap();	/* fmt changed the meaning */
	}
	buf_free(&once);
	buf_free(&twice);
	arena_free(a);
	return 0;
}
