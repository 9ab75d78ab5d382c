#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# tests/rsyncd: the upload allowlist holds on its own. A real rsync daemon
# runs with the rsyncd.conf fpc wrote for policies/default.fp (its upload
# mount moved into the scratch space), in a host namespace with NO firewall
# loaded; a client namespace on the same link has the laptop's address
# 10.0.0.2 and another, 10.0.0.3. The laptop's address uploads; the other
# is refused by rsyncd itself (expected output: refused.out). The same
# again with the configuration NixOS's services.rsyncd makes of rsyncd.json.
set -u
. "$(dirname "$0")/../lib.sh"
need_root rsyncd
HERE=$TOP/tests/rsyncd
NS_TAG=lyr$$
command -v rsync >/dev/null || { fail rsyncd-rsync "rsync is not installed"; exit 1; }
ensure_flashpods_user || { fail rsyncd-user "cannot create the flashpods user"; exit 1; }

# default.fp with its uploads under $SCRATCH (a mount root there; the
# file keeps its name)
chmod 0711 "$SCRATCH"
mkdir -p "$SCRATCH/policy" "$SCRATCH/uploads" "$SCRATCH/src/u1"
chown flashpods:flashpods "$SCRATCH/uploads"
sed -e "s|\"/tmp/flashpods/uploads/{upload_id}\"|\"$SCRATCH/uploads/{upload_id}\"|" \
	-e "s|^\( *table inet flashpods;\)|\1 mount roots \"$SCRATCH\", \"\/var\/lib\/flashpods\";|" \
	"$TOP/policies/default.fp" > "$SCRATCH/policy/default.fp"
grep -q "$SCRATCH/uploads/{upload_id}" "$SCRATCH/policy/default.fp" ||
	{ fail rsyncd-policy "default.fp has no /tmp/flashpods/uploads/{upload_id} mount"; exit 1; }
compile_step rsyncd-compile "$SCRATCH/policy/default.fp" "$SCRATCH/out" || exit 1
conf=$SCRATCH/out/rsyncd.conf
[ -f "$conf" ] || { fail rsyncd-artifact "no rsyncd.conf"; exit 1; }

# ---- host (10.0.0.1, the rsync service's `on` address) and the client
H=$(ns_add host) && C=$(ns_add cli) || { fail rsyncd-topology "ip netns add"; exit 1; }
ip link add "lyr$$h" netns "$H" type veth peer name "lyr$$c" netns "$C" &&
	ip -n "$H" addr add 10.0.0.1/24 dev "lyr$$h" && ip -n "$H" link set "lyr$$h" up &&
	ip -n "$C" addr add 10.0.0.2/24 dev "lyr$$c" &&
	ip -n "$C" addr add 10.0.0.3/24 dev "lyr$$c" && ip -n "$C" link set "lyr$$c" up ||
	{ fail rsyncd-topology "veth"; exit 1; }

# no firewall: whatever refuses is rsyncd
rules=$(ip netns exec "$H" nft list ruleset 2>&1)
[ -z "$rules" ] && pass rsyncd-no-firewall || fail rsyncd-no-firewall "$rules"

# The same parameters as NixOS's services.rsyncd writes them from
# rsyncd.json: its settings plus global port, through pkgs.formats.ini
# (sections and keys sorted, key=value). rsyncd ignores `address` inside a
# section (found here: it then listens everywhere), so rsyncd.json gives it
# apart and the module binds systemd's socket to it; here --address does.
jq -r '.settings.global.port = (.port | tostring) | .settings | to_entries | sort_by(.key)
	| .[] | "[\(.key)]", (.value | to_entries | sort_by(.key) | .[] | "\(.key)=\(.value)"), ""' \
	"$SCRATCH/out/rsyncd.json" > "$SCRATCH/nixos-rsyncd.conf"
echo "task for the job" > "$SCRATCH/src/u1/task.txt"

# upload FROM: rsync the job's files to module uploads, upload u1, from
# client address FROM; prints rsync's output, returns its status.
upload() {
	ip netns exec "$C" timeout 20 rsync --address="$1" --contimeout=5 -r \
		"$SCRATCH/src/u1/" rsync://10.0.0.1/uploads/u1/ 2>&1
}

# daemon_checks NAME CONF [ARGS]: run rsyncd with CONF (and ARGS) in the host namespace (only
# its pid, lock and log files moved into the scratch space: --dparam sets
# global parameters), then: the laptop's address uploads, as the container
# user; the other address is refused by rsyncd (refused.out) and writes
# nothing. The daemon is stopped at the end.
daemon_checks() {
	local name=$1 conf=$2 pid out owner
	shift 2
	rm -rf "$SCRATCH/uploads/u1"
	ip netns exec "$H" rsync --daemon --no-detach --config="$conf" "$@" \
		--dparam=pidfile="$SCRATCH/$name.pid" --dparam=lockfile="$SCRATCH/$name.lock" \
		--log-file="$SCRATCH/$name.log" > "$SCRATCH/$name.out" 2>&1 &
	pid=$!
	for _ in $(seq 50); do
		ip netns exec "$H" ss -ltn | grep -q '10.0.0.1:873 ' && break
		sleep 0.1
	done
	if ! ip netns exec "$H" ss -ltn | grep -q '10.0.0.1:873 '; then
		fail "$name-listens" "$(cat "$SCRATCH/$name.out")"
		kill "$pid" 2>/dev/null
		return
	fi
	pass "$name-listens"
	if out=$(upload 10.0.0.2) && [ "$(cat "$SCRATCH/uploads/u1/task.txt" 2>/dev/null)" = "task for the job" ]; then
		pass "$name-laptop-uploads"
	else
		fail "$name-laptop-uploads" "$out"
	fi
	owner=$(stat -c %U "$SCRATCH/uploads/u1/task.txt" 2>/dev/null)
	[ "$owner" = flashpods ] && pass "$name-upload-owner" ||
		fail "$name-upload-owner" "task.txt belongs to '$owner', want flashpods (the container user)"
	rm -rf "$SCRATCH/uploads/u1"
	# rsyncd's own answer (its first line; the client's next line names its
	# source file and version) and the client's exit status
	upload 10.0.0.3 > "$SCRATCH/$name.refused.raw"
	echo "exit $?" > "$SCRATCH/$name.refused.rc"
	{ head -1 "$SCRATCH/$name.refused.raw"; cat "$SCRATCH/$name.refused.rc"; } > "$SCRATCH/$name.refused"
	golden "$name-stranger-refused" "$HERE/refused.out" "$SCRATCH/$name.refused"
	[ ! -e "$SCRATCH/uploads/u1" ] && pass "$name-stranger-wrote-nothing" ||
		fail "$name-stranger-wrote-nothing" "$(ls -R "$SCRATCH/uploads/u1")"
	kill "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
}

daemon_checks rsyncd "$conf"
daemon_checks rsyncd-nixos "$SCRATCH/nixos-rsyncd.conf" --address="$(jq -r .address "$SCRATCH/out/rsyncd.json")"
