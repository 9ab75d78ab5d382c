#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# tests/netns: the operators' validation list, with real packets, on
# policies/default.fp loaded by `fpc apply --netns`.
#
# Namespaces (all made here, all removed on exit, also on failure):
#   host      wg0 10.0.0.1 fd00::1, podman0 10.88.0.1 fd88::1,
#             cni-podman0 10.89.0.1 fd89::1, eth0 192.0.2.1 2001:db8:1::1;
#             rsync --daemon (module uploads, hosts allow = 10.0.0.2) on 873,
#             fp-apid (or a plain /health listener) on 10.0.0.1:8080, plain
#             listeners on 127.0.0.1:8080 and [::]:8080, forwarding on
#   lap       the laptop, 10.0.0.2 fd00::2, behind wg0
#   pod, cni  a container on each bridge, .2 / ::2
#   str       a stranger behind eth0 and the "internet" (listens on 443)
# A probe is a TCP connect (socat, 1 s); "blocked" is refused or timed out.
# Every blocked check is first run without the table and must connect then,
# so a probe that cannot connect at all never passes as "blocked".
set -u
. "$(dirname "$0")/../lib.sh"
HERE=$(cd "$(dirname "$0")" && pwd)
TOP=${TOP:-$(cd "$HERE/../.." && pwd)}
B=${B:-$TOP/build}
FPC=${FPC:-$B/fpc}
POLICY=$TOP/policies/default.fp

# ---- the outer run: root check, then the checks in a child, then cleanup
if [ -z "${NETNS_INNER:-}" ]; then
	need_root netns
	tag="fpv$$"
	# skips itself without root, saying why
	if id -u nobody >/dev/null 2>&1; then
		out=$(setpriv --reuid=nobody --regid=nogroup --clear-groups \
			env NETNS_INNER=1 TMPDIR=/tmp bash "$HERE/run.sh" 2>&1); rc=$?
		if [ $rc -eq 0 ] && echo "$out" | grep -q "^SKIP netns: needs root"; then
			pass netns-refuses-non-root
		else
			fail netns-refuses-non-root "rc=$rc: $out"
		fi
	fi
	# a run that fails half way still removes its namespaces
	NETNS_INNER=1 NETNS_TAG="${tag}x" NETNS_FAIL_EARLY=1 bash "$HERE/run.sh" >/dev/null 2>&1
	left=$(ip netns list | grep -c "^${tag}x-")
	[ "$left" -eq 0 ] && pass netns-cleanup-on-failure ||
		fail netns-cleanup-on-failure "$left namespaces left"
	NETNS_INNER=1 NETNS_TAG="$tag" bash "$HERE/run.sh"
	left=$(ip netns list | grep -c "^$tag-")
	[ "$left" -eq 0 ] && pass netns-cleanup || fail netns-cleanup "$left namespaces left"
	exit 0
fi

# ---- the inner run
need_root netns
NS_TAG=${NETNS_TAG:-$NS_TAG}
ensure_flashpods_user || { fail netns-user "cannot create the flashpods user"; exit 1; }
FP_UID=$(id -u flashpods)
PIN_UID=$(sed -n 's/^ *engine .* uid \([0-9][0-9]*\);.*/\1/p' "$POLICY")
PIN_UID=${PIN_UID:-990}
# default.fp pins the container user's uid (990, as the NixOS module makes
# it); fp-apid refuses to start when the host's flashpods has another uid,
# so the suite applies default.fp with the pin set to this host's uid (the
# file keeps its name, so rule comments still say default.fp:LINE).
mkdir -p "$SCRATCH/policy"
sed "s/^\( *engine .* uid \)[0-9][0-9]*;/\1$FP_UID;/" "$TOP/policies/default.fp" \
	> "$SCRATCH/policy/default.fp"
POLICY=$SCRATCH/policy/default.fp

H=$(ns_add host) && LAP=$(ns_add lap) && POD=$(ns_add pod) &&
	CNI=$(ns_add cni) && STR=$(ns_add str) || { fail netns-topology "ip netns add"; exit 1; }
[ -n "${NETNS_FAIL_EARLY:-}" ] && { fail netns-early "failing on purpose"; exit 1; }

# addr NS ADDR DEV: add ADDR to DEV (IPv6 without duplicate detection, so
# it is usable at once).
addr() {
	case $2 in
	*:*) ip -n "$1" addr add "$2" dev "$3" nodad ;;
	*) ip -n "$1" addr add "$2" dev "$3" ;;
	esac
}

# link HOSTIF PEERNS "HOST ADDRS" "PEER ADDRS": a veth from the host to
# PEERNS (eth0 there), addresses, the peer's default routes via the host.
link() {
	local hif=$1 p=$2 a gw4= gw6=
	ip -n "$H" link add "$hif" type veth peer name eth0 netns "$p" || return 1
	for a in $3; do
		addr "$H" "$a" "$hif"
		case $a in *:*) gw6=${gw6:-${a%/*}} ;; *) gw4=${gw4:-${a%/*}} ;; esac
	done
	for a in $4; do addr "$p" "$a" eth0; done
	ip -n "$H" link set "$hif" up && ip -n "$p" link set eth0 up &&
		ip -n "$p" route add default via "$gw4" &&
		ip -n "$p" -6 route add default via "$gw6"
}

topology() {
	local n
	for n in all default; do
		ip netns exec "$H" sysctl -qw net.ipv4.conf.$n.rp_filter=0 || return 1
	done
	ip netns exec "$H" sysctl -qw net.ipv4.ip_forward=1 &&
	ip netns exec "$H" sysctl -qw net.ipv6.conf.all.forwarding=1 &&
	link wg0 "$LAP" "10.0.0.1/24 fd00::1/64" "10.0.0.2/24 fd00::2/64" &&
	link podman0 "$POD" "10.88.0.1/16 fd88::1/64" "10.88.0.2/16 fd88::2/64" &&
	link cni-podman0 "$CNI" "10.89.0.1/16 fd89::1/64" "10.89.0.2/16 fd89::2/64" &&
	link eth0 "$STR" "192.0.2.1/24 2001:db8:1::1/64" "192.0.2.2/24 2001:db8:1::2/64"
}
topology || { fail netns-topology "cannot wire the namespaces"; exit 1; }

# ---- daemons
# rsyncd (root) writes uploads as the module's uid, flashpods (the user the
# jobs that read uploads run as); fp-apid drops to flashpods too, so both
# need the scratch space traversable and their directories owned by it.
chmod 0711 "$SCRATCH"
mkdir -p "$SCRATCH/uploads" "$SCRATCH/apid"
chown flashpods:flashpods "$SCRATCH/uploads" "$SCRATCH/apid"
cat > "$SCRATCH/rsyncd.conf" <<EOF
use chroot = no
pid file = $SCRATCH/rsyncd.pid
[uploads]
	path = $SCRATCH/uploads
	comment = Flashpods uploads
	read only = no
	uid = flashpods
	gid = flashpods
	hosts allow = 10.0.0.2
EOF
ip netns exec "$H" rsync --daemon --no-detach --port=873 \
	--config="$SCRATCH/rsyncd.conf" > "$SCRATCH/rsyncd.log" 2>&1 &

health='printf "HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n\r\n{\"status\":\"healthy\"}\n"'
listen() {	# NS ADDRSPEC: a plain HTTP /health answer on ADDRSPEC
	ip netns exec "$1" socat "$2,fork,reuseaddr" SYSTEM:"$health" > /dev/null 2>&1 &
}

"$FPC" "$POLICY" -o "$SCRATCH/out" > "$SCRATCH/fpc.log" 2>&1 ||
	{ fail netns-compile "$(cat "$SCRATCH/fpc.log")"; exit 1; }
# fp-apid on 10.0.0.1:8080 (the address and port the policy gives api), from
# the bundle fpc just wrote; a plain listener only when it is not built.
API=plain
if [ -x "$B/fp-apid" ]; then
	head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$SCRATCH/api-token"
	echo >> "$SCRATCH/api-token"
	chmod 600 "$SCRATCH/api-token"
	ip netns exec "$H" "$B/fp-apid" -b "$SCRATCH/out/policy.pb" -t "$SCRATCH/api-token" \
		--db "$SCRATCH/apid/flashpods.db" --log-dir "$SCRATCH/apid" \
		> "$SCRATCH/apid.log" 2>&1 &
	for _ in $(seq 50); do
		ip netns exec "$H" ss -ltn | grep -q '10.0.0.1:8080' && { API=fp-apid; break; }
		sleep 0.1
	done
	[ "$API" = fp-apid ] && pass netns-apid-started ||
		fail netns-apid-started "$(tail -3 "$SCRATCH/apid.log")"
fi
[ "$API" = plain ] && listen "$H" TCP4-LISTEN:8080,bind=10.0.0.1
echo "8080 on 10.0.0.1: $API"
listen "$H" TCP4-LISTEN:8080,bind=127.0.0.1
listen "$H" TCP6-LISTEN:8080,ipv6only=1
listen "$STR" TCP4-LISTEN:443
listen "$STR" TCP6-LISTEN:443,ipv6only=1
ip netns exec "$H" socat UDP6-RECVFROM:51820,ipv6only=0,fork SYSTEM:'echo pong' > /dev/null 2>&1 &
for _ in $(seq 30); do
	ip netns exec "$H" ss -ltn | grep -q ':873 ' && break
	sleep 0.1
done

# probe NS SRC DST PORT [UID]: 0 when a TCP connection is established.
probe() {
	local ns=$1 src=$2 dst=$3 port=$4 uid=${5:-} tcp=TCP4 opt=
	case $dst in *:*) tcp=TCP6; dst="[$dst]" ;; esac
	[ "$src" != - ] && { case $src in *:*) opt=",bind=[$src]" ;; *) opt=",bind=$src" ;; esac; }
	if [ -n "$uid" ]; then
		ip netns exec "$ns" setpriv --reuid="$uid" --regid="$uid" --clear-groups \
			timeout 3 socat -u OPEN:/dev/null "$tcp:$dst:$port,connect-timeout=1$opt" 2>/dev/null
	else
		ip netns exec "$ns" timeout 3 socat -u OPEN:/dev/null "$tcp:$dst:$port,connect-timeout=1$opt" 2>/dev/null
	fi
}

# The blocked probes: name|ns|uid|src|dst (ports 8080 and 873 each). The
# laptop is allowed from 10.0.0.2 only, so its IPv6 address falls to the
# catch-all row, as in the seed's ruleset.
BLOCKED="\
podman0 container|pod||-|10.0.0.1
podman0 container v6|pod||-|fd00::1
cni-podman0 container|cni||-|10.0.0.1
cni-podman0 container v6|cni||-|fd00::1
stranger|str||-|10.0.0.1
stranger v6|str||-|fd00::1
laptop address spoofed from podman0|pod||10.0.0.2|10.0.0.1
laptop address spoofed from podman0 v6|pod||fd00::2|fd00::1
laptop v6, an address the policy does not name|lap||-|fd00::1
host uid flashpods -> 127.0.0.1|host|$FP_UID|-|127.0.0.1
host uid flashpods -> ::1|host|$FP_UID|-|::1
host uid flashpods -> 10.0.0.1|host|$FP_UID|-|10.0.0.1
host pinned uid $PIN_UID -> 127.0.0.1|host|$PIN_UID|-|127.0.0.1
host pinned uid $PIN_UID -> ::1|host|$PIN_UID|-|::1
host pinned uid $PIN_UID -> 10.0.0.1|host|$PIN_UID|-|10.0.0.1"

nsof() { case $1 in pod) echo "$POD" ;; cni) echo "$CNI" ;; str) echo "$STR" ;; host) echo "$H" ;; lap) echo "$LAP" ;; esac; }

# spoof ON|OFF: the host routes the laptop's addresses to the podman0
# container (so a reply can come back to a spoofer) and the container holds them.
spoof() {
	if [ "$1" = on ]; then
		ip -n "$POD" addr add 10.0.0.2/32 dev eth0 2>/dev/null
		ip -n "$POD" addr add fd00::2/128 dev eth0 nodad 2>/dev/null
		ip -n "$H" route add 10.0.0.2/32 dev podman0 2>/dev/null
		ip -n "$H" -6 route add fd00::2/128 dev podman0 2>/dev/null
		# resolve the neighbours both ways first (ping is not filtered), so
		# a probe's one try is decided by the table, not by discovery
		ip netns exec "$POD" ping -q -c 1 -W 2 -I 10.0.0.2 10.0.0.1 > /dev/null 2>&1
		ip netns exec "$POD" ping -q -c 1 -W 2 -I fd00::2 fd00::1 > /dev/null 2>&1
	else
		ip -n "$H" route del 10.0.0.2/32 dev podman0 2>/dev/null
		ip -n "$H" -6 route del fd00::2/128 dev podman0 2>/dev/null
		ip -n "$POD" addr del 10.0.0.2/32 dev eth0 2>/dev/null
		ip -n "$POD" addr del fd00::2/128 dev eth0 2>/dev/null
	fi
}

# probe3 ARGS...: probe, tried up to three times: for what must connect (a
# first packet can wait on neighbour discovery longer than the 1 s connect
# timeout on a loaded machine). Blocked checks probe once.
probe3() {
	local try
	for try in 1 2 3; do
		if probe "$@"; then
			[ "$try" = 1 ] || echo "note: probe $* connected on try $try"
			return 0
		fi
	done
	return 1
}

# run_blocked WANT: every blocked probe on 8080 and 873; WANT open (control,
# no table) or blocked. One PASS/FAIL per probe and port.
run_blocked() {
	local want=$1 name ns uid src dst port spoofing p=probe
	[ "$want" = open ] && p=probe3
	while IFS='|' read -r name ns uid src dst; do
		spoofing=; case $name in *spoofed*) spoofing=1; spoof on ;; esac
		for port in 8080 873; do
			if $p "$(nsof "$ns")" "$src" "$dst" "$port" "$uid"; then got=open; else got=blocked; fi
			if [ "$got" = "$want" ]; then
				pass "$want-${name// /_}-$port"
			else
				fail "$want-${name// /_}-$port" "expected $want, got $got"
			fi
		done
		[ -n "$spoofing" ] && spoof off
	done <<< "$BLOCKED"
}

# ---- control: without the table every probe connects
run_blocked open

# ---- the policy, applied with fpc apply --netns
if "$FPC" apply "$POLICY" --netns "$H" > "$SCRATCH/apply.log" 2>&1; then
	pass netns-apply
else
	fail netns-apply "$(cat "$SCRATCH/apply.log")"
fi
run_blocked blocked

# the laptop: /health and the rsync module list
code=$(ip netns exec "$LAP" curl -s -o "$SCRATCH/health" -w '%{http_code}' -m 5 http://10.0.0.1:8080/health)
[ "$code" = 200 ] && grep -q healthy "$SCRATCH/health" && pass laptop-health ||
	fail laptop-health "HTTP $code from $API: $(head -c 200 "$SCRATCH/health" 2>/dev/null)"
mods=$(ip netns exec "$LAP" timeout 10 rsync rsync://10.0.0.1/ 2>&1)
echo "$mods" | grep -q '^uploads' && pass laptop-rsync-list || fail laptop-rsync-list "$mods"
echo probe > "$SCRATCH/f.txt"
ip netns exec "$LAP" timeout 10 rsync -q "$SCRATCH/f.txt" rsync://10.0.0.1/uploads/ &&
	[ -f "$SCRATCH/uploads/f.txt" ] && pass laptop-rsync-upload ||
	fail laptop-rsync-upload "upload to the uploads module failed"

# what the table allows still works: containers reach the internet
for c in pod cni; do
	for dst in 192.0.2.2 2001:db8:1::2; do
		if probe3 "$(nsof $c)" - "$dst" 443; then pass "internet-$c-$dst-443"; else
			fail "internet-$c-$dst-443" "a container cannot reach the internet"; fi
	done
done
probe3 "$LAP" - 10.0.0.1 8080 && pass laptop-8080-open || fail laptop-8080-open "blocked"
# root on the host is not a source of its own: its loopback connection falls
# to the catch-all row and is dropped, as the seed's `tcp dport { 8080, 873 }
# drop` drops it (tests/equiv/matrix.expected, "host root -> 127.0.0.1").
probe "$H" - 127.0.0.1 8080 && fail host-root-8080-as-seed "root on the host reaches 8080" ||
	pass host-root-8080-as-seed
for _ in 1 2 3; do
	pong=$(echo ping | ip netns exec "$STR" timeout 3 socat - UDP6:[2001:db8:1::1]:51820 2>/dev/null)
	[ "$pong" = pong ] && break
done
[ "$pong" = pong ] && pass stranger-wireguard-udp || fail stranger-wireguard-udp "no answer on udp 51820"

# ---- verify-live
out=$("$FPC" verify-live "$POLICY" --netns "$H" 2>&1); rc=$?
[ $rc -eq 0 ] && pass verify-live-clean || fail verify-live-clean "rc=$rc: $out"
ip netns exec "$H" nft insert rule inet flashpods input iifname '"podman*"' tcp dport 8080 accept
out=$("$FPC" verify-live "$POLICY" --netns "$H" 2>&1); rc=$?
if [ $rc -ne 0 ] && echo "$out" | grep -q 'containers cannot reach api: FAILS' &&
   echo "$out" | grep -q 'counterexample: tcp .* -> 10.0.0.1:8080, .*arriving on podman0' &&
   echo "$out" | grep -q 'inet flashpods input rule 1: iifname "podman\*" tcp dport 8080 accept' &&
   echo "$out" | grep -q 'drift: rule handle [0-9]* in chain input .*iifname "podman\*" tcp dport 8080 accept'; then
	pass verify-live-hand-rule
else
	fail verify-live-hand-rule "rc=$rc: $out"
fi
probe3 "$POD" - 10.0.0.1 8080 && pass hand-rule-really-opens || fail hand-rule-really-opens "the inserted rule did not open 8080"
"$FPC" apply "$POLICY" --netns "$H" > /dev/null 2>&1
ip netns exec "$H" nft -f - <<'EOF'
table ip block {
	chain input {
		type filter hook input priority -10; policy accept;
		ip saddr 10.0.0.2 tcp dport 8080 drop
	}
}
EOF
out=$("$FPC" verify-live "$POLICY" --netns "$H" 2>&1); rc=$?
if [ $rc -ne 0 ] && echo "$out" | grep -q 'laptop  *api  *allow NOT REALISED' &&
   echo "$out" | grep -q 'ip block input rule 1: ip saddr 10.0.0.2 tcp dport 8080 drop'; then
	pass verify-live-unrealised-allow
else
	fail verify-live-unrealised-allow "rc=$rc: $out"
fi
probe "$LAP" - 10.0.0.1 8080 && fail other-table-really-drops "laptop still reaches 8080" ||
	pass other-table-really-drops
ip netns exec "$H" nft delete table ip block

# ---- --confirm-timeout
ip netns exec "$H" nft add rule inet flashpods input counter comment '"the old table"'
# listings without counter values (packets keep arriving on the host)
listing() { ip netns exec "$H" nft list ruleset | sed 's/counter packets [0-9]* bytes [0-9]*/counter/'; }
listing > "$SCRATCH/old"
out=$("$FPC" apply "$POLICY" --netns "$H" --confirm-timeout 2 < /dev/null 2>&1); rc=$?
listing > "$SCRATCH/after"
[ $rc -ne 0 ] && cmp -s "$SCRATCH/old" "$SCRATCH/after" && pass confirm-timeout-restores ||
	fail confirm-timeout-restores "rc=$rc: $out: $(diff "$SCRATCH/old" "$SCRATCH/after")"
"$FPC" apply "$POLICY" --netns "$H" --confirm-timeout 20 < /dev/null > "$SCRATCH/wait" 2>&1 &
wpid=$!
for _ in $(seq 50); do grep -q waiting "$SCRATCH/wait" && break; sleep 0.1; done
cout=$("$FPC" apply --confirm --netns "$H" 2>&1); crc=$?
wait $wpid; rc=$?
ip netns exec "$H" nft list ruleset > "$SCRATCH/kept"
if [ $crc -eq 0 ] && [ $rc -eq 0 ] && ! grep -q "the old table" "$SCRATCH/kept" &&
   grep -q 'default.fp:' "$SCRATCH/kept"; then
	pass confirm-keeps-new
else
	fail confirm-keeps-new "confirm rc=$crc ($cout), apply rc=$rc: $(cat "$SCRATCH/wait")"
fi
exit 0
