#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# tests/nix: the NixOS module on the real module system, offline (Nix 2.8
# from Debian, no nixpkgs checkout, no network, no store). nixpkgs' lib
# (<nixpkgs/lib> when NIX_PATH has nixpkgs, else ../shared/nixpkgs-lib)
# evaluates nix/module.nix with lib.evalModules beside the NixOS option
# declarations rebuilt in tests/nix/nixos/ and a host configuration from
# tests/nix/hosts/ (eval.nix). The `fpc POLICY -o $out` script the module
# builds is run for real here, and its output is what the evaluation reads
# (there is no store to realise the derivation in: stub-pkgs.nix says how).
# Then: each host case against its expected summary; the whole ruleset
# NixOS would load (nixos-fw and ours) through the real nft in namespaces
# whose /etc/passwd lacks the container user; the per-table reload against
# a foreign table; the uid check and the secret/token script for real; the
# units' command lines; the checked-in nix/generated against fpc.
. "$(dirname "$0")/../lib.sh"
cd "$TOP" || exit 1
HERE=tests/nix

if ! command -v nix-instantiate >/dev/null; then
	fail nix-instantiate "not installed (make deps installs Debian's nix-bin)"
	exit 1
fi
export HOME="$SCRATCH/home" XDG_CACHE_HOME="$SCRATCH/cache"
mkdir -p "$HOME"

# nixpkgs' lib: the machine's, else the shared copy
LIBDIR=$(nix-instantiate --find-file nixpkgs/lib 2>/dev/null) || LIBDIR="$TOP/../shared/nixpkgs-lib/lib"
if [ -f "$LIBDIR/default.nix" ]; then
	echo "nixpkgs lib: $LIBDIR"
else
	fail "nixpkgs lib" "neither <nixpkgs/lib> nor $LIBDIR"
	exit 1
fi

# nixeval ARGS...: evaluate eval.nix strictly to JSON on stdout.
nixeval() {
	nix-instantiate --eval --strict --json --store dummy:// $HERE/eval.nix \
		--arg lib "import $LIBDIR" --argstr stage "$STAGE" "$@"
}
# masked: this run's paths and store hashes replaced by placeholders
masked() {
	sed -E "s|$STAGE|@STAGE@|g; s|$SCRATCH|@SCRATCH@|g; s|$TOP|@TOP@|g; s|/nix/store/[a-z0-9]{32}-|/nix/store/@HASH@-|g"
}

# --- every .nix file parses ------------------------------------------------
while IFS= read -r f; do
	if err=$(nix-instantiate --store dummy:// --parse "$f" 2>&1 >/dev/null); then
		pass "parse $f"
	else
		fail "parse $f" "$(echo "$err" | head -3)"
	fi
done < <(find . -path ./build -prune -o -path ./.git -prune -o -name '*.nix' -print | sort)

# --- make install: what nix/package.nix's output holds ------------------------
# (-o all: install what this build made, never rebuild it here with other
# flags than it was built with, e.g. under `make asan`)
STAGE="$SCRATCH/stage"
if make -s -o all B="$B" DESTDIR="$SCRATCH/destdir" PREFIX=/usr install >"$SCRATCH/install.log" 2>&1; then
	mv "$SCRATCH/destdir/usr" "$STAGE"
	pass "make install"
else
	fail "make install" "$(tail -3 "$SCRATCH/install.log")"
	exit 1
fi
for f in bin/fpc share/fpc/policies/default.fp; do
	if [ -f "$STAGE/$f" ]; then pass "install $f"; else fail "install $f" "missing"; fi
done
for d in fp-apid fp-tokend; do
	# the daemons are installed whenever the tree builds them
	if [ -x "$B/$d" ]; then
		if [ -x "$STAGE/bin/$d" ]; then pass "install bin/$d"
		else fail "install bin/$d" "built but not installed"; fi
	fi
done
if cmp -s "$STAGE/share/fpc/policies/default.fp" policies/default.fp; then
	pass "install default policy"
else
	fail "install default policy" "differs from policies/default.fp"
fi

# --- package.nix: inputs and the install target ------------------------------
if nixeval --argstr compiled /nonexistent -A package >"$SCRATCH/package.json" 2>"$SCRATCH/err"; then
	jq -S . "$SCRATCH/package.json" | masked >"$SCRATCH/package.got"
	golden "package.nix" $HERE/package.json "$SCRATCH/package.got"
else
	fail "package.nix" "$(head -3 "$SCRATCH/err")"
fi

# --- flake.nix: outputs, on a nixpkgs of the real lib and the stubs ----------
# Evaluated with no compiled output at all: the module-eval check uses the
# checked-in nix/generated, so it needs no import from derivation.
if nixeval --argstr compiled /nonexistent -A flake >"$SCRATCH/flake.json" 2>"$SCRATCH/err"; then
	jq -S . "$SCRATCH/flake.json" | masked >"$SCRATCH/flake.got"
	golden "flake outputs (26.05, two systems, overlay, formatter, eval-only checks)" \
		$HERE/flake.json "$SCRATCH/flake.got"
else
	fail "flake outputs" "$(head -5 "$SCRATCH/err")"
fi

# --- the build-time derivation: its script, run for real ---------------------
# compile_with_module OUT [SETTINGS]: evaluate the module's `fpc` derivation
# (settings: a Nix attrset for services.flashpods), run its script as the
# Nix builder would (its nativeBuildInputs on PATH, its environment set,
# $out), in a fresh directory; the log is OUT.log.
compile_with_module() {
	local out=$1 settings=${2:-"{ }"} work
	work=$(mktemp -d "$SCRATCH/build.XXXXXX")
	nixeval --argstr compiled /nonexistent --arg settings "$settings" -A build \
		>"$work/build.json" 2>"$out.log" || return 1
	(
		cd "$work" || exit 1
		export policy policyName generated out="$out"
		policy=$(jq -r .policy build.json)
		policyName=$(jq -r .policyName build.json)
		generated=$(jq -r .generated build.json)
		PATH="$(jq -r '.nativeBuildInputs | map(. + "/bin") | join(":")' build.json):$PATH"
		bash -e -c "$(jq -r .script build.json)"
	) >"$out.log" 2>&1
}

COMPILED="$SCRATCH/compiled"
if compile_with_module "$COMPILED"; then
	pass "module builds default.fp with fpc"
else
	fail "module builds default.fp with fpc" "$(tail -5 "$COMPILED.log")"
	exit 1
fi
# the same policy compiled directly, in this run
DIRECT="$SCRATCH/direct"
"$FPC" policies/default.fp -o "$DIRECT" >/dev/null 2>"$SCRATCH/fpc.err" ||
	fail "fpc default.fp" "$(head -3 "$SCRATCH/fpc.err")"
for f in flashpods.body.nft nixos.json policy.pb; do
	if cmp -s "$COMPILED/$f" "$DIRECT/$f"; then pass "module output $f = fpc's"
	else fail "module output $f = fpc's" "differs or missing"; fi
done
golden "nixos.json (default.fp)" $HERE/default.nixos.json "$COMPILED/nixos.json"

# the body is the inside of flashpods.nft, byte for byte
if awk '/^table inet flashpods \{$/ { inside = 1; next }
	inside && /^\}$/ { inside = 0; next }
	inside { print }' "$DIRECT/flashpods.nft" >"$SCRATCH/inside.nft" &&
	[ -s "$SCRATCH/inside.nft" ] && cmp -s "$SCRATCH/inside.nft" "$DIRECT/flashpods.body.nft"; then
	pass "body = inside of flashpods.nft"
else
	fail "body = inside of flashpods.nft" "flashpods.body.nft is not the table's inside"
fi

# a policy that fails to compile fails the derivation (and so the rebuild)
printf 'policy broken {\n    table inet broken;\n}\nsource x { via nowhere; }\n' >"$SCRATCH/broken.fp"
if compile_with_module "$SCRATCH/broken-out" "{ policy = $SCRATCH/broken.fp; }"; then
	fail "broken policy fails the build" "the build script succeeded"
elif [ -e "$SCRATCH/broken-out/nixos.json" ]; then
	fail "broken policy fails the build" "it wrote an output"
else
	pass "broken policy fails the build"
fi

# --- nix/generated: the checked-in copy, fresh, and checked by the build -----
# It holds exactly the files evaluation reads, byte for byte fpc's for
# policies/default.fp in this run (`make nix-generated` rewrites them).
if [ "$(ls nix/generated)" = "flashpods.body.nft
nixos.json
rsyncd.json
wireguard.json" ] && cmp -s nix/generated/nixos.json "$DIRECT/nixos.json" &&
	cmp -s nix/generated/flashpods.body.nft "$DIRECT/flashpods.body.nft" &&
	cmp -s nix/generated/rsyncd.json "$DIRECT/rsyncd.json" &&
	cmp -s nix/generated/wireguard.json "$DIRECT/wireguard.json"; then
	pass "nix/generated is fpc's output for policies/default.fp (not stale)"
else
	fail "nix/generated is fpc's output for policies/default.fp (not stale)" \
		"differs from this build's fpc: run make nix-generated"
fi
if compile_with_module "$SCRATCH/gen-fresh" "{ generated = $TOP/nix/generated; }"; then
	pass "build with generated: a fresh copy passes"
else
	fail "build with generated: a fresh copy passes" "$(tail -3 "$SCRATCH/gen-fresh.log")"
fi
# a copy made for another policy (the laptop moved to 10.0.0.3) fails the build
mkdir -p "$SCRATCH/stale"
sed 's/10\.0\.0\.2/10.0.0.3/' policies/default.fp >"$SCRATCH/stale/moved.fp"
"$FPC" "$SCRATCH/stale/moved.fp" -o "$SCRATCH/stale/out" >/dev/null 2>&1
mkdir -p "$SCRATCH/stale/generated"
cp "$DIRECT/nixos.json" "$SCRATCH/stale/out/flashpods.body.nft" "$SCRATCH/stale/generated/"
if compile_with_module "$SCRATCH/gen-stale" "{ generated = $SCRATCH/stale/generated; }"; then
	fail "build with generated: a stale copy fails the build" "the build script succeeded"
elif grep -q "flashpods.body.nft differs from what fpc writes for default.fp; regenerate" "$SCRATCH/gen-stale.log"; then
	pass "build with generated: a stale copy fails the build"
else
	fail "build with generated: a stale copy fails the build" "$(tail -2 "$SCRATCH/gen-stale.log")"
fi

# --- host cases: each host configuration against its expected summary ------
# Failed assertions (nixpkgs' rebuilt ones and the module's), warnings, the
# nftables and firewall switches, and which of our parts exist. A case
# whose evaluation must fail (a secret given as a Nix path or a store path)
# has the error instead.
for h in default disabled acknowledged state-2305 flush-forced raw-ruleset \
	iptables-extra nftables-off uid-taken uid-forced generated layers; do
	compiled=$COMPILED
	# disabled: no policy and no compiled output; generated: nothing built
	# may be read at evaluation (no import from derivation)
	case $h in disabled | generated) compiled=/nonexistent ;; esac
	if nixeval --argstr compiled "$compiled" --argstr host "$h" -A summary >"$SCRATCH/$h.json" 2>"$SCRATCH/err"; then
		jq -S . "$SCRATCH/$h.json" | masked >"$SCRATCH/$h.got"
		golden "host $h" $HERE/hosts/$h.json "$SCRATCH/$h.got"
	else
		fail "host $h" "$(grep -m3 . "$SCRATCH/err")"
	fi
done
for h in secret-path secret-store; do
	if nixeval --argstr compiled "$COMPILED" --argstr host "$h" -A summary >/dev/null 2>"$SCRATCH/$h.err"; then
		fail "host $h" "evaluated; want the secret refused"
	else
		grep -v -e '^$' -e 'show-trace' "$SCRATCH/$h.err" | masked >"$SCRATCH/$h.got"
		golden "host $h (refused by type)" $HERE/hosts/$h.err "$SCRATCH/$h.got"
	fi
done

# --- the layers with a real key: the peers NixOS gets are fpc's ------------
# default.fp with the laptop's placeholder key replaced: the interface gets
# the policy's port and peer (AllowedIPs = source laptop's addresses) and
# the host's key file; services.rsyncd gets rsyncd.json's settings.
mkdir -p "$SCRATCH/keyed"
sed 's|AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=|ZllREl1yT5xHZl/IaDWBlzXbMk+J2yvBQZ6AW+zMMxE=|' \
	policies/default.fp >"$SCRATCH/keyed/default.fp"
if "$FPC" "$SCRATCH/keyed/default.fp" -o "$SCRATCH/keyed/out" >"$SCRATCH/keyed.log" 2>&1 &&
	nixeval --argstr compiled "$SCRATCH/keyed/out" --argstr host layers \
		--arg settings "{ policy = $SCRATCH/keyed/default.fp; }" -A config >"$SCRATCH/keyed.json" 2>"$SCRATCH/err" &&
	jq -e '.failedAssertions == [] and .networking.wireguard.interfaces == {"wg0": {"ips": [],
		"listenPort": 51820, "privateKeyFile": "/etc/wireguard/wg0.key", "peers": [{"allowedIPs":
		["10.0.0.2/32"], "endpoint": null, "persistentKeepalive": null, "publicKey":
		"ZllREl1yT5xHZl/IaDWBlzXbMk+J2yvBQZ6AW+zMMxE="}]}} and
		.services.rsyncd.settings.uploads["hosts allow"] == "10.0.0.2" and
		.systemd.services["flashpods-spire-entries"].serviceConfig.ExecStart != null' \
		"$SCRATCH/keyed.json" >/dev/null; then
	pass "layers: WireGuard peers, rsyncd and SPIRE registration from fpc's output"
else
	fail "layers: WireGuard peers, rsyncd and SPIRE registration from fpc's output" \
		"$(cat "$SCRATCH/keyed.log" "$SCRATCH/err" 2>/dev/null | tail -3; jq -c '.networking.wireguard, .failedAssertions' "$SCRATCH/keyed.json" 2>/dev/null)"
fi

# --- the evaluated configuration of the default host -----------------------
if nixeval --argstr compiled "$COMPILED" -A config >"$SCRATCH/config.json" 2>"$SCRATCH/err"; then
	pass "evaluate module (enable = true)"
else
	fail "evaluate module (enable = true)" "$(head -5 "$SCRATCH/err")"
	exit 1
fi
C="$SCRATCH/config.json"
BODY="$COMPILED/flashpods.body.nft"

# check NAME JQ-EXPR: the expression is true on the config $C ($body: the
# table body file $BODY fpc wrote)
check() {
	local name=$1 expr=$2 r
	r=$(jq --rawfile body "$BODY" --arg stage "$STAGE" \
		--arg compiled "$COMPILED" "$expr" "$C" 2>&1)
	if [ "$r" = true ]; then pass "$name"; else fail "$name" "jq: $expr -> $r"; fi
}

check "nftables enabled, per-table reload (no flush)" \
	'.networking.nftables | .enable == true and .flushRuleset == false'
check "nftables table content = fpc body, byte for byte" \
	'.networking.nftables.tables | keys == ["flashpods"] and .flashpods.content == $body'
check "nftables table family" '.networking.nftables.tables.flashpods.family == "inet"'
check "no failed assertions" '.failedAssertions == []'
# the seed: api and rsync from the laptop on wg0; wireguard from anywhere
check "firewall: all interfaces" \
	'.networking.firewall | [.allowedTCPPorts, .allowedUDPPorts, .allowedTCPPortRanges, .allowedUDPPortRanges] == [[], [51820], [], []]'
check "firewall: exactly wg0 tcp 873 8080" \
	'.networking.firewall.interfaces == {"wg0": {"allowedTCPPorts": [873, 8080], "allowedUDPPorts": [], "allowedTCPPortRanges": [], "allowedUDPPortRanges": []}}'
check "user flashpods uid 990" \
	'.users.users.flashpods | .uid == 990 and .group == "flashpods" and .isSystemUser'
check "group flashpods" '.users.groups | has("flashpods")'
check "activation checks uid 990 after users" \
	'.system.activationScripts["flashpods-uid"] | .deps == ["users"] and (.text | endswith("check-uid.sh --if-exists flashpods 990"))'

for u in fp-apid fp-tokend; do
	s=".systemd.services[\"$u\"]"
	check "$u: ExecStart" "$s.serviceConfig.ExecStart | startswith(\$stage + \"/bin/$u --bundle \" + \$compiled + \"/policy.pb \")"
	check "$u: runs as flashpods" "$s.serviceConfig | .User == \"flashpods\" and .Group == \"flashpods\""
	check "$u: checks uid 990 first (as root)" "$s.serviceConfig.ExecStartPre[0] | startswith(\"+\") and endswith(\"check-uid.sh flashpods 990\")"
	check "$u: ExecReload SIGHUP" "$s.serviceConfig.ExecReload | last | endswith(\"/bin/kill -HUP \$MAINPID\")"
	check "$u: ProtectSystem strict, ProtectHome" "$s.serviceConfig | .ProtectSystem == \"strict\" and .ProtectHome == true"
	check "$u: after nftables and spire" "$s.after as \$a | [\"nftables.service\", \"spire-agent.service\"] | all(. as \$x | \$a | index(\$x))"
	check "$u: requires nftables" "$s.requires | index(\"nftables.service\") != null"
	check "$u: wanted by multi-user" "$s.wantedBy == [\"multi-user.target\"]"
done
T='.systemd.services["fp-tokend"].serviceConfig'
check "fp-tokend: AF_UNIX only" "$T.RestrictAddressFamilies == [\"AF_UNIX\"]"
check "fp-tokend: NoNewPrivileges" "$T.NoNewPrivileges == true"
check "fp-tokend: no capabilities" "$T | .CapabilityBoundingSet == \"\" and .AmbientCapabilities == \"\""
check "fp-tokend: @system-service" "$T.SystemCallFilter == [\"@system-service\"]"
check "fp-tokend: no network namespace access" "$T.PrivateNetwork == true"
check "fp-tokend: writes only its socket dir and logs" "$T.ReadWritePaths == [\"/run/flashpods\", \"/var/log/flashpods\"]"
check "fp-tokend: secrets copied, 0600 flashpods" "$T.ExecStartPre[1] | endswith(\"secret-file.sh /etc/flashpods/secrets.json /run/fp-tokend/secrets.json flashpods flashpods\")"
A='.systemd.services["fp-apid"].serviceConfig'
check "fp-apid: writes state, logs, uploads, artifacts" \
	"$A.ReadWritePaths == [\"/var/lib/flashpods\", \"/var/log/flashpods\", \"/tmp/flashpods/uploads\", \"/var/lib/flashpods/artifacts\"]"
check "fp-apid: address families" "$A.RestrictAddressFamilies == [\"AF_UNIX\", \"AF_INET\", \"AF_INET6\", \"AF_NETLINK\"]"
check "fp-apid: TMPDIR writable under ProtectSystem=strict" \
	'.systemd.services["fp-apid"].environment.TMPDIR == "/var/lib/flashpods/tmp" and (.systemd.tmpfiles.rules | index("d /var/lib/flashpods/tmp 0700 flashpods flashpods - -") != null)'
check "fp-apid: token made if missing, copied 0600 flashpods" \
	"$A.ExecStartPre[1] | endswith(\"secret-file.sh --generate /var/lib/flashpods/api-token /run/flashpods-apid/api-token flashpods flashpods\")"
check "fp-apid: reload copies the token again" "$A.ExecReload[0] == $A.ExecStartPre[1]"

check "tmpfiles: socket dirs with the policy's owners" \
	'.systemd.tmpfiles.rules | index("d /run/flashpods 0750 flashpods flashpods - -") != null and index("d /run/spire/sockets 0755 root root - -") != null'
check "tmpfiles: upload and artifact parents" \
	'.systemd.tmpfiles.rules | index("d /tmp/flashpods/uploads 0750 flashpods flashpods - -") != null and index("d /var/lib/flashpods/artifacts 0750 flashpods flashpods - -") != null'
check "tmpfiles: state and log dirs" \
	'.systemd.tmpfiles.rules | index("d /var/lib/flashpods 0750 flashpods flashpods - -") != null and index("d /var/log/flashpods 0750 flashpods flashpods - -") != null'

# the whole config, with this run's paths and the body (compared above) masked
jq -S --rawfile body "$COMPILED/flashpods.body.nft" \
	'.networking.nftables.tables.flashpods.content |= (if . == $body then "@BODY@" else . end)' "$C" |
	sed "s|$COMPILED|@COMPILED@|g" | masked >"$SCRATCH/config.got"
golden "module config (default.fp)" $HERE/default.config.json "$SCRATCH/config.got"

# --- the generated mode evaluates to the same configuration ----------------
if nixeval --argstr compiled "$COMPILED" --argstr host generated -A config >"$SCRATCH/gen-config.json" 2>"$SCRATCH/err" &&
	cmp -s <(jq -S . "$C") <(jq -S . "$SCRATCH/gen-config.json"); then
	pass "generated = nix/generated: the same config as import from derivation"
else
	fail "generated = nix/generated: the same config as import from derivation" \
		"$(head -3 "$SCRATCH/err"; diff <(jq -S . "$C") <(jq -S . "$SCRATCH/gen-config.json") | head -5)"
fi

# --- the tmpfiles rules, applied by the real systemd-tmpfiles --------------
# in a root of our own whose /etc/passwd has the user with the pinned uid,
# as the NixOS host's has
TR="$SCRATCH/root"
mkdir -p "$TR/etc"
printf 'root:x:0:0::/root:/bin/sh\nflashpods:x:990:990::/:/bin/false\n' >"$TR/etc/passwd"
printf 'root:x:0:\nflashpods:x:990:\n' >"$TR/etc/group"
jq -r '.systemd.tmpfiles.rules[]' "$C" >"$SCRATCH/flashpods.conf"
if systemd-tmpfiles --root="$TR" --create "$SCRATCH/flashpods.conf" >"$SCRATCH/tmpfiles.log" 2>&1; then
	pass "systemd-tmpfiles accepts the rules"
else
	fail "systemd-tmpfiles accepts the rules" "$(head -3 "$SCRATCH/tmpfiles.log")"
fi
bad=$(jq -r '.directories[] | "\(.path) \(.mode) \(.owner) \(.group)"' "$COMPILED/nixos.json" |
	while read -r path mode owner group; do
		want="${mode#0} $(awk -F: -v u="$owner" '$1 == u { print $3 }' "$TR/etc/passwd"):$(awk -F: -v g="$group" '$1 == g { print $3 }' "$TR/etc/group")"
		got=$(stat -c '%a %u:%g' "$TR$path" 2>&1)
		[ "$got" = "$want" ] || echo "$path: $got, want $want"
	done)
if [ -z "$bad" ] && [ "$(jq '.directories | length' "$COMPILED/nixos.json")" -eq 4 ]; then
	pass "tmpfiles: the policy's directories with their modes and owners"
else
	fail "tmpfiles: the policy's directories with their modes and owners" "$bad"
fi
if [ "$(stat -c '%a %u' "$TR/run/flashpods" "$TR/var/lib/flashpods/db")" = "750 990
700 990" ]; then
	pass "tmpfiles: /run/flashpods 0750, db 0700, uid 990"
else
	fail "tmpfiles: /run/flashpods 0750, db 0700, uid 990" "$(stat -c '%a %u %n' "$TR/run/flashpods" "$TR/var/lib/flashpods/db")"
fi

# --- directories fpc leaves alone, and paths tmpfiles needs quoted ---------
# a socket directly in / and a socket directory with a space and a %: the
# shared one gets no rule, the odd one a quoted line (a mount cannot sit in
# a shared directory any more: fpc keeps mounts below the policy's roots)
sed 's|"/run/flashpods/token.sock"|"/token.sock"|;
	s|"/run/spire/sockets/agent.sock"|"/run/spire 100%/agent.sock"|' policies/default.fp >"$SCRATCH/odd.fp"
if "$FPC" "$SCRATCH/odd.fp" -o "$SCRATCH/odd" >"$SCRATCH/odd.log" 2>&1; then
	O="$SCRATCH/odd/nixos.json"
	if jq -e '(.directories_skipped | map(.path)) == ["/"] and
		(.directories | map(.tmpfiles)) == ["d \"/run/spire 100%%\" 0755 root root - -",
			"d /tmp/flashpods/uploads 0750 flashpods flashpods - -",
			"d /var/lib/flashpods/artifacts 0750 flashpods flashpods - -"]' "$O" >/dev/null; then
		pass "shared directories skipped, odd path quoted"
	else
		fail "shared directories skipped, odd path quoted" "$(jq -c '.directories, .directories_skipped' "$O")"
	fi
	jq -r '.directories[].tmpfiles' "$O" >"$SCRATCH/odd.conf"
	if systemd-tmpfiles --root="$TR" --create "$SCRATCH/odd.conf" >/dev/null 2>&1 &&
		[ "$(stat -c '%a %u' "$TR/run/spire 100%")" = "755 0" ]; then
		pass "systemd-tmpfiles reads the quoted line"
	else
		fail "systemd-tmpfiles reads the quoted line" "$(ls "$TR/run")"
	fi
else
	fail "odd paths" "$(head -3 "$SCRATCH/odd.log")"
fi

if [ "$(id -u)" -ne 0 ]; then
	fail "namespaces" "the rest needs root (mount and network namespaces)"
	exit 0
fi
NS=$(ns_add nixcheck) || { fail "namespaces" "cannot create a network namespace"; exit 0; }
CK="$SCRATCH/check"
mkdir -p "$CK"

# in_ns PASSWD GROUP CMD: the shell line CMD in the check directory, in the
# network namespace, in a mount namespace whose /etc/passwd and /etc/group
# are the files given (as the build sandbox's, or a host's)
in_ns() {
	ip netns exec "$NS" unshare -m sh -c "mount --bind '$1' /etc/passwd &&
		mount --bind '$2' /etc/group && cd '$CK' && $3"
}
grep -v '^flashpods:' /etc/passwd >"$CK/passwd"
grep -v '^flashpods:' /etc/group >"$CK/group"
# sandboxed CMD: without the flashpods user, as the build sandbox
sandboxed() { in_ns "$CK/passwd" "$CK/group" "! id flashpods 2>/dev/null && $1"; }

# --- the check-uid script, for real ----------------------------------------
# uid 990 the container user's and only its; each wrong host said by name
uid_case() {
	local name=$1 pw=$2 args=$3
	printf 'root:x:0:0::/root:/bin/sh\n%b' "$pw" >"$CK/uid-$name.passwd"
	in_ns "$CK/uid-$name.passwd" "$CK/group" "bash '$TOP/nix/check-uid.sh' $args flashpods 990; echo \"exit \$?\""
}
{
	echo "== right"; uid_case right 'flashpods:x:990:990::/:/bin/false\n' ""
	echo "== other account has 990"; uid_case taken 'backup:x:990:990::/:/bin/false\nflashpods:x:990:990::/:/bin/false\n' ""
	echo "== flashpods kept an older uid"; uid_case moved 'flashpods:x:997:997::/:/bin/false\n' ""
	echo "== no flashpods (daemon start)"; uid_case missing 'nobody:x:65534:65534::/:/bin/false\n' ""
	echo "== no flashpods (activation, users made later)"; uid_case later 'nobody:x:65534:65534::/:/bin/false\n' "--if-exists"
} >"$SCRATCH/check-uid.got" 2>&1
golden "check-uid.sh: right, taken, moved, missing" $HERE/check-uid.out "$SCRATCH/check-uid.got"

# --- the secret/token script, for real -------------------------------------
# As fp-apid's ExecStartPre runs it (as root): a missing token is made
# (64 hex digits and a newline, 0600, the daemon's user) and copied; a
# second start keeps it; a file others can read is refused.
if ensure_flashpods_user; then
	TK="$SCRATCH/token"
	mkdir -p "$TK/run" && chmod 0711 "$SCRATCH"
	secret() { bash nix/secret-file.sh "$@" >>"$TK/log" 2>&1; }
	if secret --generate "$TK/api-token" "$TK/run/api-token" flashpods flashpods &&
		grep -qE '^[0-9a-f]{64}$' "$TK/api-token" && [ "$(wc -c <"$TK/api-token")" -eq 65 ] &&
		[ "$(stat -c '%a %U %G' "$TK/api-token" "$TK/run/api-token")" = "600 flashpods flashpods
600 flashpods flashpods" ] && cmp -s "$TK/api-token" "$TK/run/api-token" &&
		grep -q "created a new API token in $TK/api-token" "$TK/log"; then
		pass "token: made on first start, 64 hex, 0600 flashpods, copied"
	else
		fail "token: made on first start, 64 hex, 0600 flashpods, copied" \
			"$(stat -c '%a %U %s' "$TK/api-token" 2>&1; tail -2 "$TK/log")"
	fi
	cp "$TK/api-token" "$TK/first"
	if secret --generate "$TK/api-token" "$TK/run/api-token" flashpods flashpods &&
		cmp -s "$TK/first" "$TK/api-token" && cmp -s "$TK/first" "$TK/run/api-token"; then
		pass "token: a second start keeps it"
	else
		fail "token: a second start keeps it" "the token changed"
	fi
	rm "$TK/api-token" && secret --generate "$TK/api-token" "$TK/run/api-token" flashpods flashpods
	if ! cmp -s "$TK/first" "$TK/api-token" && cmp -s "$TK/api-token" "$TK/run/api-token"; then
		pass "token: removed, a new one (rotation: rm, systemctl reload fp-apid)"
	else
		fail "token: removed, a new one" "same token or not copied"
	fi
	chmod 0644 "$TK/api-token"
	: >"$TK/log"
	if ! secret --generate "$TK/api-token" "$TK/run/api-token2" flashpods flashpods &&
		[ ! -e "$TK/run/api-token2" ] &&
		grep -q "has mode 644: others may read or write it" "$TK/log"; then
		pass "secret: mode 0644 refused, nothing copied"
	else
		fail "secret: mode 0644 refused, nothing copied" "$(cat "$TK/log")"
	fi
	: >"$TK/log"
	if ! secret "$TK/absent" "$TK/run/absent" flashpods flashpods && grep -q "is missing" "$TK/log"; then
		pass "secret: a missing secrets file is not made up"
	else
		fail "secret: a missing secrets file is not made up" "$(cat "$TK/log")"
	fi
fi

# --- the units' command lines, run for real (-n: load, check, exit) ---------
# As systemd would: each ExecStartPre as root (the uid check, then the
# secret copy into our scratch /run, making the API token on the way),
# then ExecStart as the unit's user. Here the policy pins the uid the
# host's flashpods user has (fp-apid checks it), and /run, state and logs
# are under the scratch directory.
if ensure_flashpods_user; then
	HUID=$(id -u flashpods)
	L="$SCRATCH/local"
	chmod 0755 "$SCRATCH"
	mkdir -p "$L/run/fp-tokend" "$L/run/flashpods-apid" "$L/run/flashpods" "$L/state/db" "$L/log"
	chown -R flashpods:flashpods "$L/run" "$L/state" "$L/log"
	# the token socket in the scratch /run too (tmpfiles makes its directory
	# on the host; fp-tokend -n checks it exists)
	sed "s/ uid 990;/ uid $HUID;/; s|\"/run/flashpods/token.sock\"|\"$L/run/flashpods/token.sock\"|" \
		policies/default.fp >"$L/local.fp"
	openssl ecparam -name prime256v1 -genkey -noout -out "$L/jwt.pem" 2>/dev/null
	printf '{"anthropic_api_key": "a", "github_token": "g"}\n' >"$L/secrets.json"
	chmod 0600 "$L/secrets.json"
	if [ -x "$B/tools/jwt_sign" ] && "$B/tools/jwt_sign" jwks "$L/jwt.pem,kid=t" >"$L/jwks.json" &&
		compile_with_module "$L/compiled" "{ policy = $L/local.fp; }" &&
		nixeval --argstr compiled "$L/compiled" \
			--arg settings "{ policy = $L/local.fp; stateDir = \"$L/state\"; logDir = \"$L/log\";
				tokenService.secretsFile = \"$L/secrets.json\";
				tokenService.trustBundle = \"$L/jwks.json\"; }" -A config >"$L/config.json" 2>"$L/err"; then
		chmod -R a+rX "$L/compiled"
		# a unit's command line with the stub paths made real and /run moved
		local_cmd() {
			sed -E 's|^\+||; s|/stub/coreutils/bin/env PATH=[^ ]* /stub/bash/bin/bash |bash |;
				s|/nix/store/[a-z0-9]{32}-([a-z-]+\.sh)|nix/\1|; s|/stub/coreutils/bin/||' |
				sed "s|/run/|$L/run/|g"
		}
		for u in fp-tokend fp-apid; do
			unit=$(jq -c ".systemd.services[\"$u\"].serviceConfig" "$L/config.json")
			ok=1
			while IFS= read -r pre; do
				cmd=$(local_cmd <<<"$pre")
				# shellcheck disable=SC2086 # a command line
				$cmd >>"$L/$u.log" 2>&1 || { ok=0; break; }
			done < <(jq -r '.ExecStartPre[]' <<<"$unit")
			start=$(jq -r '.ExecStart' <<<"$unit" | local_cmd)
			# shellcheck disable=SC2086 # a command line
			if [ $ok = 1 ] && runuser -u "$(jq -r .User <<<"$unit")" -- $start -n >>"$L/$u.log" 2>&1; then
				pass "$u: the unit's command lines start (uid check, secret, -n)"
			else
				fail "$u: the unit's command lines start (uid check, secret, -n)" "$(tail -2 "$L/$u.log")"
			fi
		done
		if [ "$(stat -c '%a %U' "$L/state/api-token" 2>&1)" = "600 flashpods" ]; then
			pass "fp-apid: its first start made stateDir/api-token"
		else
			fail "fp-apid: its first start made stateDir/api-token" "$(stat -c '%a %U' "$L/state/api-token" 2>&1)"
		fi
	else
		fail "units run" "setting up: $(tail -3 "$L/err" "$L/compiled.log" 2>/dev/null)"
	fi
else
	fail "units run" "cannot create the flashpods user"
fi

# --- another policy: every way a cell opens a port ------------------------
PORTS="$SCRATCH/ports"
if compile_with_module "$PORTS" "{ policy = $TOP/$HERE/ports.fp; }" &&
	nixeval --argstr compiled "$PORTS" --arg settings "{ policy = $TOP/$HERE/ports.fp; }" \
		-A config >"$SCRATCH/ports.json" 2>"$SCRATCH/err"; then
	golden "nixos.json (ports.fp)" $HERE/ports.nixos.json "$PORTS/nixos.json"
	C="$SCRATCH/ports.json" BODY="$PORTS/flashpods.body.nft"
	check "ports.fp: table edge, body byte for byte" \
		".networking.nftables.tables | keys == [\"edge\"] and .edge.family == \"inet\" and .edge.content == \$body"
	# eth1, wg1: ssh and metrics (admin); web's range everywhere (lab's veth*
	# is a wildcard); dns and game everywhere (catch-all allow)
	check "ports.fp: firewall on all interfaces" \
		'.networking.firewall | [.allowedTCPPorts, .allowedTCPPortRanges, .allowedUDPPorts, .allowedUDPPortRanges] == [[], [{"from": 8000, "to": 8010}], [53], [{"from": 27015, "to": 27030}]]'
	check "ports.fp: firewall per interface" \
		'.networking.firewall.interfaces == ({"allowedTCPPorts": [22, 9100], "allowedUDPPorts": [], "allowedTCPPortRanges": [], "allowedUDPPortRanges": []} as $p | {"eth1": $p, "wg1": $p})'
	check "ports.fp: user builder uid 1300" '.users.users | keys == ["builder"] and .builder.uid == 1300'
	check "ports.fp: shared socket dir, mount parents" \
		'.systemd.tmpfiles.rules[0:3] == ["d /run/edge 0750 builder builder - -", "d /srv/edge/jobs 0750 builder builder - -", "d /var/cache/edge/cache 0750 builder builder - -"]'
	check "ports.fp: no api or token service, no daemons" '.systemd.services == {}'
	C="$SCRATCH/config.json" BODY="$COMPILED/flashpods.body.nft"
else
	fail "ports.fp" "$(cat "$SCRATCH/err" "$PORTS.log" 2>/dev/null | tail -3)"
fi

# --- a firewall-only policy: table and firewall, no user, no units --------
PLAIN="$SCRATCH/plain"
if compile_with_module "$PLAIN" "{ policy = $TOP/$HERE/plain.fp; }" &&
	nixeval --argstr compiled "$PLAIN" --arg settings "{ policy = $TOP/$HERE/plain.fp; }" \
		-A config >"$SCRATCH/plain.json" 2>"$SCRATCH/err"; then
	C="$SCRATCH/plain.json" BODY="$PLAIN/flashpods.body.nft"
	check "plain.fp: table and eth0 tcp 22" \
		'.networking.nftables.tables.plain.content == $body and .networking.firewall.interfaces.eth0.allowedTCPPorts == [22]'
	check "plain.fp: no user, units, activation or directories; assertions hold" \
		'.users.users == {} and .systemd.services == {} and .system.activationScripts == {} and .systemd.tmpfiles.rules == [] and .failedAssertions == []'
	C="$SCRATCH/config.json" BODY="$COMPILED/flashpods.body.nft"
else
	fail "plain.fp" "$(cat "$SCRATCH/err" "$PLAIN.log" 2>/dev/null | tail -3)"
fi

# --- options and their defaults ---------------------------------------------
if r=$(nixeval --argstr compiled /nonexistent -A optionNames 2>&1) &&
	[ "$r" = '["api.tokenFile","enable","generated","logDir","package","policy","spire.package","spire.register","spire.socketPath","stateDir","tokenService.secretsFile","tokenService.trustBundle","wireguard.privateKeyFile"]' ]; then
	pass "options: exactly these"
else
	fail "options: exactly these" "$r"
fi
nixeval --argstr compiled /nonexistent -A options | jq -S . | masked >"$SCRATCH/options.got"
golden "options" $HERE/options.json "$SCRATCH/options.got"

# --- the whole ruleset NixOS would load -------------------------------------
# nftables.service's file as nixpkgs builds it (the deletions, then every
# table: nixos-fw from the firewall, ours), checked as the build does
# (preCheckRuleset, then `nft --check`) by the real nft in our network
# namespace and a mount namespace whose /etc/passwd and /etc/group lack
# flashpods (as the build sandbox's do). fpc emits the pinned uid, so no
# mapping is needed; a user the policy does not pin is matched by name,
# and the module refuses it.
# nixos_ruleset HOST COMPILED PREFIX: write PREFIX.deletions and PREFIX.conf
# (which includes the former), as nftables.service would load them
nixos_ruleset() {
	local r
	r=$(nixeval --argstr compiled "$2" --argstr host "$1" -A ruleset) || return 1
	jq -r .deletions <<<"$r" >"$3.deletions"
	jq -r .rules <<<"$r" | sed "s|@DELETIONS@|$3.deletions|" >"$3.conf"
	jq -r .preCheckRuleset <<<"$r" >"$3.precheck"
}
if nixos_ruleset default "$COMPILED" "$CK/default" 2>"$SCRATCH/err" &&
	grep -q '^table inet nixos-fw {' "$CK/default.conf" && grep -q '^table inet flashpods {' "$CK/default.conf"; then
	pass "ruleset: nixos-fw and flashpods, as nftables.service loads them"
else
	fail "ruleset: nixos-fw and flashpods" "$(head -3 "$SCRATCH/err" "$CK/default.conf")"
fi
if grep -q 'flush ruleset' "$CK/default.deletions"; then
	fail "ruleset: reload deletes tables one by one" "it flushes the ruleset"
elif [ "$(grep -c '^delete table' "$CK/default.deletions")" -eq 2 ]; then
	pass "ruleset: reload deletes tables one by one"
else
	fail "ruleset: reload deletes tables one by one" "$(cat "$CK/default.deletions")"
fi
if sandboxed "sh default.precheck && nft --check -f default.conf" >"$CK/check.log" 2>&1; then
	pass "ruleset: nft --check passes without the flashpods user"
else
	fail "ruleset: nft --check passes without the flashpods user" "$(head -3 "$CK/check.log")"
fi
if sandboxed "nft -f default.conf && nft list table inet flashpods" >"$CK/list.log" 2>&1 &&
	grep -q 'skuid 990' "$CK/list.log"; then
	pass "ruleset: it loads there, with skuid 990"
else
	fail "ruleset: it loads there, with skuid 990" "$(grep -m2 'skuid\|Error' "$CK/list.log")"
fi

# --- the reload leaves other software's tables alone -----------------------
# A host installed with 23.05 (nixpkgs would flush everything there): a
# foreign table (as podman's or libvirt's) survives a load and a reload of
# what NixOS loads; with the flush forced on, it does not (the test can
# tell the two apart).
# reload_keeps HOST: load HOST's ruleset twice in a fresh namespace holding
# a foreign table; succeed if the foreign table is still there
reload_keeps() {
	nixos_ruleset "$1" "$COMPILED" "$CK/$1" || return 2
	in_ns /etc/passwd /etc/group "nft flush ruleset && nft add table inet fpnix-foreign &&
		nft add chain inet fpnix-foreign c && nft -f $1.conf && nft -f $1.conf &&
		nft list table inet flashpods >/dev/null && nft list table inet nixos-fw >/dev/null &&
		nft list table inet fpnix-foreign >/dev/null" >"$CK/$1.log" 2>&1
}
if reload_keeps state-2305; then
	pass "stateVersion 23.05: a reload keeps other software's tables"
else
	fail "stateVersion 23.05: a reload keeps other software's tables" "$(tail -2 "$CK/state-2305.log")"
fi
if reload_keeps flush-forced; then
	fail "flushRuleset forced on: the foreign table is flushed (control)" "it survived"
elif grep -q 'flush ruleset' "$CK/flush-forced.deletions"; then
	pass "flushRuleset forced on: the foreign table is flushed (control)"
else
	fail "flushRuleset forced on: the foreign table is flushed (control)" "$(tail -2 "$CK/flush-forced.log")"
fi

# a `via user` row for a user the policy does not pin: matched by name,
# which fails the sandbox's check, and the module says so at evaluation
sed 's/^    via user flashpods; .*/    via user builder;/' policies/default.fp >"$SCRATCH/unpinned.fp"
if ! grep -q 'via user builder' "$SCRATCH/unpinned.fp"; then
	fail "unpinned user" "could not derive the policy"
elif ! compile_with_module "$SCRATCH/unpinned" "{ policy = $SCRATCH/unpinned.fp; }"; then
	fail "unpinned user" "$(tail -3 "$SCRATCH/unpinned.log")"
else
	nixeval --argstr compiled "$SCRATCH/unpinned" --arg settings "{ policy = $SCRATCH/unpinned.fp; }" \
		-A config >"$SCRATCH/unpinned.json" 2>&1
	jq -j '.networking.nftables.tables.flashpods.content' "$SCRATCH/unpinned.json" |
		{ echo "table inet flashpods {"; cat; echo; echo "}"; } >"$CK/unpinned.conf"
	if grep -q 'skuid "*builder' "$CK/unpinned.conf" &&
		! sandboxed 'nft --check -f unpinned.conf' >/dev/null 2>&1; then
		pass "unpinned user: nft --check fails by name"
	else
		fail "unpinned user: nft --check fails by name" "$(grep -m1 skuid "$CK/unpinned.conf")"
	fi
	if jq -e '.failedAssertions | length == 1 and (.[0] | test("builder"))' \
		"$SCRATCH/unpinned.json" >/dev/null; then
		pass "unpinned user: the module's assertion names it"
	else
		fail "unpinned user: the module's assertion names it" "$(jq -c '.failedAssertions' "$SCRATCH/unpinned.json")"
	fi
fi
