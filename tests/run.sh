#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Run every suite tests/*/run.sh (or those named in $SUITES) and tally.
# A suite prints "PASS name" / "FAIL name: why" / "SKIP name: why" lines;
# anything else it prints is shown as it comes. The last line is
# "N passed, N failed" (and ", N skipped" when a case was skipped: as a
# non-root user, the cases that need root).
set -u
cd "$(dirname "$0")/.."
export TOP=$PWD
: "${B:=$TOP/build}"
export B FPC="$B/fpc" REGEN="${REGEN:-}" FUZZ_RUNS="${FUZZ_RUNS:-20000}"
passed=0 failed=0 skipped=0
failures=()
suites=${SUITES:-$(ls tests/*/run.sh | sed 's|tests/\(.*\)/run.sh|\1|')}
for s in $suites; do
	echo "== $s"
	start=$(date +%s)
	log=$(mktemp)
	bash "tests/$s/run.sh" > >(tee "$log") 2>&1
	rc=$?
	sleep 0.1
	p=$(grep -c '^PASS ' "$log")
	f=$(grep -c '^FAIL ' "$log")
	k=$(grep -c '^SKIP ' "$log")
	while IFS= read -r line; do failures+=("$s: ${line#FAIL }"); done < <(grep '^FAIL ' "$log")
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		f=1
		failures+=("$s: suite exited $rc without reporting a failure")
	fi
	rm -f "$log"
	echo "== $s: $p passed, $f failed$([ "$k" -gt 0 ] && echo ", $k skipped") ($(( $(date +%s) - start ))s)"
	passed=$((passed + p))
	failed=$((failed + f))
	skipped=$((skipped + k))
done
if [ ${#failures[@]} -gt 0 ]; then
	echo "failures:"
	printf '  %s\n' "${failures[@]}"
fi
echo "$passed passed, $failed failed$([ "$skipped" -gt 0 ] && echo ", $skipped skipped")"
[ "$failed" -eq 0 ]
