#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# tests/prove: the proof every compile runs. Invariants and trust cells are
# proved on the emitted ruleset; a failing invariant fails `fpc check` with
# exit 1 and a counterexample (packet, deciding rule, policy line); a cell
# the ruleset does not realise is reported as an emitter bug (checked with
# tests/tools/prove_mutate, which breaks the lowered ruleset on purpose).
. "$(dirname "$0")/../lib.sh"
cd "$TOP"
dir=tests/prove

golden_run prove/default 0 $dir/default.out "$FPC" check policies/default.fp
golden_run prove/ranges 0 $dir/ranges.out "$FPC" check $dir/ranges.fp
golden_run prove/fromonly 0 $dir/fromonly.out "$FPC" check $dir/fromonly.fp
golden_run prove/unix 0 $dir/unix.out "$FPC" verify $dir/unix.fp --ruleset tests/verify/fixtures/emitted.json
golden_run prove/allow_api 1 $dir/allow_api.err "$FPC" check $dir/allow_api.fp
golden_run prove/can_fail 1 $dir/can_fail.err "$FPC" check $dir/can_fail.fp
golden_run prove/mutate-drop 1 $dir/mutate-drop.out "$B/tools/prove_mutate" policies/default.fp drop-catch-all
golden_run prove/mutate-flip 1 $dir/mutate-flip.out "$B/tools/prove_mutate" policies/default.fp flip-first-input
# a verdict map whose elements overlap (a wrong merge) proves nothing of
# the packets it meets: the cells through it cannot be proved
golden_run prove/mutate-overlap 1 $dir/mutate-overlap.out "$B/tools/prove_mutate" tests/compile/ports.fp overlap-map
# a policy long enough that the prover indexes rules and boxes: the same
# proof, and the same counterexamples when the ruleset is broken
golden_run prove/gen40 0 $dir/gen40.out "$FPC" check $dir/gen40.fp
golden_run prove/gen40-flip 1 $dir/gen40-flip.out "$B/tools/prove_mutate" $dir/gen40.fp flip-first-input
golden_run prove/gen40-drop 1 $dir/gen40-drop.out "$B/tools/prove_mutate" $dir/gen40.fp drop-catch-all

# the counterexample of allow_api is a packet the ruleset accepts, shown
# with the policy line of the rule that accepts it
if grep -q 'counterexample: tcp .*:8080' "$SCRATCH/allow_api.out" &&
	grep -q 'accepts it: iifname { "cni-\*", "podman\*" } tcp dport 8080 accept' "$SCRATCH/allow_api.out"; then
	pass prove/allow_api-counterexample
else
	fail prove/allow_api-counterexample "no accepted packet and accepting rule in the report"
fi
# without the catch-all the `anyone deny` cells are not realised: an
# emitter bug, with the packet the chain policy accepts
if grep -q "emitter bug: the ruleset does not realise .anyone deny api." "$SCRATCH/mutate-drop.out" &&
	grep -q 'input inet flashpods input accepts it (chain policy)' "$SCRATCH/mutate-drop.out"; then
	pass prove/mutate-drop-emitter-bug
else
	fail prove/mutate-drop-emitter-bug "no emitter bug for the anyone row"
fi
# compiling writes nothing when the proof fails
rm -rf "$SCRATCH/o"
if ! "$FPC" $dir/allow_api.fp -o "$SCRATCH/o" >/dev/null 2>&1 && [ ! -e "$SCRATCH/o/flashpods.nft" ]; then
	pass prove/no-artifacts-on-failure
else
	fail prove/no-artifacts-on-failure "fpc wrote artifacts for a policy whose proof fails"
fi
