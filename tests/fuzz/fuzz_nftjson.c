/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fuzz_nftjson: the `nft -j list ruleset` importer on arbitrary bytes, and
 * the prover on whatever it imports: import_nft_json must return a Ruleset
 * or NULL with a reason, never crash; an imported Ruleset must be proved
 * (prove_report) against a small policy and each of its packets decided
 * (prove_packet) without a crash, a BUG or a hang.
 */
#include "prove.h"

static const char policy_text[] =
	"policy fuzz {\n"
	"    table inet flashpods;\n"
	"}\n"
	"source laptop {\n"
	"    via \"wg0\" from 10.0.0.2, fd00::2;\n"
	"}\n"
	"source containers {\n"
	"    via \"podman*\", \"cni-*\";\n"
	"    via user flashpods;\n"
	"}\n"
	"source anyone {\n"
	"    via any;\n"
	"}\n"
	"service api       tcp 8080 on 10.0.0.1;\n"
	"service rsync     tcp 873;\n"
	"service wireguard udp 51820;\n"
	"trust {\n"
	"               api    rsync  wireguard\n"
	"    laptop     allow  allow  -\n"
	"    containers deny   deny   -\n"
	"    anyone     deny   deny   allow\n"
	"}\n"
	"invariant no_recursive_spawn \"containers never reach the API\" {\n"
	"    containers cannot reach api, rsync;\n"
	"    laptop can reach api;\n"
	"}\n";

/* The policy, checked once. */
static Policy *policy(void)
{
	static Policy *p;
	Arena *a;
	Diag *d;
	Ast *ast;

	if (p)
		return p;
	a = arena_new();
	d = diag_new();
	diag_add_source(d, "fuzz.fp", policy_text, sizeof policy_text - 1);
	ast = parse_policy(a, d, "fuzz.fp", policy_text, sizeof policy_text - 1);
	if (ast && !diag_errors(d))
		p = sema(a, d, ast, "fuzz.fp", policy_text, sizeof policy_text - 1);
	if (!p) {
		diag_flush(d, stderr);
		BUG("the fuzz policy does not check");
	}
	diag_free(d);
	return p;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	Arena *a = arena_new();
	Buf err = { 0 }, out = { 0 };
	Ruleset *rs = import_nft_json(a, (const char *)data, size, &err);

	if (rs) {
		ProveStats st;
		Packet pkt;
		Trace tr;

		prove_report(policy(), rs, NULL, &out, &st);
		packet_init(&pkt);
		pkt.iifname = "wg0";
		pkt.saddr[0] = 10, pkt.saddr[3] = 2;
		pkt.dport = 8080;
		prove_packet(rs, &pkt, &tr);
		pkt.path = PKT_LOCAL;
		pkt.oifname = "lo";
		pkt.uid = 990;
		prove_packet(rs, &pkt, &tr);
	} else if (!err.len) {
		BUG("import failed without a reason");
	}
	buf_free(&err);
	buf_free(&out);
	arena_free(a);
	return 0;
}
