#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# bench/apply.sh: what loading and running fpc's ruleset costs.
#
#   make B=build all benches && B=build bench/apply.sh [SECONDS] [SIZES]
#
# 1. Load time: policies from bench/gen_policy with SIZES sources (default
#    "100 1000 10000") and 20 services. For each, the median of a few runs
#    of `fpc POLICY -o DIR` (parse, lower, prove, write; no kernel), of
#    `fpc apply POLICY --netns A` (parse, lower, prove, one netlink batch)
#    and of `nft -f flashpods.nft` (parse, one netlink batch) into a second
#    namespace, each run replacing the table the previous one loaded. The
#    generator's local users (`via user benchN`) become `nobody`, a user
#    every host has, so both loaders can resolve them.
# 2. Per-packet cost: a policy with one source of N addresses (N = SIZES),
#    which fpc compiles to a set lookup (one rule and set per via of at most
#    4000 addresses, see set_policy), against the same decision written one rule per
#    address. A sender namespace floods SYNs
#    to tcp/8080 with hping3 over a veth (the receiver's end is named wg0)
#    from an address in no list, so every packet walks the whole table to
#    the catch-all drop; the receiver's IP InReceives over SECONDS (default
#    5) gives packets/s. hping3 sends from one core and the receive path runs
#    in its softirq, so the rate falls as the per-packet cost grows. The
#    floor is a table holding only the catch-all drop.
#
# Every namespace is made with tests/lib.sh's ns_add and removed on exit.
# Prints Markdown tables. Run as root.
set -eu
cd "$(dirname "$0")/.."
B=${B:-build}
B=$(cd "$B" && pwd)
SECS=${1:-5}
SIZES=${2:-100 1000 10000}
GEN=$B/bench/gen_policy
FPC=$B/fpc
for f in "$GEN" "$FPC"; do
	[ -x "$f" ] || { echo "bench/apply.sh: $f missing (make B=$B all benches)" >&2; exit 1; }
done
for t in nft hping3; do
	command -v "$t" >/dev/null || { echo "bench/apply.sh: $t is not installed" >&2; exit 1; }
done
[ "$(id -u)" -eq 0 ] || { echo "bench/apply.sh: must run as root (namespaces, nft)" >&2; exit 1; }
. tests/lib.sh >/dev/null

# addrs N: N distinct IPv4 addresses 10.1.0.1..., one per line.
addrs() {
	awk -v n="$1" 'BEGIN { for (i = 1; i <= n; i++) printf "10.%d.%d.%d\n", 1 + int(i / 65536), int(i / 256) % 256, i % 256 }'
}

# set_policy N: a policy whose peers row holds N addresses, in vias of at
# most 4000 (the bundle's limit per via was 4096 when bench/README.md's
# table was measured; keeping the split keeps the ruleset it measured).
set_policy() {
	echo 'policy bench { table inet bench; }'
	echo 'source peers {'
	addrs "$1" | awk '{ printf "%s%s", NR % 4000 == 1 ? "    via \"wg0\" from " : ", ", $1 }
		NR % 4000 == 0 { print ";" } END { if (NR % 4000) print ";" }'
	echo '}'
	echo 'source anyone { via any; }'
	echo 'service api tcp 8080;'
	printf 'trust {\n        api\n  peers allow\n  anyone deny\n}\n'
}

# ms CMD...: run CMD (output discarded) under a MEM_KB address-space cap and
# print its wall time in ms, or "fails" (the reason on stderr).
MEM_KB=${MEM_KB:-$((4 << 20))}
ms() {
	local t0 t1
	t0=$(date +%s%N)
	if ! (ulimit -v "$MEM_KB"; "$@") > "$SCRATCH/cmd.log" 2>&1; then
		echo "bench/apply.sh: failed under a $((MEM_KB >> 20)) GB cap: $* ($(tail -1 "$SCRATCH/cmd.log"))" >&2
		echo fails
		return 1
	fi
	t1=$(date +%s%N)
	echo $(( (t1 - t0) / 1000000 ))
}

# median N CMD...: the median of N timings of CMD, or "fails".
median() {
	local n=$1 i
	shift
	for ((i = 0; i < n; i++)); do ms "$@" || { echo fails; return; }; done |
		sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}

# load_row LABEL POLICY: one row of the load-time table. The nft text is
# the flashpods.nft `fpc POLICY -o` writes or, when fpc refuses to write
# the artifacts (the bundle has limits the ruleset has not), the table fpc
# apply loaded as `nft list table` prints it (marked *).
load_row() {
	local d=${2%.fp} runs=3 c a n net rules=- nftf star=
	mkdir -p "$d"
	c=$(median 1 "$FPC" check "$2")
	[ "$c" != fails ] && [ "$c" -gt 20000 ] && runs=1
	[ "$runs" -gt 1 ] && c=$(median "$runs" "$FPC" check "$2")
	a=$(median "$runs" "$FPC" apply "$2" --netns "$LA")
	nftf=$d/out/flashpods.nft
	if ! "$FPC" "$2" -o "$d/out" > /dev/null 2>&1; then
		nftf=$d/listed.nft
		star='*'
		{ ip netns exec "$LA" nft list tables | awk '{ print; print "delete " $0 }'
		  ip netns exec "$LA" nft list ruleset; } > "$nftf"
	fi
	rules=$(grep -c ' comment "' "$nftf")
	n=$(median "$runs" ip netns exec "$LB" nft -f "$nftf")
	net=$(awk -v a="$a" -v c="$c" 'BEGIN { if (a ~ /^[0-9]+$/ && c ~ /^[0-9]+$/) print a - c; else print "-" }')
	echo "| $1 | $rules | $runs | $c | $a | $net | $n$star |"
}

# ---- 1. load time
LA=$(ns_add load-a)
LB=$(ns_add load-b)
echo "Load time, median of the runs (ms); $(nproc) cores; nft $(nft --version | awk '{print $2}');"
echo "fpc runs under a $((MEM_KB >> 20)) GB address-space cap (\"fails\": it needed more)."
echo "fpc check: parse, lower, prove (no kernel); fpc apply: the same, then one"
echo "netlink batch; their difference is what loading the table costs fpc."
echo
echo "| policy | rules | runs | fpc check | fpc apply | apply - check | nft -f flashpods.nft |"
echo "|---|---:|---:|---:|---:|---:|---:|"
for s in $SIZES; do
	"$GEN" "$s" 20 | sed 's/via user bench[0-9]*;/via user nobody;/' > "$SCRATCH/gen$s.fp"
	load_row "gen_policy $s 20" "$SCRATCH/gen$s.fp"
done
for s in $SIZES; do
	set_policy "$s" > "$SCRATCH/set$s.fp"
	load_row "one source of $s addresses" "$SCRATCH/set$s.fp"
done
ip netns exec "$LA" nft list ruleset > "$SCRATCH/la"
ip netns exec "$LB" nft list ruleset > "$SCRATCH/lb"
cmp -s "$SCRATCH/la" "$SCRATCH/lb" && echo "(the last tables loaded both ways list identically)" ||
	echo "(WARNING: the tables loaded by fpc apply and nft -f differ)"
echo "(* fpc refuses to write this policy's bundle, so nft -f loads the table"
echo "fpc apply loaded, as \`nft list ruleset\` prints it)"

# ---- 2. per-packet cost
RX=$(ns_add pkt-rx)
TX=$(ns_add pkt-tx)
ip -n "$RX" link add wg0 type veth peer name eth0 netns "$TX"
ip -n "$RX" addr add 172.16.0.1/24 dev wg0
ip -n "$TX" addr add 172.16.0.2/24 dev eth0
ip -n "$RX" link set wg0 up
ip -n "$TX" link set eth0 up
for n in all default wg0; do ip netns exec "$RX" sysctl -qw "net.ipv4.conf.$n.rp_filter=0"; done

# linear_nft N: the same decision, one rule per address.
linear_nft() {
	echo 'table inet bench'
	echo 'delete table inet bench'
	echo 'table inet bench {'
	echo '	chain input {'
	echo '		type filter hook input priority filter; policy accept;'
	addrs "$1" | awk '{ printf "\t\tiifname \"wg0\" tcp dport 8080 ip saddr %s accept\n", $1 }'
	echo '		tcp dport 8080 drop'
	echo '	}'
	echo '}'
}

# rate: packets/s the receiver's IP layer takes in during a SECS flood.
rate() {
	local r0 r1
	r0=$(ip netns exec "$RX" awk '/^Ip: [0-9]/ { print $4 }' /proc/net/snmp)
	ip netns exec "$TX" timeout -s INT "$SECS" hping3 -q -S -p 8080 --flood \
		-a 192.168.77.7 172.16.0.1 > /dev/null 2>&1 || true
	r1=$(ip netns exec "$RX" awk '/^Ip: [0-9]/ { print $4 }' /proc/net/snmp)
	echo $(( (r1 - r0) / SECS ))
}

# over PPS: ns/packet at PPS minus the floor's (at $floor packets/s).
over() { awk -v p="$1" -v f="$floor" 'BEGIN { if (p > 0 && f > 0) printf "%d", 1e9 / p - 1e9 / f; else print "-" }'; }

echo
echo "Per-packet cost: SYN flood (hping3) over a veth for ${SECS} s per cell, from an address in no list"
echo
printf 'policy bench { table inet bench; }\nsource anyone { via any; }\nservice api tcp 8080;\ntrust {\n  api\n  anyone deny\n}\n' \
	> "$SCRATCH/floor.fp"
echo "Each row measures its floor first: a table holding only the catch-all drop"
echo "(hping3's send path and the stack); the ns/packet columns subtract it."
echo
echo "| addresses | floor packets/s | fpc (set lookup): rules | packets/s | ns/packet over the floor | one rule per address: rules | packets/s | ns/packet over the floor |"
echo "|---:|---:|---:|---:|---:|---:|---:|---:|"
for n in $SIZES; do
	"$FPC" apply "$SCRATCH/floor.fp" --netns "$RX" > /dev/null
	floor=$(rate)
	"$FPC" apply "$SCRATCH/set$n.fp" --netns "$RX" > /dev/null
	fr=$(ip netns exec "$RX" nft list table inet bench | grep -c 'dport 8080')
	fp=$(rate)
	linear_nft "$n" > "$SCRATCH/lin$n.nft"
	ip netns exec "$RX" nft -f "$SCRATCH/lin$n.nft"
	lr=$(ip netns exec "$RX" nft list table inet bench | grep -c 'dport 8080')
	lp=$(rate)
	echo "| $n | $floor | $fr | $fp | $(over "$fp") | $lr | $lp | $(over "$lp") |"
done
