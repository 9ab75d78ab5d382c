#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# tests/explain: `fpc explain POLICY SOURCE SERVICE` and `fpc query POLICY
# ...` print the verdict, every rule involved and its policy line. Each case
# is a command line in cases.txt (NAME STATUS ARGS...) with its output in
# NAME.out.
. "$(dirname "$0")/../lib.sh"
cd "$TOP"
dir=tests/explain

golden_cases explain

# the verdicts the seed's trust model promises, by query
verdict() {
	local name=$1 want=$2
	shift 2
	if "$FPC" query policies/default.fp "$@" 2>&1 | grep -qx "verdict: $want"; then
		pass "explain/verdict-$name"
	else
		fail "explain/verdict-$name" "want verdict $want for $*"
	fi
}
verdict laptop-api accept --iif wg0 --saddr 10.0.0.2 --tcp 8080
verdict laptop-rsync accept --iif wg0 --saddr 10.0.0.2 --tcp 873
verdict other-peer-api drop --iif wg0 --saddr 10.0.0.3 --tcp 8080
verdict podman-api drop --iif podman0 --saddr 10.88.0.5 --tcp 8080
verdict cni-rsync drop --iif cni-podman0 --tcp 873
verdict rootless-api "reject (dropped; the sender gets a tcp reset)" --uid 990 --tcp 8080
verdict internet-wireguard accept --iif eth0 --saddr 198.51.100.7 --udp 51820
verdict v6-api drop --iif eth0 --saddr 2001:db8::7 --daddr 2001:db8::1 --tcp 8080
