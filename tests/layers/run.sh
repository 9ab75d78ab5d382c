#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# tests/layers: one table, every layer. policies/default.fp is compiled as
# it is and with the laptop moved from 10.0.0.2 to 10.0.0.7 (its one `via`
# line edited, nothing else); the two output directories must differ in
# exactly the firewall (flashpods.nft, flashpods.body.nft), the WireGuard
# peer (wireguard.conf, wireguard.json), the rsyncd allowlist (rsyncd.conf)
# and the bundle the daemons enforce again (policy.pb, compared through
# `fpc dump`), each by the address alone: moved.diff is the expected diff.
# Also: default.fp's artifacts of the new layers (default.*), and the
# warning while the laptop's key is the placeholder (placeholder.out).
# (default.NAME.out: NAME as fpc writes it for default.fp)
set -u
. "$(dirname "$0")/../lib.sh"
HERE=$TOP/tests/layers

mkdir -p "$SCRATCH/a" "$SCRATCH/b"
cp "$TOP/policies/default.fp" "$SCRATCH/a/default.fp"
sed 's|^\( *via "wg0" from \)10\.0\.0\.2;|\110.0.0.7;|' "$TOP/policies/default.fp" > "$SCRATCH/b/default.fp"
n=$(diff "$SCRATCH/a/default.fp" "$SCRATCH/b/default.fp" | grep -c '^>')
[ "$n" = 1 ] && pass layers-one-edit || fail layers-one-edit "the move edits $n lines of default.fp, want 1"

for s in a b; do
	(cd "$SCRATCH/$s" && "$FPC" default.fp -o out > fpc.log 2>&1) ||
		{ fail "layers-compile-$s" "$(head -5 "$SCRATCH/$s/fpc.log")"; exit 1; }
	"$FPC" dump "$SCRATCH/$s/out/policy.pb" > "$SCRATCH/$s/out/policy.pb.json" 2>&1
done
pass layers-compile

# the same placeholder warning on every compile, until the key is real
grep -A2 ': warning:' "$SCRATCH/a/fpc.log" > "$SCRATCH/placeholder.out"
golden layers/placeholder "$HERE/placeholder.out" "$SCRATCH/placeholder.out"

# which files differ, and how (the bundle as `fpc dump` prints it; its
# policy_sha256 hashes the text, so it differs too)
(cd "$SCRATCH" && for f in $(ls a/out | grep -v '^policy\.pb$'); do
	diff -U0 --label "a/$f" --label "b/$f" "a/out/$f" "b/out/$f"
done) > "$SCRATCH/moved.diff"
golden layers/moved "$HERE/moved.diff" "$SCRATCH/moved.diff"

# default.fp's artifacts of the layers beside the firewall
for f in wireguard.conf wireguard.json rsyncd.conf rsyncd.json spire-entries.json; do
	golden "layers/default $f" "$HERE/default.$f.out" "$SCRATCH/a/out/$f"
done
