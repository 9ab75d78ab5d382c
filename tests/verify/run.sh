#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# tests/verify: `fpc verify POLICY --ruleset FILE` on what a real kernel
# holds. Each case loads nft files into a network namespace made here,
# lists them with `nft -j list ruleset`, and verifies policies/default.fp on
# that JSON (golden NAME.out, expected exit status). The listing is also
# kept in fixtures/NAME.json (REGEN=1 rewrites it; the fuzz harness seeds
# from it), and verifying the kept fixture must print the same report.
#
# The seed's ruleset is tests/equiv/seed.nft; its variants are made from it
# here: without its final catch-all (the rootless container path, back in
# on lo, gets through) and with `iifname "podman*" tcp dport 8080 accept`
# at the top. nixos-fw.nft is NixOS's own firewall table, which drops the
# laptop's API traffic on the same hook. rich.nft and exprs.nft hold the
# expressions the importer reads (and some it cannot decide).
. "$(dirname "$0")/../lib.sh"
cd "$TOP"
dir=tests/verify
seed=tests/equiv/seed.nft
policy=policies/default.fp
# as root every case is loaded into a namespace and listed by the kernel;
# as another user the cases verify their checked-in listings (fixtures/)
if have_root; then
	ns=$(ns_add verify) || { fail verify/netns "cannot create a namespace"; exit 1; }
	# the device the netdev tables hook (the laptop's tunnel: a veth here)
	ip netns exec "$ns" ip link add wg0 type veth peer name wg0-peer ||
		fail verify/netns "cannot add a veth wg0 in the namespace"
fi

# the variants of the seed
grep -v -E '^[[:space:]]*tcp dport \{ 8080, 873 \} drop[[:space:]]*$' $seed >"$SCRATCH/nocatch.nft"
awk '{ print } /type filter hook input/ { print "      iifname \"podman*\" tcp dport 8080 accept" }' \
	$seed >"$SCRATCH/podman.nft"
if [ "$(diff $seed "$SCRATCH/nocatch.nft" | grep -c '^<')" -ne 1 ] ||
	[ "$(diff $seed "$SCRATCH/podman.nft" | grep -c '^>')" -ne 1 ]; then
	fail verify/variants "the seed ruleset changed shape; update the variants"
fi
# our own output
"$FPC" $policy -o "$SCRATCH/out" >/dev/null || fail verify/compile "fpc $policy failed"

# run_case NAME STATUS FILE...: load FILEs into the namespace, list, verify
# (without root: verify the case's checked-in listing, fixtures/NAME.json).
run_case() {
	local name=$1 want=$2 rc f json=$SCRATCH/$name.json
	shift 2
	if root_or_skip "verify/$name-kernel" "loads the case into a network namespace"; then
		ip netns exec "$ns" nft flush ruleset
		for f in "$@"; do
			if ! ip netns exec "$ns" nft -f "$f"; then
				fail "verify/$name" "nft -f $f failed"
				return
			fi
		done
		ip netns exec "$ns" nft -j list ruleset >"$json"
		# a new case's fixture is made from its first listing
		if [ -n "${REGEN:-}" ] || [ ! -f "$dir/fixtures/$name.json" ]; then
			cp "$json" "$dir/fixtures/$name.json"
		fi
	else
		json=$dir/fixtures/$name.json
	fi
	"$FPC" verify $policy --ruleset "$json" >"$SCRATCH/$name.raw" 2>&1
	rc=$?
	sed "s|$json|$name.json|g" "$SCRATCH/$name.raw" >"$SCRATCH/$name.out"
	if [ "$rc" -ne "$want" ]; then
		head -30 "$SCRATCH/$name.out"
		fail "verify/$name" "exit status $rc, want $want"
		return
	fi
	golden "verify/$name" "$dir/$name.out" "$SCRATCH/$name.out"
	have_root || return 0
	"$FPC" verify $policy --ruleset "$dir/fixtures/$name.json" 2>&1 |
		sed "s|$dir/fixtures/$name.json|$name.json|g" >"$SCRATCH/$name.fixture"
	if cmp -s "$SCRATCH/$name.out" "$SCRATCH/$name.fixture"; then
		pass "verify/$name-fixture"
	else
		diff -u "$SCRATCH/$name.out" "$SCRATCH/$name.fixture" | head -20
		fail "verify/$name-fixture" "fixtures/$name.json verifies differently from a fresh listing (REGEN=1?)"
	fi
}

# want NAME REGEX WHY: the report of case NAME must hold REGEX
want() {
	if grep -qE -- "$2" "$SCRATCH/$1.out"; then
		pass "verify/$1-$3"
	else
		fail "verify/$1-$3" "no line matching /$2/"
	fi
}

# The seed has no `ct state established,related accept`: the reply to a
# container's connection from local port 873 or 8080 meets its
# `tcp dport { 8080, 873 } drop`, so the internet allow cell is not
# realised (exit 3); the invariants hold.
run_case seed 3 $seed
want seed '^  containers +internet +allow NOT REALISED' replies-dropped
run_case nocatch 1 "$SCRATCH/nocatch.nft"
want nocatch 'containers cannot reach api: FAILS' invariant
want nocatch 'counterexample: tcp .*uid 990 \(flashpods\).*arriving on lo' lo-path
run_case podman 1 "$SCRATCH/podman.nft"
want podman 'counterexample: tcp .*arriving on podman' podman-path
want podman 'inet flashpods input rule 1: iifname "podman\*" tcp dport 8080 accept' rule
run_case nixos 3 $seed $dir/nixos-fw.nft
want nixos '^invariant no_recursive_spawn: holds' invariant-holds
want nixos '^  laptop +api +allow NOT REALISED' cell-not-realised
want nixos 'inet nixos-fw input: no rule matched, chain policy drop' nixos-drop
# tables of families the prover does not model, on the hooks it reasons
# about: a netdev ingress chain on wg0 that drops the laptop's rsync, and
# a bridge chain that drops a container address, make the allow cells on
# the packets they see unprovable (named; exit 3, as an undecodable
# expression does); ones that cannot drop a packet are only noted
run_case netdev 3 $seed $dir/netdev.nft
want netdev '^invariant no_recursive_spawn: holds' invariant-holds
want netdev '^  laptop +rsync +allow CANNOT BE PROVED' rsync-unproved
want netdev '^warning: table netdev edge is not modelled, and its chain ingress \(hook ingress\)' warned
want netdev '^        netdev edge ingress \(hook ingress\): not modelled, may drop it' chain-named
run_case bridge 3 $seed $dir/bridge.nft
want bridge '^  laptop +api +allow CANNOT BE PROVED' api-unproved
want bridge 'bridge ports pre \(hook prerouting\): not modelled' chain-named
run_case unmodelled 3 $seed $dir/unmodelled.nft
want unmodelled '^note: table netdev count is not modelled \(not an IP family\); no base chain' noted
# a `can reach` clause through them: cannot be proved (exit 1) when a
# chain may drop its packets, holds when none can
for c in netdev:1 unmodelled:0; do
	"$FPC" verify $dir/can_reach.fp --ruleset "$dir/fixtures/${c%:*}.json" \
		>"$SCRATCH/can_reach-${c%:*}.out" 2>&1
	rc=$?
	[ "$rc" -eq "${c#*:}" ] && pass "verify/can_reach-${c%:*}" ||
		fail "verify/can_reach-${c%:*}" "exit status $rc, want ${c#*:}"
done
want can_reach-netdev '^  laptop can reach rsync: CANNOT BE PROVED$' unproved
want can_reach-unmodelled '^invariant laptop_works: holds$' holds
run_case emitted 0 "$SCRATCH/out/flashpods.nft"
run_case emitted-nixos 3 "$SCRATCH/out/flashpods.nft" $dir/nixos-fw.nft
want emitted-nixos 'from policies/default.fp:30: laptop +allow' origin
run_case rich 1 $dir/rich.nft
want rich '`fib|`limit rate|dnat' unknown-named
# the rest of the expressions a host holds (their verdicts packet by
# packet are goldens of tests/explain, on fixtures/exprs.json); the one
# it cannot decide is named, and the proofs through it say "may be"
run_case exprs 1 $dir/exprs.nft
want exprs '^undecodable expressions: 1$' one-unknown
want exprs 'input rule 9: `ip saddr \. meta mark \{ 10\.9\.9\.9 \. 1 \}` \(may match or not\)' unknown-named
want exprs 'containers cannot reach api: CANNOT BE PROVED' may-match
want exprs 'may be accepted; the rules on its way' may-be

# malformed input: one clear error line, exit 1, never a crash
for f in $dir/bad/*.json; do
	name=bad-$(basename "$f" .json)
	"$FPC" verify $policy --ruleset "$f" >"$SCRATCH/$name.out" 2>&1
	rc=$?
	if [ "$rc" -eq 1 ] && grep -q "^fpc: error: $f: " "$SCRATCH/$name.out" &&
		[ "$(wc -l <"$SCRATCH/$name.out")" -eq 1 ]; then
		pass "verify/$name"
	else
		head -5 "$SCRATCH/$name.out"
		fail "verify/$name" "exit $rc, want 1 and one 'fpc: error: $f:' line"
	fi
done
"$FPC" verify $policy --ruleset "$SCRATCH/missing.json" >"$SCRATCH/missing.out" 2>&1
[ $? -eq 1 ] && grep -q 'cannot read' "$SCRATCH/missing.out" && pass verify/missing-file ||
	fail verify/missing-file "want exit 1 and 'cannot read'"
"$FPC" verify $policy >/dev/null 2>&1
[ $? -eq 2 ] && pass verify/usage || fail verify/usage "want exit 2 without --ruleset"
