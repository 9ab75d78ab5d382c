#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# tests/equiv: real packets. The seed's hand-written ruleset (seed.nft) and
# the compiled policies/default.fp are each loaded into a fresh host
# namespace wired like the real host (wg0 to a laptop, podman0 and
# cni-podman0 to two containers, eth0 to a stranger), with listeners on tcp
# 8080 873 22 443 and udp 51820 53 (an echo); every probe (a source x a port) is sent
# in both, and the verdicts (open, or blocked: dropped or refused) must agree.
#
#   matrix.expected  the seed's verdicts (REGEN=1 rewrites it)
#   EQUIV_RULESET=F  compare the nft file F against the seed instead of the
#                    compiled default.fp
set -u
. "$(dirname "$0")/../lib.sh"
need_root equiv
cd "$(dirname "$0")"
HERE=$PWD
TOP=${TOP:-$(cd ../.. && pwd)}
B=${B:-$TOP/build}
FPC=${FPC:-$B/fpc}
T=0.8			# seconds a blocked probe waits
PORTS="tcp/8080 tcp/873 tcp/22 tcp/443 udp/51820 udp/53"

ensure_flashpods_user || { fail equiv-user "cannot create the flashpods user"; exit 1; }
FP_UID=$(id -u flashpods)
# the uid default.fp pins for the container user (the rules match it)
PIN_UID=$(sed -n 's/^ *engine .* uid \([0-9][0-9]*\);.*/\1/p' "$TOP/policies/default.fp")
PIN_UID=${PIN_UID:-990}

# The probes: name|namespace|uid (- = root)|source address (- = any)|destination|phase.
# Phase b and c send from a container with the laptop's address; the host
# then routes 10.0.0.2 to that container so a reply can come back.
PROBES="\
laptop 10.0.0.2|lap|-|10.0.0.2|10.0.0.1|a
laptop 10.0.0.3|lap|-|10.0.0.3|10.0.0.1|a
laptop fd00::2|lap|-|fd00::2|fd00::1|a
podman0 10.88.0.2|pod|-|10.88.0.2|10.0.0.1|a
podman0 fd88::2|pod|-|fd88::2|fd00::1|a
podman0 spoof 10.0.0.2|pod|-|10.0.0.2|10.0.0.1|b
cni-podman0 10.89.0.2|cni|-|10.89.0.2|10.0.0.1|a
cni-podman0 fd89::2|cni|-|fd89::2|fd00::1|a
cni-podman0 spoof 10.0.0.2|cni|-|10.0.0.2|10.0.0.1|c
eth0 stranger 192.0.2.2|str|-|192.0.2.2|10.0.0.1|a
eth0 stranger 2001:db8:1::2|str|-|2001:db8:1::2|fd00::1|a
host root -> 127.0.0.1|host|-|-|127.0.0.1|a
host root -> 10.0.0.1|host|-|-|10.0.0.1|a
host root -> ::1|host|-|-|::1|a
host flashpods -> 127.0.0.1|host|$FP_UID|-|127.0.0.1|a
host flashpods -> 10.0.0.1|host|$FP_UID|-|10.0.0.1|a
host flashpods -> ::1|host|$FP_UID|-|::1|a
host uid pinned -> 127.0.0.1|host|$PIN_UID|-|127.0.0.1|a
host uid pinned -> 10.0.0.1|host|$PIN_UID|-|10.0.0.1|a
host uid pinned -> ::1|host|$PIN_UID|-|::1|a"

# veth HOSTNS HOSTIF PEERNS "HOST ADDRS" "PEER ADDRS": a link, addresses,
# and default routes in the peer through the host's first address of each family.
veth() {
	local h=$1 hif=$2 p=$3 a gw4= gw6=
	ip -n "$h" link add "$hif" type veth peer name eth0 netns "$p" || return 1
	for a in $4; do
		ip -n "$h" addr add "$a" dev "$hif" nodad 2>/dev/null || ip -n "$h" addr add "$a" dev "$hif"
		case $a in *:*) gw6=${gw6:-${a%/*}} ;; *) gw4=${gw4:-${a%/*}} ;; esac
	done
	for a in $5; do
		ip -n "$p" addr add "$a" dev eth0 nodad 2>/dev/null || ip -n "$p" addr add "$a" dev eth0
	done
	ip -n "$h" link set "$hif" up && ip -n "$p" link set eth0 up || return 1
	ip -n "$p" route add default via "$gw4" && ip -n "$p" -6 route add default via "$gw6"
}

# topo RUN: fresh namespaces RUN-{host,lap,pod,cni,str}, wired and listening.
topo() {
	local r=$1 h n
	for n in host lap pod cni str; do ns_add "$r-$n" >/dev/null || return 1; done
	h=$NS_TAG-$r-host
	for n in all default; do
		ip netns exec "$h" sysctl -qw net.ipv4.conf.$n.rp_filter=0 || return 1
	done
	veth "$h" wg0 "$NS_TAG-$r-lap" "10.0.0.1/24 fd00::1/64" \
		"10.0.0.2/24 10.0.0.3/24 fd00::2/64" || return 1
	veth "$h" podman0 "$NS_TAG-$r-pod" "10.88.0.1/16 fd88::1/64" \
		"10.88.0.2/16 fd88::2/64 10.0.0.2/32" || return 1
	veth "$h" cni-podman0 "$NS_TAG-$r-cni" "10.89.0.1/16 fd89::1/64" \
		"10.89.0.2/16 fd89::2/64 10.0.0.2/32" || return 1
	veth "$h" eth0 "$NS_TAG-$r-str" "192.0.2.1/24 2001:db8:1::1/64" \
		"192.0.2.2/24 2001:db8:1::2/64" || return 1
	for n in 8080 873 22 443; do
		ip netns exec "$h" socat "TCP6-LISTEN:$n,ipv6only=0,reuseaddr,fork,backlog=256" \
			OPEN:/dev/null &
	done
	# udp: echoes bound to each address, so replies leave from the address asked
	ip netns exec "$h" "$B/tools/udp_echo" 10.0.0.1 51820 127.0.0.1 51820 \
		fd00::1 51820 ::1 51820 10.0.0.1 53 127.0.0.1 53 fd00::1 53 ::1 53 &
	for n in $(seq 50); do
		[ "$(ip netns exec "$h" ss -Hltn | wc -l)" -ge 4 ] &&
			[ "$(ip netns exec "$h" ss -Hlun | wc -l)" -ge 8 ] && return 0
		sleep 0.1
	done
	return 1
}

# probe NS UID SRC DST PROTO PORT: print open, refused (an immediate error:
# reset, ICMP unreachable, a local reject) or dropped (no answer in $T s).
probe() {
	local ns=$1 uid=$2 src=$3 dst=$4 proto=$5 port=$6 fam=4 host=$4 bind= out err ef
	local run=(ip netns exec "$ns")
	[ "$uid" != - ] && run+=(setpriv "--reuid=$uid" "--regid=$uid" --clear-groups)
	case $dst in *:*) fam=6 host="[$dst]" ;; esac
	if [ "$src" != - ]; then
		case $src in *:*) bind=",bind=[$src]" ;; *) bind=",bind=$src" ;; esac
	fi
	if [ "$proto" = tcp ]; then
		err=$("${run[@]}" timeout 3 socat -u /dev/null \
			"TCP$fam:$host:$port,connect-timeout=$T$bind" 2>&1) && { echo open; return; }
	else
		ef=$(mktemp "$SCRATCH/err.XXXXXX")
		out=$(printf ping | "${run[@]}" timeout 3 socat -T"$T" - \
			"UDP$fam:$host:$port$bind" 2>"$ef")
		err=$(cat "$ef"); rm -f "$ef"
		[ "$out" = ping ] && { echo open; return; }
	fi
	case $err in *refused*|*unreachable*|*"not permitted"*) echo refused ;; *) echo dropped ;; esac
}

# run_phase RUN PHASE OUT: every probe of PHASE in RUN's namespaces, in
# parallel; lines "probe name|proto/port|verdict" appended to OUT.
run_phase() {
	local r=$1 phase=$2 out=$3 name ns uid src dst ph pp pids=() i=0
	while IFS='|' read -r name ns uid src dst ph; do
		[ "$ph" = "$phase" ] || continue
		for pp in $PORTS; do
			i=$((i + 1))
			( v=$(probe "$NS_TAG-$r-$ns" "$uid" "$src" "$dst" "${pp%/*}" "${pp#*/}")
			  echo "$name|$pp|$v" > "$out.$phase.$i" ) &
			pids+=($!)
		done
	done <<< "$PROBES"
	wait "${pids[@]}"
	cat "$out.$phase".* >> "$out" 2>/dev/null
	rm -f "$out.$phase".*
}

# route_spoof RUN IF: the host sends replies for 10.0.0.2 to IF's container
# (IF "-": to the laptop again, as in phase a).
route_spoof() {
	if [ "$2" = - ]; then
		ip -n "$NS_TAG-$1-host" route del 10.0.0.2/32 2>/dev/null
		return 0
	fi
	ip -n "$NS_TAG-$1-host" route replace 10.0.0.2/32 dev "$2"
}

# phase_if PHASE: the interface route_spoof takes for a phase.
phase_if() {
	case $1 in b) echo podman0 ;; c) echo cni-podman0 ;; *) echo - ;; esac
}

# retry NAME PORT WAIT: probe again in both runs, waiting WAIT seconds for
# an answer (a loaded machine can be slow), and record the new verdicts.
retry() {
	local want=$1 pp=$2 wait=$3 name ns uid src dst ph r v
	while IFS='|' read -r name ns uid src dst ph; do
		[ "$name" = "$want" ] || continue
		for r in seed comp; do
			route_spoof "$r" "$(phase_if "$ph")"
			v=$(T=$wait probe "$NS_TAG-$r-$ns" "$uid" "$src" "$dst" "${pp%/*}" "${pp#*/}")
			grep -v -F "$name|$pp|" "$SCRATCH/$r.v" > "$SCRATCH/$r.v.new"
			echo "$name|$pp|$v" >> "$SCRATCH/$r.v.new"
			mv "$SCRATCH/$r.v.new" "$SCRATCH/$r.v"
		done
	done <<< "$PROBES"
}

# verdicts RUN RULESET OUT: load RULESET into RUN's host and probe everything.
verdicts() {
	local r=$1 rules=$2 out=$3
	: > "$out"
	ip netns exec "$NS_TAG-$r-host" nft -f "$rules" || return 1
	run_phase "$r" a "$out"
	route_spoof "$r" podman0 && run_phase "$r" b "$out"
	route_spoof "$r" cni-podman0 && run_phase "$r" c "$out"
}

# verdict_of FILE NAME PORT
verdict_of() {
	awk -F'|' -v n="$2" -v p="$3" '$1 == n && $2 == p { print $3 }' "$1"
}

# expected_of NAME PORT: the seed's verdict matrix.expected states.
expected_of() {
	local col=0 i=0 pp
	for pp in $PORTS; do i=$((i + 1)); [ "$pp" = "$2" ] && col=$i; done
	awk -v n="$1" -v c="$col" '{ nm = substr($0, 1, 30); sub(/ +$/, "", nm)
		if (nm == n) { $0 = substr($0, 31); print $c } }' "$HERE/matrix.expected"
}

# matrix FILE [OTHER]: the verdict table, one row per probe (with OTHER,
# a cell reads seed/compiled where the two differ in open vs blocked).
matrix() {
	local name rest pp a b row
	printf '%-30s' probe
	for pp in $PORTS; do printf ' %-9s' "$pp"; done | sed 's/ *$//'
	echo
	while IFS='|' read -r name rest; do
		row=$(printf '%-30s' "$name")
		for pp in $PORTS; do
			a=$(verdict_of "$1" "$name" "$pp")
			if [ -n "${2:-}" ]; then
				b=$(verdict_of "$2" "$name" "$pp")
				if [ "${a/refused/dropped}" != "${b/refused/dropped}" ]; then
					a="$a/$b!"
				elif [ "$a" != "$b" ]; then
					a="$a/$b"
				fi
			fi
			row+=$(printf ' %-9s' "$a")
		done
		echo "${row%"${row##*[! ]}"}"
	done <<< "$PROBES"
}

# the ruleset under test
if [ -n "${EQUIV_RULESET:-}" ]; then
	compiled=$EQUIV_RULESET
elif "$FPC" "$TOP/policies/default.fp" -o "$SCRATCH/out" > "$SCRATCH/fpc.log" 2>&1; then
	compiled=$SCRATCH/out/flashpods.nft
	pass "equiv: fpc compiles policies/default.fp"
else
	compiled=
	fail "equiv: fpc compiles policies/default.fp" "$(tail -3 "$SCRATCH/fpc.log" | tr '\n' ' ')"
fi

start=$(date +%s)
topo seed || { fail "equiv: namespaces for the seed" "topology setup failed"; exit 1; }
if [ -n "$compiled" ]; then
	topo comp || { fail "equiv: namespaces for the compiled ruleset" "topology setup failed"; exit 1; }
fi
verdicts seed "$HERE/seed.nft" "$SCRATCH/seed.v" &
vs=$!
if [ -n "$compiled" ]; then
	verdicts comp "$compiled" "$SCRATCH/comp.v" &
	vc=$!
	wait $vc || fail "equiv: load the compiled ruleset" "nft -f $compiled failed"
fi
wait $vs || fail "equiv: load seed.nft" "nft -f failed"

# Probes whose verdicts differ (seed vs compiled, or the seed vs what its
# table states) are sent again one at a time, waiting 2 s then 4 s for an
# answer, so that a slow answer on a loaded machine (the ASan run beside
# other work) is not taken for a difference. A real difference stays.
for wait in 2 4; do
	while IFS='|' read -r name rest; do
		for pp in $PORTS; do
			a=$(verdict_of "$SCRATCH/seed.v" "$name" "$pp")
			b=$(verdict_of "$SCRATCH/comp.v" "$name" "$pp")
			e=$(expected_of "$name" "$pp")
			if [ "$a" != "$e" ] || { [ -n "$compiled" ] &&
				[ "${a/refused/dropped}" != "${b/refused/dropped}" ]; }; then
				echo "probing again (${wait}s): $name $pp (seed: $a, compiled: ${b:-none})"
				retry "$name" "$pp" "$wait"
			fi
		done
	done <<< "$PROBES"
done

# The harness itself: the seed's verdicts are the ones its table states.
matrix "$SCRATCH/seed.v" > "$SCRATCH/seed.matrix"
golden "equiv: seed verdict matrix" "$HERE/matrix.expected" "$SCRATCH/seed.matrix"

if [ -n "$compiled" ]; then
	n_ok=0 n_bad=0
	while IFS='|' read -r name rest; do
		for pp in $PORTS; do
			a=$(verdict_of "$SCRATCH/seed.v" "$name" "$pp")
			b=$(verdict_of "$SCRATCH/comp.v" "$name" "$pp")
			if [ -n "$a" ] && [ "${a/refused/dropped}" = "${b/refused/dropped}" ]; then
				pass "equiv: $name $pp ($b)"
				n_ok=$((n_ok + 1))
			else
				fail "equiv: $name $pp" "seed: ${a:-none}, compiled: ${b:-none}"
				n_bad=$((n_bad + 1))
			fi
		done
	done <<< "$PROBES"
	echo "verdicts (seed/compiled where they differ; ! = open vs blocked):"
	matrix "$SCRATCH/seed.v" "$SCRATCH/comp.v"
	echo "$n_ok probes agree, $n_bad differ ($(( $(date +%s) - start ))s)"
fi
