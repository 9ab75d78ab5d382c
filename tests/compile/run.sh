#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# tests/compile: every NAME.fp here (and policies/default.fp as default)
# compiles to exactly NAME.nft (REGEN=1 rewrites them). Each expected
# ruleset must pass `nft -c -f` and load with `nft -f` in a fresh network
# namespace, where `nft list table` must print our table back as we wrote
# it (user names read back as uids). flashpods.body.nft must be the table's
# content byte for byte. Compiling twice gives the same bytes, and a policy
# that fails writes nothing and leaves no temporary file.
set -u
. "$(dirname "$0")/../lib.sh"
HERE=$TOP/tests/compile
# as root the policies' user exists and every ruleset is loaded; as
# another user the goldens still run (the loads are skipped)
if have_root; then
	ensure_flashpods_user || { fail compile-user "cannot create the flashpods user"; exit 1; }
fi

# table_of NFT: the `table F NAME {` line of an emitted file.
table_of() {
	grep -m1 '^table [a-z0-9]* [A-Za-z0-9_-]* {$' "$1"
}

# inner NFT: the lines strictly between the table line and its closing }.
inner() {
	awk '/^table [a-z0-9]+ [A-Za-z0-9_-]+ \{$/ { on = 1; next } on && /^\}$/ { exit } on' "$1"
}

# with_uids FILE: `meta skuid "NAME"` as nft lists it once loaded (the uid).
with_uids() {
	local line user
	while IFS= read -r line; do
		while [[ $line =~ meta\ skuid\ \"([a-z_][a-z0-9_-]*)\" ]]; do
			user=${BASH_REMATCH[1]}
			line=${line/meta skuid \"$user\"/meta skuid $(id -u "$user")}
		done
		printf '%s\n' "$line"
	done < "$1"
}

# check_load NAME EXPECTED: nft -c, nft -f, and the listing round trip.
check_load() {
	local name=$1 exp=$2 ns=$NS_TAG-c-$1 tl
	root_or_skip "compile/$name nft -f" "loads the ruleset in a network namespace" || return
	ns_add "c-$name" >/dev/null || { fail "compile/$name nft -f" "cannot create a namespace"; return; }
	if ip netns exec "$ns" nft -c -f "$exp" 2>"$SCRATCH/$name.nfterr"; then
		pass "compile/$name nft -c"
	else
		fail "compile/$name nft -c" "$(head -3 "$SCRATCH/$name.nfterr" | tr '\n' ' ')"
		return
	fi
	if ! ip netns exec "$ns" nft -f "$exp" 2>"$SCRATCH/$name.nfterr" ||
	   ! ip netns exec "$ns" nft -f "$exp" 2>>"$SCRATCH/$name.nfterr"; then
		fail "compile/$name nft -f" "$(head -3 "$SCRATCH/$name.nfterr" | tr '\n' ' ')"
		return
	fi
	tl=$(table_of "$exp")
	tl=${tl#table }
	tl=${tl% \{}
	# loaded twice: the delete at the top replaces the table, no duplicate rules
	if ip netns exec "$ns" nft list table $tl > "$SCRATCH/$name.listed" 2>&1 &&
	   { echo "table $tl {"; inner "$exp"; echo "}"; } > "$SCRATCH/$name.ours" &&
	   with_uids "$SCRATCH/$name.ours" | cmp -s - "$SCRATCH/$name.listed"; then
		pass "compile/$name nft -f, nft list table"
	else
		with_uids "$SCRATCH/$name.ours" | diff -u - "$SCRATCH/$name.listed" | head -20
		fail "compile/$name nft -f, nft list table" "the kernel's listing differs from the file"
	fi
}

# check_merges CASE NFT: nftables' own optimiser (`nft -o -c -f`, in a
# namespace of its own) finds no rules to merge: runs of rules that differ
# by a key are one lookup already. nft prints "Merging:" for each merge
# it would make.
check_merges() {
	local case=$1 nft=$2 ns
	root_or_skip "$case nft -o" "nft -o checks against a kernel" || return
	ns=$(ns_add "o$((++MERGE_NS))") || { fail "$case nft -o" "cannot create a namespace"; return; }
	if ! ip netns exec "$ns" nft -o -c -f "$nft" > "$SCRATCH/merges.txt" 2>&1; then
		fail "$case nft -o" "$(grep -m1 'Error' "$SCRATCH/merges.txt")"
	elif grep -q '^Merging:' "$SCRATCH/merges.txt"; then
		fail "$case nft -o" "$(grep -c '^Merging:' "$SCRATCH/merges.txt") merges, e.g. $(grep -m1 -A2 '^Merging:' "$SCRATCH/merges.txt" | tail -2 | tr '\n\t' '  ')"
	else
		pass "$case nft -o: nothing to merge"
	fi
	ip netns del "$ns" 2>/dev/null
}
MERGE_NS=0

# compile_one NAME DIR FILE: compile, compare, check the body, load.
compile_one() {
	local name=$1 dir=$2 file=$3 out=$SCRATCH/out-$1
	if ! (cd "$dir" && "$FPC" "$file" -o "$out") > "$SCRATCH/$name.log" 2>&1; then
		head -20 "$SCRATCH/$name.log"
		fail "compile/$name" "fpc $file failed"
		return
	fi
	golden "compile/$name" "$HERE/$name.nft" "$out/flashpods.nft" || return
	if inner "$out/flashpods.nft" | cmp -s - "$out/flashpods.body.nft"; then
		pass "compile/$name body"
	else
		fail "compile/$name body" "flashpods.body.nft is not the table's content"
	fi
	check_load "$name" "$HERE/$name.nft"
	check_merges "compile/$name" "$HERE/$name.nft"
}

n=0
for f in "$HERE"/*.fp; do
	compile_one "$(basename "$f" .fp)" "$HERE" "$(basename "$f")"
	n=$((n + 1))
done
compile_one default "$TOP/policies" default.fp
[ "$n" -ge 12 ] && pass "compile: $n policies besides default.fp" ||
	fail "compile: policies" "only $n policies besides default.fp"

# bench/gen_policy's fleet (N sources of one address, a catch-all deny)
# and its S x V grid: nft -o finds nothing to merge at any size either.
GEN=$B/bench/gen_policy
if [ -x "$GEN" ]; then
	for size in "peers 10" "peers 100" "peers 1000" "peers 5000"; do
		"$GEN" $size > "$SCRATCH/gen.fp" &&
			"$FPC" "$SCRATCH/gen.fp" -o "$SCRATCH/gen" >/dev/null 2>&1 ||
			{ fail "compile: gen_policy $size" "fpc failed"; continue; }
		# replies, one lookup of the N addresses, the catch-all
		rules=$(grep $'^\t\t[^\t]' "$SCRATCH/gen/flashpods.nft" | grep -cv $'^\t\t\(type\|comment\) ')
		[ "$rules" -eq 3 ] && pass "compile: gen_policy $size is 3 rules" ||
			fail "compile: gen_policy $size" "not one lookup: $rules rules"
		check_merges "compile: gen_policy $size" "$SCRATCH/gen/flashpods.nft"
	done
	for size in "10 10" "100 10" "100 100" "1000 10" "10 500"; do
		# (its local users become one every host has, for nft to load)
		"$GEN" $size | sed 's/via user bench[0-9]*;/via user nobody;/' > "$SCRATCH/gen.fp" &&
			"$FPC" "$SCRATCH/gen.fp" -o "$SCRATCH/gen" >/dev/null 2>&1 ||
			{ fail "compile: gen_policy $size" "fpc failed"; continue; }
		check_merges "compile: gen_policy $size" "$SCRATCH/gen/flashpods.nft"
	done
else
	skip "compile: gen_policy nft -o" "$GEN is not built (make benches)"
fi

# A file name nft cannot hold in a comment (a newline, a quote): the
# ruleset still loads, the name written with '_' for those bytes.
odd=$SCRATCH/odd
mkdir -p "$odd"
cp "$TOP/policies/default.fp" "$odd/new
line\".fp"
if (cd "$odd" && "$FPC" "new
line\".fp" -o out) >/dev/null 2>&1 &&
   grep -q '^# Generated by fpc [0-9.]* from new_line_.fp (policy flashpods)' "$odd/out/flashpods.nft" &&
   [ "$(grep -c '^# ' "$odd/out/flashpods.nft")" -eq 3 ]; then
	pass "compile: a newline and a quote in the file name stay in the header line"
	check_load odd-name "$odd/out/flashpods.nft"
else
	fail "compile: odd file name" "$(head -2 "$odd/out/flashpods.nft" 2>&1 | tr '\n' ' ')"
fi

# Determinism: two compiles, every artifact byte-identical.
d1=$SCRATCH/det1 d2=$SCRATCH/det2
if "$FPC" "$TOP/policies/default.fp" -o "$d1" >/dev/null 2>&1 &&
   "$FPC" "$TOP/policies/default.fp" -o "$d2" >/dev/null 2>&1; then
	diffs=$(for f in "$d1"/*; do cmp -s "$f" "$d2/${f##*/}" || echo "${f##*/}"; done)
	[ -z "$diffs" ] && [ -s "$d1/flashpods.nft" ] && pass "compile: deterministic output" ||
		fail "compile: deterministic output" "differs: $diffs"
else
	fail "compile: deterministic output" "fpc failed"
fi

# Atomic output: a failing policy writes nothing, into a new or an existing
# directory; a write that fails leaves no temporary file behind.
bad=$SCRATCH/bad.fp
sed 's/^    laptop     allow  allow/    laptop     allow  allwo/' "$TOP/policies/default.fp" > "$bad"
if "$FPC" "$bad" -o "$SCRATCH/new" >/dev/null 2>&1; then
	fail "compile: failing policy writes nothing" "fpc accepted a bad policy"
elif [ -e "$SCRATCH/new" ]; then
	fail "compile: failing policy writes nothing" "$(ls -A "$SCRATCH/new" | tr '\n' ' ')"
else
	pass "compile: failing policy writes nothing (new directory)"
fi
cp -r "$d1" "$SCRATCH/old"
touch -d '2001-01-01' "$SCRATCH/old"/*
before=$(cd "$SCRATCH/old" && ls -lA --time-style=+%s | md5sum)
"$FPC" "$bad" -o "$SCRATCH/old" >/dev/null 2>&1
after=$(cd "$SCRATCH/old" && ls -lA --time-style=+%s | md5sum)
if [ "$before" = "$after" ] && cmp -s "$SCRATCH/old/flashpods.nft" "$d1/flashpods.nft"; then
	pass "compile: failing policy leaves an existing output untouched"
else
	fail "compile: failing policy leaves an existing output untouched" "$(ls -A "$SCRATCH/old" | tr '\n' ' ')"
fi
mkdir -p "$SCRATCH/blocked/flashpods.body.nft/x"
if "$FPC" "$TOP/policies/default.fp" -o "$SCRATCH/blocked" >/dev/null 2>"$SCRATCH/blocked.err"; then
	fail "compile: failed write" "fpc succeeded although flashpods.body.nft is a directory"
elif ls -A "$SCRATCH/blocked" | grep -q tmp; then
	fail "compile: failed write" "temporary files left: $(ls -A "$SCRATCH/blocked" | tr '\n' ' ')"
elif ! grep -q "flashpods.body.nft" "$SCRATCH/blocked.err"; then
	fail "compile: failed write" "no error naming the file: $(head -2 "$SCRATCH/blocked.err")"
else
	pass "compile: failed write reports the file, leaves no temporary file"
fi

# The examples of README.md ("## Example") and docs/language.md ("## A
# complete example"): the policy in the section's first code block
# compiles, as example.fp, to exactly the ruleset its second block shows.
# doc_block FILE SECTION N: the lines of the Nth code block of the section.
doc_block() {
	awk -v sec="$2" -v want="$3" '/^## / { on = ($0 == sec) } on && /^```/ { n++; next }
		on && n == 2 * want - 1' "$1"
}

# doc_example NAME FILE SECTION
doc_example() {
	local name=$1 d=$SCRATCH/doc-$1
	mkdir -p "$d"
	doc_block "$2" "$3" 1 > "$d/example.fp"
	doc_block "$2" "$3" 2 > "$d/expected.nft"
	if ! [ -s "$d/example.fp" ] || ! [ -s "$d/expected.nft" ]; then
		fail "compile: $name example" "no example policy and ruleset under '$3'"
	elif ! (cd "$d" && "$FPC" example.fp -o out) > "$d/log" 2>&1; then
		fail "compile: $name example" "fpc failed: $(head -3 "$d/log" | tr '\n' ' ')"
	elif cmp -s "$d/expected.nft" "$d/out/flashpods.nft"; then
		pass "compile: $name example compiles to the ruleset it shows"
	else
		diff -u "$d/expected.nft" "$d/out/flashpods.nft" | head -20
		fail "compile: $name example" "the ruleset shown differs from fpc's output"
	fi
}
doc_example README "$TOP/README.md" "## Example"
doc_example language.md "$TOP/docs/language.md" "## A complete example"
