#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# nix/check-uid.sh [--if-exists] NAME UID: succeed if the account NAME has
# uid UID and no other account has it; else say which account is wrong on
# stderr and fail. The firewall matches the container user by number
# (`meta skuid UID`), so a second account with UID, or NAME with another
# uid (NixOS keeps an existing user's uid: "not applying UID change"),
# would make the rule guard the wrong account. Run by the NixOS module at
# activation (--if-exists: users made later by systemd-sysusers or userborn
# are checked when the daemons start) and before each daemon starts.
# Reads the account database with `getent passwd`; needs only bash.
set -u
if_exists=0
if [ "${1:-}" = --if-exists ]; then
	if_exists=1
	shift
fi
if [ $# -ne 2 ]; then
	echo "usage: check-uid.sh [--if-exists] NAME UID" >&2
	exit 2
fi
name=$1 uid=$2
found=0 bad=0
while IFS=: read -r n _ u _; do
	if [ "$n" = "$name" ]; then
		found=1
		if [ "$u" != "$uid" ]; then
			echo "flashpods: user $name has uid $u, but the policy pins uid $uid and the firewall matches that number (meta skuid $uid). NixOS does not change the uid of an existing user: give $name uid $uid by hand (usermod -u $uid $name, then chown its files), or pin $u in the policy." >&2
			bad=1
		fi
	elif [ "$u" = "$uid" ]; then
		echo "flashpods: uid $uid, which the policy pins for $name, also belongs to $n: the firewall's meta skuid $uid would match $n's traffic too. Give $n another uid, or pin a free uid for $name in the policy." >&2
		bad=1
	fi
done < <(getent passwd)
if [ "$found" = 0 ] && [ "$if_exists" = 0 ]; then
	echo "flashpods: user $name does not exist (the policy's container user, uid $uid)" >&2
	bad=1
fi
exit "$bad"
