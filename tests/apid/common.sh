# SPDX-License-Identifier: GPL-2.0-or-later
# Sourced by tests/apid/run.sh (and bench/apid.sh) after tests/lib.sh: a
# real fp-apid on 127.0.0.1, run as root and dropping to `flashpods`, with a
# policy compiled by fpc from tests/apid/policy.fp.in, and curl helpers.

APID=${APID:-$B/fp-apid}
IMAGE=localhost/fp-busybox:test

# apid_setup: users, podman, image, directories, policy, token. Sets
# PORT, URL, TOKEN, BUNDLE, DB, LOGS.
apid_setup() {
	need_root apid
	podman_rootless_setup || { fail setup "rootless podman setup"; exit 1; }
	podman_test_image "$IMAGE" || { fail setup "podman import of the test image"; exit 1; }
	mkdir -p "$SCRATCH/db" "$SCRATCH/logs" "$SCRATCH/artifacts" "$SCRATCH/uploads/u1" \
		"$SCRATCH/run" "$SCRATCH/out"
	chown flashpods:flashpods "$SCRATCH/db" "$SCRATCH/logs" "$SCRATCH/artifacts" \
		"$SCRATCH/uploads/u1" "$SCRATCH/run"
	chmod 0755 "$SCRATCH/uploads" "$SCRATCH/out"
	echo "uploaded" > "$SCRATCH/uploads/u1/in.txt"
	chown flashpods:flashpods "$SCRATCH/uploads/u1/in.txt"
	# the token service's socket the policy mounts into containers
	socat UNIX-LISTEN:"$SCRATCH/run/token.sock",fork,unlink-early /dev/null &
	on_exit "kill $!"
	for _ in $(seq 50); do [ -S "$SCRATCH/run/token.sock" ] && break; sleep 0.02; done
	PORT=$(apid_free_port)
	URL="http://127.0.0.1:$PORT"
	sed -e "s|@SCRATCH@|$SCRATCH|g; s|@PORT@|$PORT|g; s|@UID@|$FLASHPODS_UID|g" \
		"$TOP/tests/apid/policy.fp.in" > "$SCRATCH/policy.fp"
	if ! "$FPC" "$SCRATCH/policy.fp" -o "$SCRATCH/out" > "$SCRATCH/fpc.log" 2>&1; then
		cat "$SCRATCH/fpc.log"
		fail setup "fpc cannot compile tests/apid/policy.fp.in"
		exit 1
	fi
	BUNDLE="$SCRATCH/out/policy.pb"
	DB="$SCRATCH/db/flashpods.db"
	LOGS="$SCRATCH/logs"
	TOKEN=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
	printf '%s\n' "$TOKEN" > "$SCRATCH/api-token"
	chmod 0600 "$SCRATCH/api-token"
}

# apid_free_port: a tcp port nothing listens on.
apid_free_port() {
	local p
	while :; do
		p=$(shuf -i 20000-59999 -n 1)
		ss -ltnH "( sport = :$p )" | grep -q . || { echo "$p"; return; }
	done
}

# apid_start [ARGS...]: start fp-apid (log in $SCRATCH/apid.log) and wait
# until /health answers; APID_PID is its pid. Killed when the suite exits.
# With APID_CGROUP set (a cgroup v1 directory) it starts inside that cgroup;
# with APID_AS_USER set it starts as flashpods (not root) with the token
# file $SCRATCH/run/api-token and the environment a service manager gives.
apid_start() {
	(
		[ -z "${APID_CGROUP:-}" ] || echo "$BASHPID" > "$APID_CGROUP/cgroup.procs" || exit 1
		if [ -n "${APID_AS_USER:-}" ]; then
			exec setpriv --reuid=flashpods --regid=flashpods --init-groups \
				env -i HOME="$FLASHPODS_HOME" XDG_RUNTIME_DIR="/run/user/$FLASHPODS_UID" \
				PATH=/usr/sbin:/usr/bin:/sbin:/bin CONTAINERS_CONF="$CONTAINERS_CONF" \
				"$APID" -b "$BUNDLE" -t "$SCRATCH/run/api-token" --db "$DB" --log-dir "$LOGS" "$@"
		fi
		exec "$APID" -b "$BUNDLE" -t "$SCRATCH/api-token" --db "$DB" --log-dir "$LOGS" "$@"
	) >> "$SCRATCH/apid.log" 2>&1 &
	APID_PID=$!
	on_exit "kill -9 $APID_PID"
	local i
	for i in $(seq 100); do
		curl -s -o /dev/null --interface 127.0.0.2 "$URL/health" && return 0
		kill -0 "$APID_PID" 2>/dev/null || break
		sleep 0.05
	done
	tail -5 "$SCRATCH/apid.log"
	return 1
}

# apid_stop: SIGTERM and wait.
apid_stop() {
	kill "$APID_PID" 2>/dev/null
	wait "$APID_PID" 2>/dev/null
}

# api METHOD PATH [CURL ARGS...]: an authorised request from the laptop
# (127.0.0.2). Prints the status code; the body is in $SCRATCH/body, the
# headers in $SCRATCH/headers.
api() {
	local m=$1 p=$2
	shift 2
	curl -s --interface 127.0.0.2 -X "$m" -H "Authorization: Bearer $TOKEN" \
		-H 'Content-Type: application/json' -D "$SCRATCH/headers" \
		-o "$SCRATCH/body" -w '%{http_code}' "$@" "$URL$p"
}

# body_get JQ: a field of the last body.
body_get() { jq -r "$1" "$SCRATCH/body"; }

# check NAME WANT GOT: pass when equal.
check() {
	if [ "$2" = "$3" ]; then pass "$1"; else fail "$1" "want '$2', got '$3' ($(head -c 300 "$SCRATCH/body" 2>/dev/null))"; fi
}

# wait_status ID STATUS... [-t SECONDS]: wait until job ID has one of the
# statuses (default 60 s); prints the status it ended with.
wait_status() {
	local id=$1 t=60 st i
	shift
	if [ "${1:-}" = -t ]; then t=$2; shift 2; fi
	for i in $(seq $((t * 10))); do
		api GET "/jobs/$id" > /dev/null
		st=$(body_get .status)
		for w in "$@"; do [ "$st" = "$w" ] && { echo "$st"; return 0; }; done
		sleep 0.1
	done
	echo "$st"
	return 1
}

# memcg_new NAME BYTES: a memory cgroup (v1) below the suite's own, limited
# to BYTES, in MEMCG; removed when the suite exits (processes left in it
# are moved back up first). Fails where there is none.
memcg_new() {
	local parent
	parent=/sys/fs/cgroup/memory$(awk -F: '$2 == "memory" { print $3 }' /proc/self/cgroup)
	[ -d "$parent" ] || return 1
	MEMCG=$parent/$1-$$
	mkdir "$MEMCG" && echo "$2" > "$MEMCG/memory.limit_in_bytes" || return 1
	on_exit "memcg_remove '$MEMCG'"
}

# memcg_remove DIR: move what still runs in DIR to its parent, remove it.
memcg_remove() {
	local p
	[ -d "$1" ] || return 0
	for p in $(cat "$1/cgroup.procs"); do echo "$p" > "$1/../cgroup.procs"; done
	rmdir "$1"
}
