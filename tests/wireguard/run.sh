#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# tests/wireguard: the address is the key. fpc's WireGuard artifact for
# tunnel.fp (laptop 10.0.0.2 and phone 10.0.0.3 on wg0) is loaded with
# `wg setconf` into a real tunnel (wireguard-go, userspace) in a host
# namespace; three clients reach it over a veth underlay:
#   laptop    its own key, 10.0.0.2: reaches the host's listener
#   phone     its own key; from 10.0.0.3 WireGuard lets it in (no firewall
#             is loaded here), from the laptop's 10.0.0.2 WireGuard drops it
#   stranger  a key the host does not know: no handshake, nothing gets in
# The listener records each connection's source address; the expected
# record is tests/wireguard/accepted.out.
set -u
. "$(dirname "$0")/../lib.sh"
need_root wireguard
. "$TOP/tests/wireguard/lib.sh"
HERE=$TOP/tests/wireguard

if ! wg_tools_present; then
	fail wireguard-tools "wireguard-go and wg are needed (Debian: wireguard-go wireguard-tools)"
	exit 1
fi
NS_TAG=lyr$$

# ---- keys and the policy
for k in host laptop phone stranger; do
	wg_keypair "$k" > /dev/null || { fail wireguard-keys "wg genkey"; exit 1; }
done
sed -e "s|@LAPTOP_KEY@|$(cat "$WG_DIR/laptop.pub")|" \
	-e "s|@PHONE_KEY@|$(cat "$WG_DIR/phone.pub")|" "$HERE/tunnel.fp.in" > "$SCRATCH/tunnel.fp"
compile_step wireguard-compile "$SCRATCH/tunnel.fp" "$SCRATCH/out" || exit 1
conf=$SCRATCH/out/wireguard.conf
[ -f "$conf" ] || { fail wireguard-artifact "no wireguard.conf"; exit 1; }

# ---- namespaces: the host, three clients, a veth underlay to each
H=$(ns_add host) && L=$(ns_add lap) && P=$(ns_add phone) && X=$(ns_add str) ||
	{ fail wireguard-topology "ip netns add"; exit 1; }
IH=$(wg_ifname h) && IL=$(wg_ifname l) && IP=$(wg_ifname p) && IX=$(wg_ifname x) ||
	{ fail wireguard-topology "interface names"; exit 1; }
wg_veth "$H" 192.0.2.1/30 "$L" 192.0.2.2/30 &&
	wg_veth "$H" 192.0.2.5/30 "$P" 192.0.2.6/30 &&
	wg_veth "$H" 192.0.2.9/30 "$X" 192.0.2.10/30 ||
	{ fail wireguard-topology "underlay"; exit 1; }

# The host's interface: fpc's file, with the private key the operator keeps
# outside the policy, in one `wg setconf` (setconf alone would clear it).
export LOG_LEVEL=verbose	# wireguard-go logs each packet it drops
wg_up "$H" "$IH" host 10.0.0.1/24 || { fail wireguard-host-up "wireguard-go"; exit 1; }
unset LOG_LEVEL
printf '[Interface]\nPrivateKey = %s\n' "$(cat "$WG_DIR/host.key")" > "$WG_DIR/host.head"
if cat "$WG_DIR/host.head" "$conf" | wg_do "$H" wg setconf "$IH" /dev/stdin 2> "$SCRATCH/setconf.err"; then
	pass wireguard-setconf
else
	fail wireguard-setconf "$(cat "$SCRATCH/setconf.err")"
	exit 1
fi
# what the interface holds now: port, both peers, AllowedIPs from the
# policy (one line per section, sorted: wireguard-go keeps no peer order)
wg_do "$H" wg showconf "$IH" | grep -v '^PrivateKey' |
	sed -e "s|$(cat "$WG_DIR/laptop.pub")|LAPTOP_KEY|" -e "s|$(cat "$WG_DIR/phone.pub")|PHONE_KEY|" |
	awk 'BEGIN { RS = "" } { gsub(/\n/, " | "); print }' | sort > "$SCRATCH/showconf.out"
golden wireguard-showconf "$HERE/showconf.out" "$SCRATCH/showconf.out"

# client NS IFNAME KEY ADDR: a tunnel to the host from NS, as KEY, at ADDR.
client() {
	wg_up "$1" "$2" "$3" "$4" &&
		wg_do "$1" wg set "$2" peer "$(cat "$WG_DIR/host.pub")" allowed-ips 10.0.0.1/32 \
			endpoint "$5:51820"
}
client "$L" "$IL" laptop 10.0.0.2/24 192.0.2.1 &&
	client "$P" "$IP" phone 10.0.0.3/24 192.0.2.5 &&
	client "$X" "$IX" stranger 10.0.0.4/24 192.0.2.9 ||
	{ fail wireguard-clients "wireguard-go"; exit 1; }

# The listener: answers "hello" and writes down who connected.
wg_do "$H" socat TCP-LISTEN:8080,bind=10.0.0.1,fork,reuseaddr \
	SYSTEM:'echo hello; echo "$SOCAT_PEERADDR" >> '"$SCRATCH/accepted" > /dev/null 2>&1 &
for _ in $(seq 50); do
	wg_do "$H" ss -ltn | grep -q '10.0.0.1:8080' && break
	sleep 0.1
done

# reach NS: connect to 10.0.0.1:8080 from NS (3 s at most); prints the answer.
reach() {
	wg_do "$1" timeout 5 socat -T 3 - TCP:10.0.0.1:8080,connect-timeout=3 < /dev/null 2>/dev/null
}

got=$(reach "$L")
[ "$got" = hello ] && pass wireguard-laptop-reaches-host ||
	fail wireguard-laptop-reaches-host "got '$got'"

got=$(reach "$P")
[ "$got" = hello ] && pass wireguard-phone-own-address ||
	fail wireguard-phone-own-address "got '$got' (the control: the phone's own address passes WireGuard)"

# The phone takes the laptop's address: its handshake and packets still
# arrive (rx grows), but WireGuard drops them: 10.0.0.2 is the laptop's key.
ip -n "$P" addr del 10.0.0.3/24 dev "$IP" && ip -n "$P" addr add 10.0.0.2/24 dev "$IP"
rx0=$(wg_rx "$H" "$IH" "$(cat "$WG_DIR/phone.pub")")
got=$(reach "$P")
rx1=$(wg_rx "$H" "$IH" "$(cat "$WG_DIR/phone.pub")")
if [ -z "$got" ] && [ "${rx1:-0}" -gt "${rx0:-0}" ] &&
	grep -q 'IPv4 packet with disallowed source address' "$WG_DIR/$IH.log"; then
	pass wireguard-drops-spoofed-source
else
	fail wireguard-drops-spoofed-source "got '$got', rx $rx0 -> $rx1, log: $(tail -3 "$WG_DIR/$IH.log")"
fi

# The stranger: the host knows no such key; nothing is ever decrypted.
got=$(reach "$X")
hs=$(wg_handshake "$X" "$IX" "$(cat "$WG_DIR/host.pub")")
peers=$(wg_do "$H" wg show "$IH" peers | grep -c "$(cat "$WG_DIR/stranger.pub")")
if [ -z "$got" ] && [ "$hs" = 0 ] && [ "$peers" = 0 ]; then
	pass wireguard-stranger-gets-nothing
else
	fail wireguard-stranger-gets-nothing "got '$got', handshake '$hs', known $peers"
fi

# Who got through, in order: the laptop, then the phone from its own address.
golden wireguard-accepted "$HERE/accepted.out" "$SCRATCH/accepted"
