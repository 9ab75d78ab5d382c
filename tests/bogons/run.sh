#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# tests/bogons: inputs that once crashed something. Each must be rejected
# cleanly: exit status 1, no sanitizer report, no crash, no hang. The
# extension says which program reads it; add a case for a new kind.
. "$(dirname "$0")/../lib.sh"
cd "$TOP/tests/bogons"
shopt -s nullglob

# check NAME STATUSES COMMAND...: run it, want one of STATUSES ("1" or
# "0|1") and no sanitizer or BUG output.
check() {
	local name=$1 want=$2 rc
	shift 2
	timeout 60 "$@" >"$SCRATCH/out" 2>&1
	rc=$?
	if ! [[ "$rc" =~ ^($want)$ ]]; then
		head -5 "$SCRATCH/out"
		fail "bogons/$name" "exit status $rc, want $want"
	elif grep -qE 'Sanitizer|runtime error|BUG:' "$SCRATCH/out"; then
		grep -E 'Sanitizer|runtime error|BUG:' "$SCRATCH/out" | head -3
		fail "bogons/$name" "sanitizer or BUG report"
	else
		pass "bogons/$name"
	fi
}

for f in *; do
	case $f in
	run.sh) ;;
	*.fp)
		check "$f" 1 "$FPC" check "$f"
		# fmt only parses: a policy that parses may format (0), and
		# formatting its output again changes nothing
		check "$f:fmt" '0|1' "$FPC" fmt "$f"
		if "$FPC" fmt "$f" >"$SCRATCH/once.fp" 2>/dev/null; then
			if "$FPC" fmt "$SCRATCH/once.fp" 2>&1 | cmp -s - "$SCRATCH/once.fp"; then
				pass "bogons/$f:fmt-twice"
			else
				fail "bogons/$f:fmt-twice" "fmt of fmt's output differs (not idempotent)"
			fi
		fi
		;;
	*.pb)
		check "$f" 1 "$FPC" dump "$f"
		;;
	*)
		fail "bogons/$f" "no case for this kind of file in tests/bogons/run.sh"
		;;
	esac
done
