# SPDX-License-Identifier: GPL-2.0-or-later
# Sourced by every suite: reporting, golden files, scratch space, namespaces.

pass() { echo "PASS $1"; }
fail() { echo "FAIL $1: ${2:-}"; }

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

# need_root: namespace suites refuse to run without root, clearly.
need_root() {
	if [ "$(id -u)" -ne 0 ]; then
		echo "this suite creates network namespaces and must run as root" >&2
		fail "${1:-root}" "not running as root"
		exit 1
	fi
}

# ns_add NAME: create a network namespace removed when the suite exits
# (names get this run's pid so concurrent runs never collide).
NS_TAG="fp$$"
ns_add() {
	local ns="$NS_TAG-$1"
	ip netns add "$ns" || return 1
	on_exit "ip netns pids '$ns' 2>/dev/null | xargs -r kill -9; ip netns del '$ns'"
	ip -n "$ns" link set lo up
	echo "$ns"
}

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
