#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# tests/diff: `fpc diff OLD NEW [--format json]`: trust cells as the
# rulesets decide them, entities added/removed/changed, and a unified diff
# of the flashpods.nft texts. Exit 0 same, 1 changed, 2 error. Each case in
# cases.txt (NAME STATUS ARGS...) has its output in NAME.out.
. "$(dirname "$0")/../lib.sh"
cd "$TOP"
dir=tests/diff

golden_cases diff

# the JSON is valid, its keys sorted, and says what the text says
for name in widened-json changes-json reordered-json; do
	if jq -e '.changed == true' "$dir/$name.out" >/dev/null &&
		jq -S . "$dir/$name.out" | cmp -s - <(jq . "$dir/$name.out"); then
		pass "diff/$name-valid"
	else
		fail "diff/$name-valid" "not JSON with sorted keys and changed=true"
	fi
done
# a widened via shows as a changed cell although the table text did not change
if grep -q '^  laptop -> api: partial -> allow (table: allow)' "$dir/widened.out"; then
	pass diff/widened-cell
else
	fail diff/widened-cell "the widened laptop row is not a changed cell"
fi
# the ruleset diff is a real unified diff: patch turns old into new
"$FPC" $dir/base.fp -o "$SCRATCH/old" >/dev/null && "$FPC" $dir/changes.fp -o "$SCRATCH/new" >/dev/null
sed -n '/^--- /,$p' "$dir/changes.out" >"$SCRATCH/changes.patch"
cp "$SCRATCH/old/flashpods.nft" "$SCRATCH/patched.nft"
if patch -s "$SCRATCH/patched.nft" <"$SCRATCH/changes.patch" &&
	cmp -s "$SCRATCH/patched.nft" "$SCRATCH/new/flashpods.nft"; then
	pass diff/unified-applies
else
	fail diff/unified-applies "the unified diff does not turn the old ruleset into the new"
fi
