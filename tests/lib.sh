# SPDX-License-Identifier: GPL-2.0-or-later
# Sourced by every suite: reporting, golden files, scratch space, namespaces.

pass() { echo "PASS $1"; }
fail() { echo "FAIL $1: ${2:-}"; }
skip() { echo "SKIP $1: ${2:-}"; }

# A scratch directory removed when the suite exits.
SCRATCH=$(mktemp -d "${TMPDIR:-/tmp}/fpc-test.XXXXXX")
_cleanups=("rm -rf '$SCRATCH'")
on_exit() { _cleanups+=("$1"); }
_run_cleanups() {
	local i
	for ((i = ${#_cleanups[@]} - 1; i >= 0; i--)); do eval "${_cleanups[$i]}" >/dev/null 2>&1; done
}
trap _run_cleanups EXIT
trap 'exit 130' INT TERM

# golden NAME EXPECTED GOT: compare GOT (a file) with EXPECTED. On a mismatch
# GOT is kept as EXPECTED with .got replacing its suffix, and the diff shown;
# with REGEN=1 EXPECTED is rewritten instead.
golden() {
	local name=$1 exp=$2 got=$3 gotfile="${2%.*}.got"
	if [ -n "${REGEN:-}" ]; then
		cp "$got" "$exp"; rm -f "$gotfile"; pass "$name"; return 0
	fi
	if [ -f "$exp" ] && cmp -s "$exp" "$got"; then
		rm -f "$gotfile"; pass "$name"; return 0
	fi
	cp "$got" "$gotfile"
	diff -u "$exp" "$gotfile" 2>&1 | head -40
	fail "$name" "output differs from $exp (see $gotfile)"
	return 1
}

# have_root: true when the suite runs as root (namespaces, nft loads, the
# container user). Suites whose cases mostly need no privilege test it per
# case and skip the rest, saying why; suites that are all namespaces call
# need_root.
have_root() { [ "$(id -u)" -eq 0 ]; }

# root_or_skip NAME WHY: true as root; otherwise reports NAME skipped.
root_or_skip() {
	have_root && return 0
	skip "$1" "needs root: $2"
	return 1
}

# need_root: namespace suites skip themselves without root, clearly.
need_root() {
	if [ "$(id -u)" -ne 0 ]; then
		skip "${1:-root}" "needs root: the whole suite works in network namespaces or as the container user"
		exit 0
	fi
}

# ns_add NAME: create the network namespace $NS_TAG-NAME and print its name.
# Every namespace of this run (the tag holds the suite's pid, which $(...)
# subshells share) is removed when the suite exits, even on failure, so
# `ns=$(ns_add x)` is safe.
NS_TAG="fp$$"
ns_add() {
	local ns="$NS_TAG-$1"
	ip netns add "$ns" || return 1
	ip -n "$ns" link set lo up
	echo "$ns"
}
_ns_cleanup() {
	local ns
	for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep "^$NS_TAG-"); do
		ip netns pids "$ns" 2>/dev/null | xargs -r kill -9
		ip netns del "$ns"
	done
}
_cleanups+=("_ns_cleanup")

# ensure_flashpods_user: the `flashpods` system user and group the policies
# name, with a home and subordinate ids (rootless podman needs both). The
# only change tests make outside their scratch space; idempotent.
ensure_flashpods_user() {
	if ! id -u flashpods >/dev/null 2>&1; then
		useradd --system --create-home --home-dir /var/lib/flashpods-home \
			--shell /usr/sbin/nologin --user-group flashpods 2>/dev/null ||
			id -u flashpods >/dev/null 2>&1 || return 1
	fi
	grep -q '^flashpods:' /etc/subuid 2>/dev/null ||
		usermod --add-subuids 200000-265535 flashpods || return 1
	grep -q '^flashpods:' /etc/subgid 2>/dev/null ||
		usermod --add-subgids 200000-265535 flashpods || return 1
}

# podman_rootless_setup: what rootless podman needs to run containers as
# `flashpods` on this machine (see docs/apid.md), for suites that start
# real containers. Makes the user (ensure_flashpods_user) and its runtime
# directory /run/user/UID (0700, as logind would), lets it open
# /dev/net/tun (mode 0666, the udev default, which slirp4netns needs), and
# writes a containers.conf of the suite's own (runc, no default ulimits)
# exported as CONTAINERS_CONF; /etc is never touched. Sets FLASHPODS_UID
# and FLASHPODS_HOME, and makes $SCRATCH traversable for that user.
podman_rootless_setup() {
	ensure_flashpods_user || return 1
	FLASHPODS_UID=$(id -u flashpods)
	FLASHPODS_HOME=$(getent passwd flashpods | cut -d: -f6)
	export FLASHPODS_UID FLASHPODS_HOME
	mkdir -p "/run/user/$FLASHPODS_UID" &&
		chown flashpods:flashpods "/run/user/$FLASHPODS_UID" &&
		chmod 0700 "/run/user/$FLASHPODS_UID" || return 1
	if [ -c /dev/net/tun ] && [ "$(stat -c %a /dev/net/tun)" != 666 ]; then
		chmod 0666 /dev/net/tun || return 1
	fi
	chmod 0711 "$SCRATCH"
	mkdir -p "$SCRATCH/podman" && chmod 0755 "$SCRATCH/podman"
	printf '[engine]\nruntime = "runc"\n\n[containers]\ndefault_ulimits = []\n' \
		> "$SCRATCH/podman/containers.conf"
	chmod 0644 "$SCRATCH/podman/containers.conf"
	export CONTAINERS_CONF="$SCRATCH/podman/containers.conf"
}

# as_flashpods CMD...: run CMD as flashpods with a clean environment (its
# HOME, XDG_RUNTIME_DIR and the suite's CONTAINERS_CONF), from its home.
as_flashpods() {
	(cd "$FLASHPODS_HOME" && setpriv --reuid=flashpods --regid=flashpods --init-groups \
		env -i HOME="$FLASHPODS_HOME" XDG_RUNTIME_DIR="/run/user/$FLASHPODS_UID" \
		PATH=/usr/sbin:/usr/bin:/sbin:/bin CONTAINERS_CONF="$CONTAINERS_CONF" "$@")
}

# podman_test_image NAME: the tiny image container tests run, imported
# into flashpods' storage if it is not there: busybox from Debian's
# busybox-static (/bin/busybox and a link per applet), empty /work and
# /artifacts, and an /entrypoint.sh for agent jobs that reports its task
# and writes it to /work/agent.txt.
podman_test_image() {
	local name=$1 root="$SCRATCH/podman/rootfs" a
	as_flashpods podman image exists "$name" 2>/dev/null && return 0
	mkdir -p "$root/bin" "$root/tmp" "$root/work" "$root/artifacts" "$root/etc"
	cp /bin/busybox "$root/bin/busybox" || return 1
	for a in $(/bin/busybox --list); do
		[ "$a" = busybox ] || ln -sf busybox "$root/bin/$a"
	done
	printf '#!/bin/sh\necho "agent $FLASHPODS_JOB_ID on $FLASHPODS_GIT_BRANCH: $FLASHPODS_TASK"\n%s\n' \
		'echo "$FLASHPODS_TASK" > /work/agent.txt && echo "wrote /work/agent.txt"' \
		> "$root/entrypoint.sh"
	chmod 0755 "$root/entrypoint.sh"
	chmod 1777 "$root/tmp"
	tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner \
		-C "$root" -cf "$SCRATCH/podman/image.tar" . || return 1
	chmod 0644 "$SCRATCH/podman/image.tar"
	as_flashpods podman import --change 'CMD ["/bin/sh"]' \
		"$SCRATCH/podman/image.tar" "$name" >/dev/null
}

# golden_run SUITE/NAME STATUS EXPECTED COMMAND...: run COMMAND with its
# stdout and stderr in $SCRATCH/NAME.out; want exit STATUS, then golden.
golden_run() {
	local name=$1 want=$2 exp=$3 got="$SCRATCH/${1#*/}.out" rc
	shift 3
	"$@" >"$got" 2>&1
	rc=$?
	if [ "$rc" -ne "$want" ]; then
		head -20 "$got"
		fail "$name" "exit status $rc, want $want"
		return
	fi
	golden "$name" "$exp" "$got"
}

# compile_step NAME POLICY DIR: `fpc POLICY -o DIR`; PASS NAME, or FAIL
# NAME with fpc's first lines and status 1 (the caller stops: nothing
# after it has artifacts to use).
compile_step() {
	local name=$1 policy=$2 dir=$3
	if "$FPC" "$policy" -o "$dir" >"$SCRATCH/$name.log" 2>&1; then
		pass "$name"
	else
		fail "$name" "$(head -5 "$SCRATCH/$name.log")"
		return 1
	fi
}

# golden_cases SUITE: each line NAME STATUS ARGS... of tests/SUITE/cases.txt
# is golden_run of `$FPC ARGS` against tests/SUITE/NAME.out (run from $TOP).
golden_cases() {
	local suite=$1 name want args
	while read -r name want args; do
		case $name in ''|'#'*) continue ;; esac
		# shellcheck disable=SC2086 # ARGS are words
		golden_run "$suite/$name" "$want" "tests/$suite/$name.out" "$FPC" $args
	done <"tests/$suite/cases.txt"
}
