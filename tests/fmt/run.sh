#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# tests/fmt: `fpc fmt` prints NAME.fp exactly as NAME.out; formatting that
# output changes nothing; policies/default.fp is already formatted; and for
# every policy of the tests, fmt is idempotent and keeps the meaning (fpc
# check of the formatted text gives the same result).
. "$(dirname "$0")/../lib.sh"
cd "$TOP/tests/fmt"

for f in *.fp; do
	name=${f%.fp}
	if ! "$FPC" fmt "$f" >"$SCRATCH/$name.out" 2>"$SCRATCH/$name.err"; then
		head -5 "$SCRATCH/$name.err"
		fail "fmt/$name" "fpc fmt failed"
		continue
	fi
	golden "fmt/$name" "$name.out" "$SCRATCH/$name.out"
	"$FPC" fmt "$name.out" >"$SCRATCH/$name.again" 2>&1
	if cmp -s "$SCRATCH/$name.out" "$SCRATCH/$name.again"; then
		pass "fmt/$name:idempotent"
	else
		diff -u "$SCRATCH/$name.out" "$SCRATCH/$name.again" | head -20
		fail "fmt/$name:idempotent" "fmt of the output differs"
	fi
done

cd "$TOP"
if "$FPC" fmt policies/default.fp >"$SCRATCH/default.fp" && cmp -s policies/default.fp "$SCRATCH/default.fp"; then
	pass fmt/default-is-formatted
else
	diff -u policies/default.fp "$SCRATCH/default.fp" | head -20
	fail fmt/default-is-formatted "fpc fmt policies/default.fp differs from the file"
fi

# fmt keeps the meaning: same check verdict before and after, and the
# formatted text formats to itself
n=0 bad=0
for f in policies/*.fp tests/compile/*.fp tests/fail/*.fp; do
	[ -f "$f" ] || continue
	n=$((n + 1))
	"$FPC" fmt "$f" >"$SCRATCH/x.fp" 2>/dev/null || continue
	"$FPC" fmt "$SCRATCH/x.fp" >"$SCRATCH/y.fp" 2>/dev/null
	"$FPC" check "$f" >/dev/null 2>&1; a=$?
	"$FPC" check "$SCRATCH/x.fp" >/dev/null 2>&1; b=$?
	if ! cmp -s "$SCRATCH/x.fp" "$SCRATCH/y.fp" || [ "$a" -ne "$b" ]; then
		echo "fmt changes $f (check $a -> $b, or not idempotent)"
		bad=$((bad + 1))
	fi
done
if [ "$bad" -eq 0 ]; then
	pass "fmt/keeps-meaning ($n policies)"
else
	fail fmt/keeps-meaning "$bad of $n policies"
fi
