#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# tests/fuzz/campaign.sh (`make fuzz-campaign`): run every libFuzzer harness
# $B/fuzzbuild/fuzz_NAME (built by `make fuzz`) for FUZZ_CAMPAIGN_RUNS
# executions (default 10000000), or FUZZ_CAMPAIGN_SECONDS seconds if that
# is set (whichever comes first), one after the other on one core, on its
# kept corpus tests/fuzz/corpus/fuzz_NAME/ plus the seeds its
# fuzz_NAME.seeds lists. Inputs that reach new code are added to the kept
# corpus, which is then minimised (libFuzzer's -merge=1: the fewest inputs
# with the same coverage) so that it stays small enough to commit. Prints, per harness, executions, executions per
# second, seconds, coverage (libFuzzer's cov: edges and ft: features) and
# corpus size; a crash stops the campaign with exit 1, its input kept in
# $B/fuzz-crashes/.
set -u
cd "$(dirname "$0")/../.."
: "${B:=$PWD/build}"
runs=${FUZZ_CAMPAIGN_RUNS:-10000000}
secs=${FUZZ_CAMPAIGN_SECONDS:-0}
only=${FUZZ_CAMPAIGN_ONLY:-}
crashes=$B/fuzz-crashes
mkdir -p "$crashes"
seeds=$(mktemp -d)
trap 'rm -rf "$seeds"' EXIT
rc=0
printf '%-14s %12s %9s %8s %8s %8s %8s\n' harness execs exec/s seconds cov ft corpus
# (corpus: the kept inputs after minimising)
for h in tests/fuzz/fuzz_*.c; do
	name=$(basename "$h" .c)
	[ -z "$only" ] || [[ " $only " == *" $name "* ]] || continue
	bin=$B/fuzzbuild/$name
	kept=tests/fuzz/corpus/$name
	[ -x "$bin" ] || { echo "$name: $bin not built (make fuzz)"; rc=1; continue; }
	mkdir -p "$kept" "$seeds/$name"
	if [ -f "tests/fuzz/$name.seeds" ]; then
		while IFS= read -r glob; do
			case $glob in ''|'#'*) continue ;; esac
			for f in $glob; do [ -f "$f" ] && cp "$f" "$seeds/$name/"; done
		done <"tests/fuzz/$name.seeds"
	fi
	log=$B/fuzz-campaign-$name.log
	t0=$(date +%s.%N)
	"$bin" -runs="$runs" ${secs:+-max_total_time=$secs} -timeout=20 -rss_limit_mb=2048 \
		-print_final_stats=1 -artifact_prefix="$crashes/$name-" \
		"$kept" "$seeds/$name" >"$log" 2>&1
	st=$?
	t=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.0f", b - a }')
	n=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
	ft=$(grep -o 'ft: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
	if [ "$st" -eq 0 ]; then
		rm -rf "$kept.min" && mkdir "$kept.min" &&
			"$bin" -merge=1 "$kept.min" "$kept" >>"$log" 2>&1 &&
			rm -rf "$kept" && mv "$kept.min" "$kept"
	fi
	printf '%-14s %12s %9s %8s %8s %8s %8s\n' "$name" "${n:-?}" \
		"$(( ${n:-0} / (t > 0 ? t : 1) ))" "$t" "${cov:-?}" "${ft:-?}" \
		"$(find "$kept" -type f | wc -l)"
	if [ "$st" -ne 0 ]; then
		grep -E 'ERROR|SUMMARY|Test unit written' "$log" | head -5
		rc=1
		[ -n "${FUZZ_CAMPAIGN_KEEP_GOING:-}" ] || break
	fi
done
exit $rc
