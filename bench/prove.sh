#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# bench/prove.sh: compile and prove time as the trust table grows.
#
#   make B=build all benches && B=build bench/prove.sh [S...]
#
# For S sources (default 10 100 1000 10000) and V services (10 100 500),
# bench/gen_policy writes a policy and bench/prove_time compiles it in
# memory: load (parse, sema), lower, emit every artifact, and the proof
# every compile runs (invariants and every trust cell). Times are the
# process's CPU time in ms, best of 3 runs (1 for S >= 10000), and the
# process's peak resident set in MB. Prints a
# Markdown table, then the growth exponent in S of the proof and of
# compile+prove for each V: the least-squares slope of log(time) against
# log(S) over S >= 100 (smaller tables are all start-up cost).
set -u
cd "$(dirname "$0")/.."
: "${B:=build}"
gen=$B/bench/gen_policy
run=$B/bench/prove_time
for p in "$gen" "$run"; do
	[ -x "$p" ] || { echo "no $p: make B=$B benches" >&2; exit 2; }
done
sizes=${*:-10 100 1000 10000}
work=$(mktemp -d "${TMPDIR:-/tmp}/fpc-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT

echo "| S | V | rules | classes | load ms | lower ms | emit ms | prove ms | compile+prove ms | peak RSS MB |"
echo "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
for v in 10 100 500; do
	for s in $sizes; do
		"$gen" "$s" "$v" >"$work/p.fp" || exit 1
		rep=3
		[ "$s" -ge 10000 ] && rep=1
		read -r load lower emit prove rules classes rss < <("$run" "$work/p.fp" $rep 2>/dev/null)
		total=$(awk -v a="$load" -v b="$lower" -v c="$emit" -v d="$prove" 'BEGIN { printf "%.1f", a + b + c + d }')
		echo "| $s | $v | $rules | $classes | $load | $lower | $emit | $prove | $total | $((rss / 1024)) |"
		echo "$v $s $prove $total" >>"$work/points"
	done
done
echo
# slope of log(y) on log(x) per V, over S >= 100
awk '$2 >= 100 {
	for (k = 0; k < 2; k++) {
		y = log(k ? $4 : $3) ; x = log($2); key = $1 SUBSEP k
		n[key]++; sx[key] += x; sy[key] += y; sxx[key] += x * x; sxy[key] += x * y
	}
	vs[$1] = 1
}
END {
	for (v in vs) {
		line = "V=" v ":"
		for (k = 0; k < 2; k++) {
			key = v SUBSEP k
			if (n[key] < 2) continue
			b = (n[key] * sxy[key] - sx[key] * sy[key]) / (n[key] * sxx[key] - sx[key] * sx[key])
			line = line sprintf(" %s exponent %.2f", k ? "compile+prove" : "prove", b)
		}
		print line
	}
}' "$work/points" | sort -t= -k2 -n
