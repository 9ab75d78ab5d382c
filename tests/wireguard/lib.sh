# SPDX-License-Identifier: GPL-2.0-or-later
# tests/wireguard/lib.sh: real WireGuard tunnels between network namespaces,
# for suites that need the laptop behind a tunnel. Source tests/lib.sh first.
#
# The kernel's WireGuard module does not load on these machines; Debian's
# wireguard-go (userspace, on /dev/net/tun) and wireguard-tools' `wg` do the
# work. wireguard-go's control socket is /var/run/wireguard/IFNAME.sock,
# shared by every namespace, so each tunnel interface gets a name unique on
# the machine: wg_ifname ROLE gives "$WG_TAG$ROLE" (WG_TAG holds the suite's
# pid). `wg show` without an interface lists every namespace's interfaces:
# always name one.
#
#   keys:      wg_keypair NAME          -> $WG_DIR/NAME.key (0600), NAME.pub
#   underlay:  wg_veth NS1 ADDR1 NS2 ADDR2
#   tunnel:    wg_up NS IFNAME NAME ADDR [PORT]; wg_do NS wg set IFNAME ...
#   watching:  wg_handshake NS IFNAME PUB; wg_rx NS IFNAME PUB
# Every wireguard-go started here is stopped (and its socket removed) when
# the suite exits, before tests/lib.sh removes the namespaces.

WG_TAG=${WG_TAG:-lyr$$}
WG_DIR=$SCRATCH/wg
mkdir -p "$WG_DIR"
chmod 0700 "$WG_DIR"

# wg_tools_present: wireguard-go and wg are installed (both Debian packages:
# wireguard-go, wireguard-tools) and /dev/net/tun exists.
wg_tools_present() {
	command -v wireguard-go >/dev/null 2>&1 && command -v wg >/dev/null 2>&1 &&
		[ -c /dev/net/tun ]
}

# wg_ifname ROLE: the machine-unique interface name for ROLE (at most 15
# bytes, the kernel's limit).
wg_ifname() {
	local n="$WG_TAG$1"
	[ ${#n} -le 15 ] || { echo "wg_ifname: '$n' is longer than 15 bytes" >&2; return 1; }
	echo "$n"
}

# wg_keypair NAME: a fresh key pair in $WG_DIR/NAME.key (0600) and
# $WG_DIR/NAME.pub; prints the public key.
wg_keypair() {
	(umask 077 && wg genkey > "$WG_DIR/$1.key") || return 1
	wg pubkey < "$WG_DIR/$1.key" > "$WG_DIR/$1.pub" || return 1
	cat "$WG_DIR/$1.pub"
}

# wg_veth NS1 ADDR1 NS2 ADDR2: a veth pair between NS1 and NS2 (the
# underlay the tunnel's UDP runs on), each end up with its ADDR (a/len).
# The ends are named after the namespaces' last letters and a counter.
_wg_nveth=0
wg_veth() {
	local a b
	_wg_nveth=$((_wg_nveth + 1))
	a="${WG_TAG}u${_wg_nveth}a"
	b="${WG_TAG}u${_wg_nveth}b"
	ip link add "$a" netns "$1" type veth peer name "$b" netns "$3" || return 1
	ip -n "$1" addr add "$2" dev "$a" && ip -n "$1" link set "$a" up &&
		ip -n "$3" addr add "$4" dev "$b" && ip -n "$3" link set "$b" up
}

# wg_do NS CMD...: run CMD in network namespace NS.
wg_do() {
	local ns=$1
	shift
	ip netns exec "$ns" "$@"
}

# wg_up NS IFNAME NAME ADDR [PORT]: start wireguard-go for IFNAME in NS
# (in the foreground of a background job, its log in $WG_DIR/IFNAME.log),
# wait for its control socket, give it NAME's private key (and listen port
# PORT), address ADDR (a/len) and bring it up. Peers are the caller's.
wg_up() {
	local ns=$1 ifn=$2 name=$3 addr=$4 port=${5:-} pid i
	[ -e "/var/run/wireguard/$ifn.sock" ] &&
		{ echo "wg_up: /var/run/wireguard/$ifn.sock exists already" >&2; return 1; }
	ip netns exec "$ns" wireguard-go -f "$ifn" > "$WG_DIR/$ifn.log" 2>&1 &
	pid=$!
	echo "$pid" > "$WG_DIR/$ifn.pid"
	on_exit "kill $pid; rm -f /var/run/wireguard/$ifn.sock"
	for i in $(seq 100); do
		[ -S "/var/run/wireguard/$ifn.sock" ] && break
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	[ -S "/var/run/wireguard/$ifn.sock" ] ||
		{ echo "wg_up: wireguard-go $ifn did not start: $(cat "$WG_DIR/$ifn.log")" >&2; return 1; }
	wg_do "$ns" wg set "$ifn" private-key "$WG_DIR/$name.key" ${port:+listen-port "$port"} &&
		ip -n "$ns" addr add "$addr" dev "$ifn" && ip -n "$ns" link set "$ifn" up
}

# wg_down IFNAME: stop IFNAME's wireguard-go (its interface and socket go).
wg_down() {
	local pid
	pid=$(cat "$WG_DIR/$1.pid" 2>/dev/null) || return 0
	kill "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	rm -f "/var/run/wireguard/$1.sock" "$WG_DIR/$1.pid"
}

# wg_handshake NS IFNAME PUB: the time of the latest handshake with peer
# PUB as `wg show` gives it (0: never), or nothing if PUB is no peer.
wg_handshake() {
	wg_do "$1" wg show "$2" latest-handshakes | awk -v k="$3" '$1 == k { print $2 }'
}

# wg_rx NS IFNAME PUB: bytes received from peer PUB (decrypted packets,
# whether or not WireGuard then let them in), or nothing if PUB is no peer.
wg_rx() {
	wg_do "$1" wg show "$2" transfer | awk -v k="$3" '$1 == k { print $2 }'
}
