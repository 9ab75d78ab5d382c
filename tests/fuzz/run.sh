#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# tests/fuzz: build every libFuzzer harness once (`make fuzz`, clang), then
# run each tests/fuzz/fuzz_NAME.c for $FUZZ_RUNS runs over a copy of the
# seeds its fuzz_NAME.seeds lists (globs relative to the repository, one a
# line). A crash is a FAIL naming the crash file, kept in $B/fuzz-crashes/;
# turn it into a tests/bogons/ case once fixed.
. "$(dirname "$0")/../lib.sh"
cd "$TOP"
runs=${FUZZ_RUNS:-20000}
crashes=$B/fuzz-crashes
mkdir -p "$crashes"

if ! make -s B="$B" fuzz >"$SCRATCH/build.log" 2>&1; then
	tail -20 "$SCRATCH/build.log"
	for h in tests/fuzz/fuzz_*.c; do
		fail "fuzz/$(basename "$h" .c)" "make B=$B fuzz failed"
	done
	exit 0
fi

for h in tests/fuzz/fuzz_*.c; do
	name=$(basename "$h" .c)
	bin=$B/fuzzbuild/$name
	corpus=$SCRATCH/corpus-$name
	mkdir -p "$corpus"
	if [ ! -x "$bin" ]; then
		fail "fuzz/$name" "$bin was not built"
		continue
	fi
	n=0
	if [ -f "tests/fuzz/$name.seeds" ]; then
		while IFS= read -r glob; do
			case $glob in ''|'#'*) continue ;; esac
			for f in $glob; do
				[ -f "$f" ] || continue
				cp "$f" "$corpus/seed-$n-$(basename "$f")"
				n=$((n + 1))
			done
		done <"tests/fuzz/$name.seeds"
	fi
	# and the corpus kept by `make fuzz-campaign` (tests/fuzz/campaign.sh)
	for f in tests/fuzz/corpus/"$name"/*; do
		[ -f "$f" ] && cp "$f" "$corpus/kept-$(basename "$f")" && n=$((n + 1))
	done
	log=$SCRATCH/$name.log
	"$bin" -runs="$runs" -timeout=20 -rss_limit_mb=2048 -print_final_stats=1 \
		-artifact_prefix="$crashes/$name-" "$corpus" >"$log" 2>&1
	rc=$?
	done_runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	if [ "$rc" -ne 0 ]; then
		grep -E 'ERROR|SUMMARY|Test unit written' "$log" | head -10
		crash=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -1)
		fail "fuzz/$name" "exit $rc after ${done_runs:-?} runs; crash file: ${crash:-see $log}"
		cp "$log" "$crashes/$name.log"
		continue
	fi
	echo "fuzz/$name: $n seeds, ${done_runs:-?} runs"
	pass "fuzz/$name"
done
