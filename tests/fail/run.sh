#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# tests/fail: every NAME.fp is a bad policy; `fpc check NAME.fp` must exit 1
# and print exactly NAME.err. Big inputs (10 MB, a 100k-character line,
# deep nesting, a NUL byte) are generated into the scratch dir; their
# expected output is gen_NAME.err.
. "$(dirname "$0")/../lib.sh"
here=$TOP/tests/fail

# expect NAME DIR FILE EXPECTED: run fpc check on DIR/FILE, want exit 1 and
# exactly EXPECTED (stdout and stderr together).
expect() {
	local name=$1 dir=$2 file=$3 exp=$4 rc
	(cd "$dir" && timeout 120 "$FPC" check "$file") >"$SCRATCH/$name.out" 2>&1
	rc=$?
	if [ "$rc" -ne 1 ]; then
		head -5 "$SCRATCH/$name.out"
		fail "fail/$name" "exit status $rc, want 1"
		return
	fi
	golden "fail/$name" "$exp" "$SCRATCH/$name.out"
}

for f in "$here"/*.fp; do
	name=$(basename "$f" .fp)
	expect "$name" "$here" "$name.fp" "$here/$name.err"
done

gen=$SCRATCH/gen
mkdir -p "$gen"

# 10 MB: ~170k sources, each with a row, and no catch-all row
awk 'BEGIN {
	print "policy big {\n    table inet big;\n}\nservice api tcp 8080;"
	n = 0; size = 0
	while (size < 10 * 1024 * 1024) {
		s = sprintf("source s%d {\n    via \"wg0\" from 10.%d.%d.%d;\n}\n", n,
			    int(n / 65536) % 256, int(n / 256) % 256, n % 256)
		printf "%s", s; size += length(s) + 12; n++
	}
	print "trust {\n    api"
	for (i = 0; i < n; i++)
		printf "    s%d allow\n", i
	print "}"
}' >"$gen/big.fp"
expect gen_big "$gen" big.fp "$here/gen_big.err"

# one line of 100k characters with a bad address at its end
awk 'BEGIN {
	printf "policy t {\n    table inet t;\n}\nsource laptop { via \"wg0\" from "
	for (i = 0; i < 8300; i++)
		printf "10.%d.%d.1, ", int(i / 256), i % 256
	print "10.0.0.999; }"
}' >"$gen/long_line.fp"
# the generators must keep making what they promise
size=$(stat -c %s "$gen/big.fp")
[ "$size" -ge $((10 * 1024 * 1024)) ] && pass "fail/gen_big is $size bytes" ||
	fail "fail/gen_big size" "only $size bytes"
long=$(awk '{ if (length($0) > m) m = length($0) } END { print m }' "$gen/long_line.fp")
[ "$long" -ge 100000 ] && pass "fail/gen_long_line has a line of $long characters" ||
	fail "fail/gen_long_line length" "its longest line has $long characters"
expect gen_long_line "$gen" long_line.fp "$here/gen_long_line.err"

# 100k nested braces, then as many closing ones
awk 'BEGIN {
	print "policy t {\n    table inet t;\n}"
	for (i = 0; i < 100000; i++) printf "{"
	for (i = 0; i < 100000; i++) printf "}"
	print ""
}' >"$gen/deep.fp"
expect gen_deep "$gen" deep.fp "$here/gen_deep.err"

# a 20 MB string: each diagnostic quotes at most 80 characters of it
awk 'BEGIN {
	printf "policy t {\n    table inet t;\n}\nsource a { via user \""
	for (i = 0; i < 20 * 1024; i++)
		printf "%s", sprintf("%01024d", i)
	print "\"; }"
}' >"$gen/huge_string.fp"
expect gen_huge_string "$gen" huge_string.fp "$here/gen_huge_string.err"

printf 'policy t {\n    table inet t;\0\n}\n' >"$gen/nul.fp"
expect gen_nul "$gen" nul.fp "$here/gen_nul.err"

# a file that is not there, and a directory
expect gen_missing "$gen" no-such.fp "$here/gen_missing.err"
expect gen_directory "$gen" . "$here/gen_directory.err"
