#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# bench/scale.sh: how fpc scales with the number of rows (issue 14).
#
#   make B=build all benches && B=build bench/scale.sh [SECONDS] [PEERS] [GRID]
#
# 1. The fleet shape, `bench/gen_policy peers N` for N in PEERS (default
#    "10 100 1000 5000 10000"): N sources of one address each allowed
#    tcp/8080, then a catch-all deny. bench/prove_time compiles each in
#    memory (parse, sema, lower, every artifact, the proof): CPU ms, best of
#    3 runs (1 for N >= 5000), and the process's peak RSS. Then the rules
#    `fpc -o` writes (rule lines of flashpods.nft, a lookup counts once)
#    against the rows, and how many merges nftables' own optimiser proposes
#    (`nft -o -c -f flashpods.nft`, run in a namespace of its own: it checks
#    against a kernel but commits nothing). Last the growth exponents of CPU
#    time and RSS in N (least-squares slope of log y on log N, N >= 100).
# 2. gen_policy's S x V grid (S in GRID, default "10 100 1000 10000"; V 10,
#    100, 500): the same columns. Its local users (`via user benchN`)
#    become `nobody`, a user every host has, so nft can load the text.
# 3. Kernel load (as root): for the largest N of PEERS, the median of 3
#    wall-clock runs of `fpc check`, `fpc apply --netns A` and `nft -f
#    flashpods.nft` into namespace B, against `nft -f` of one named set of
#    N addresses and the two rules that use it (the same decision) into C.
# 4. Per-packet cost (as root, needs hping3), as bench/apply.sh measures
#    it: SYNs to tcp/8080 over a veth (the receiver's end is wg0) from an
#    address in no list, SECONDS (default 5) per cell; first the floor (a
#    table holding only the catch-all drop), then the table fpc apply loads
#    for the largest N of PEERS. ns/packet over the floor = 1e9/pps - 1e9/floor.
#
# Prints Markdown tables. Without root, sections 1 and 2 print "-" for the
# merges and 3 and 4 are skipped. Namespaces are named NS_PREFIX (default
# fp) and the shell's pid, made with tests/lib.sh's ns_add and removed on
# exit. Benchmarks measure; they assert nothing.
set -u
cd "$(dirname "$0")/.."
B=${B:-build}
B=$(cd "$B" && pwd)
SECS=${1:-5}
PEERS=${2:-10 100 1000 5000 10000}
GRID=${3:-10 100 1000 10000}
GEN=$B/bench/gen_policy
RUN=$B/bench/prove_time
FPC=$B/fpc
for f in "$GEN" "$RUN" "$FPC"; do
	[ -x "$f" ] || { echo "bench/scale.sh: $f missing (make B=$B all benches)" >&2; exit 1; }
done
. tests/lib.sh >/dev/null
NS_TAG=${NS_PREFIX:-fp}$$
ROOT=false
[ "$(id -u)" -eq 0 ] && command -v nft >/dev/null && ROOT=true
if $ROOT; then
	CHK=$(ns_add chk)
fi

# rule_lines FILE: the rules of flashpods.nft, one per rule line of a
# chain (a set or map lookup is one rule, whatever its elements).
rule_lines() {
	awk '/^\tchain / { c = 1; next } /^\t}/ { c = 0 }
	     c && /^\t\t[^\t]/ && !/^\t\t(type|comment) / { n++ } END { print n + 0 }' "$1"
}

# merges FILE: how many merges `nft -o` proposes for FILE, or "-".
merges() {
	$ROOT || { echo -; return; }
	local rc n
	timeout 600 ip netns exec "$CHK" nft -o -c -f "$1" > "$SCRATCH/nfto.txt" 2>&1
	rc=$?
	n=$(grep -c '^Merging:' "$SCRATCH/nfto.txt")
	if [ "$rc" -eq 124 ]; then
		echo timeout
	elif [ "$rc" -ne 0 ] && [ "$n" -eq 0 ]; then
		echo "error ($(grep -m1 -o 'Error: .*' "$SCRATCH/nfto.txt"))"
	else
		echo "$n"
	fi
}

# measure POLICY REPEAT: "cpu_ms rss_mb ir_rules classes rules merges"
measure() {
	local load lower emit prove rules classes rss cpu out=$SCRATCH/out
	read -r load lower emit prove rules classes rss < <("$RUN" "$1" "$2" 2>/dev/null)
	cpu=$(awk -v a="$load" -v b="$lower" -v c="$emit" -v d="$prove" 'BEGIN { printf "%.1f", a + b + c + d }')
	rm -rf "$out"
	"$FPC" "$1" -o "$out" > /dev/null 2>&1 || { echo "$cpu $((rss / 1024)) $rules $classes - -"; return; }
	echo "$cpu $((rss / 1024)) $rules $classes $(rule_lines "$out/flashpods.nft") $(merges "$out/flashpods.nft")"
}

# slope FILE: least-squares slope of log($2) on log($1), lines with $1 >= 100.
slope() {
	awk '$1 >= 100 && $2 > 0 { x = log($1); y = log($2); n++; sx += x; sy += y; sxx += x * x; sxy += x * y }
	     END { if (n < 2) print "-"; else printf "%.2f", (n * sxy - sx * sy) / (n * sxx - sx * sx) }' "$1"
}

echo "## 1. N one-address peers allowed tcp/8080, then a catch-all deny"
echo
echo "| N | rows | rules written | nft -o merges | classes | compile+prove CPU ms | peak RSS MB |"
echo "|---:|---:|---:|---:|---:|---:|---:|"
: > "$SCRATCH/cpu"
: > "$SCRATCH/rss"
for n in $PEERS; do
	"$GEN" peers "$n" > "$SCRATCH/peers$n.fp"
	rep=3
	[ "$n" -ge 5000 ] && rep=1
	read -r cpu rss ir classes rules m < <(measure "$SCRATCH/peers$n.fp" $rep)
	echo "| $n | $((n + 1)) | $rules | $m | $classes | $cpu | $rss |"
	echo "$n $cpu" >> "$SCRATCH/cpu"
	echo "$n $rss" >> "$SCRATCH/rss"
done
echo
echo "Growth exponent in N (N >= 100): CPU $(slope "$SCRATCH/cpu"), RSS $(slope "$SCRATCH/rss")."
echo

echo "## 2. bench/gen_policy S V"
echo
echo "| S | V | rules written | nft -o merges | classes | compile+prove CPU ms | peak RSS MB |"
echo "|---:|---:|---:|---:|---:|---:|---:|"
for v in 10 100 500; do
	for s in $GRID; do
		"$GEN" "$s" "$v" | sed 's/via user bench[0-9]*;/via user nobody;/' > "$SCRATCH/g.fp"
		rep=3
		[ "$s" -ge 10000 ] && rep=1
		read -r cpu rss ir classes rules m < <(measure "$SCRATCH/g.fp" $rep)
		echo "| $s | $v | $rules | $m | $classes | $cpu | $rss |"
	done
done
echo

$ROOT || { echo "(not root: sections 3 and 4 skipped)"; exit 0; }
N=${PEERS##* }
P=$SCRATCH/peers$N.fp

# ms CMD...: wall ms of CMD (output discarded), or "fails".
ms() {
	local t0 t1
	t0=$(date +%s%N)
	"$@" > "$SCRATCH/cmd.log" 2>&1 || { echo fails; return 1; }
	t1=$(date +%s%N)
	echo $(( (t1 - t0) / 1000000 ))
}

# median3 CMD...: the median of 3 timings.
median3() {
	local i
	for i in 1 2 3; do ms "$@" || return; done | sort -n | sed -n 2p
}

# oneset N: the same decision written as one named set of N addresses.
oneset() {
	echo 'table inet bench'
	echo 'delete table inet bench'
	echo 'table inet bench {'
	echo '	set peers {'
	echo '		type ipv4_addr'
	echo '		flags interval'
	awk -v n="$1" 'BEGIN { printf "\t\telements = { "
		for (i = 1; i <= n; i++)
			printf "%s10.%d.%d.%d", (i > 1 ? ", " : ""), int(i / 65536) % 256, int(i / 256) % 256, i % 256
		print " }" }'
	echo '	}'
	echo '	chain input {'
	echo '		type filter hook input priority filter; policy accept;'
	echo '		iifname "wg0" tcp dport 8080 ip saddr @peers accept'
	echo '		tcp dport 8080 drop'
	echo '	}'
	echo '}'
}

LA=$(ns_add load-a)
LB=$(ns_add load-b)
LC=$(ns_add load-c)
"$FPC" "$P" -o "$SCRATCH/pout" > /dev/null
oneset "$N" > "$SCRATCH/oneset.nft"
c=$(median3 "$FPC" check "$P")
a=$(median3 "$FPC" apply "$P" --netns "$LA")
f=$(median3 ip netns exec "$LB" nft -f "$SCRATCH/pout/flashpods.nft")
o=$(median3 ip netns exec "$LC" nft -f "$SCRATCH/oneset.nft")
echo "## 3. Kernel load, $N peers (wall ms, median of 3; $(nproc) cores, nft $(nft --version | awk '{print $2}'))"
echo
echo "| fpc check | fpc apply | apply - check | nft -f flashpods.nft | nft -f one $N-element set | (apply - check) / set | nft -f / set |"
echo "|---:|---:|---:|---:|---:|---:|---:|"
awk -v c="$c" -v a="$a" -v f="$f" -v o="$o" 'BEGIN {
	printf "| %s | %s | %d | %s | %s | %.2f | %.2f |\n", c, a, a - c, f, o, (a - c) / o, f / o }'
echo

command -v hping3 > /dev/null || { echo "(no hping3: section 4 skipped)"; exit 0; }
RX=$(ns_add pkt-rx)
TX=$(ns_add pkt-tx)
ip -n "$RX" link add wg0 type veth peer name eth0 netns "$TX"
ip -n "$RX" addr add 172.16.0.1/24 dev wg0
ip -n "$TX" addr add 172.16.0.2/24 dev eth0
ip -n "$RX" link set wg0 up
ip -n "$TX" link set eth0 up
for d in all default wg0; do ip netns exec "$RX" sysctl -qw "net.ipv4.conf.$d.rp_filter=0"; done

# rate: packets/s the receiver's IP layer takes in during a SECS flood.
rate() {
	local r0 r1
	r0=$(ip netns exec "$RX" awk '/^Ip: [0-9]/ { print $4 }' /proc/net/snmp)
	ip netns exec "$TX" timeout -s INT "$SECS" hping3 -q -S -p 8080 --flood \
		-a 192.168.77.7 172.16.0.1 > /dev/null 2>&1 || true
	r1=$(ip netns exec "$RX" awk '/^Ip: [0-9]/ { print $4 }' /proc/net/snmp)
	echo $(( (r1 - r0) / SECS ))
}

printf 'policy bench { table inet bench; }\nsource anyone { via any; }\nservice api tcp 8080;\ntrust {\n  api\n  anyone deny\n}\n' \
	> "$SCRATCH/floor.fp"
"$FPC" apply "$SCRATCH/floor.fp" --netns "$RX" > /dev/null
floor=$(rate)
"$FPC" apply "$P" --netns "$RX" > /dev/null
rules=$(ip netns exec "$RX" nft list chain inet bench input | grep -c 'dport 8080')
pps=$(rate)
echo "## 4. Per-packet cost, $N peers (hping3 SYN flood, ${SECS} s per cell, from an address in no list)"
echo
echo "| floor packets/s | fpc's table: rules on the way | packets/s | ns/packet over the floor | over the floor |"
echo "|---:|---:|---:|---:|---:|"
awk -v f="$floor" -v p="$pps" -v r="$rules" 'BEGIN {
	printf "| %d | %d | %d | %d | %.1f%% |\n", f, r, p, 1e9 / p - 1e9 / f, 100 * (f / p - 1) }'
