#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# nix/secret-file.sh [--generate] SRC DEST OWNER GROUP: copy the secret
# file SRC to DEST, mode 0600, owned by OWNER:GROUP (the NixOS units run it
# as root before each start and reload, so a daemon running as OWNER reads
# its own copy). SRC must be a regular file that only its owner may read
# or write (mode 0600 or 0400). With --generate, a missing SRC is created
# first: a new API bearer token, 32 random bytes as 64 hex characters and
# a newline, mode 0600, owned by OWNER:GROUP; an existing SRC is never
# replaced. Needs coreutils only.
set -eu
generate=0
if [ "${1:-}" = --generate ]; then
	generate=1
	shift
fi
if [ $# -ne 4 ]; then
	echo "usage: secret-file.sh [--generate] SRC DEST OWNER GROUP" >&2
	exit 2
fi
src=$1 dest=$2 owner=$3 group=$4
umask 077

# new_token FILE: write a fresh token to FILE unless FILE exists (made in a
# temporary file and linked into place, so a concurrent start keeps one)
new_token() {
	local tmp
	tmp=$(mktemp "$1.XXXXXX")
	od -An -vtx1 -N32 /dev/urandom | tr -d ' \n' >"$tmp"
	echo >>"$tmp"
	chown "$owner:$group" "$tmp"
	chmod 0600 "$tmp"
	if ln "$tmp" "$1" 2>/dev/null; then
		echo "flashpods: created a new API token in $1 (the laptop needs a copy: docs/nixos.md)" >&2
	fi
	rm -f "$tmp"
}

if [ "$generate" = 1 ] && [ ! -e "$src" ] && [ ! -L "$src" ]; then
	new_token "$src"
fi
if [ ! -f "$src" ]; then
	echo "flashpods: secret $src is missing or not a regular file (create it, mode 0600)" >&2
	exit 1
fi
mode=$(stat -c %a "$src")
case $mode in
600 | 400) ;;
*)
	echo "flashpods: secret $src has mode $mode: others may read or write it; chmod 0600 $src" >&2
	exit 1
	;;
esac
install -m 0600 -o "$owner" -g "$group" "$src" "$dest"
