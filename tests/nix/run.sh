#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# tests/nix: the NixOS module, offline (Nix 2.8 from Debian, no nixpkgs, no
# network, no store). Every .nix file parses; `make install` stages what the
# package holds; the module is evaluated with the stubs in this directory;
# the `fpc POLICY -o $out` script the module builds is run for real here and
# its output is what the evaluation reads (there is no store to realise the
# derivation in: stub-pkgs.nix says how). Then the evaluated config is
# checked against what fpc emitted in this same run, and the build-time
# `nft --check` mapping is run with the real nft in a namespace whose
# /etc/passwd has no flashpods user.
. "$(dirname "$0")/../lib.sh"
cd "$TOP" || exit 1
HERE=tests/nix

if ! command -v nix-instantiate >/dev/null; then
	fail nix-instantiate "not installed (make deps installs Debian's nix-bin)"
	exit 1
fi
export HOME="$SCRATCH/home" XDG_CACHE_HOME="$SCRATCH/cache"
mkdir -p "$HOME"

# nixeval FILE ARGS...: evaluate strictly to JSON on stdout.
nixeval() {
	nix-instantiate --eval --strict --json --store dummy:// "$@"
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
if nixeval $HERE/eval.nix --argstr stage "$STAGE" --argstr compiled /nonexistent \
	-A package >"$SCRATCH/package.json" 2>"$SCRATCH/err"; then
	jq -S . "$SCRATCH/package.json" | sed "s|$TOP|@TOP@|g; s|$STAGE|@STAGE@|g" >"$SCRATCH/package.got"
	golden "package.nix" $HERE/package.json "$SCRATCH/package.got"
else
	fail "package.nix" "$(head -3 "$SCRATCH/err")"
fi

# --- flake.nix: package, module, checks with the VM test ---------------------
if r=$(nixeval $HERE/eval.nix --argstr stage "$STAGE" --argstr compiled /nonexistent -A flake 2>&1) &&
	[ "$r" = '{"checks":["package","vm"],"default":"fpc-0.1.0","nixosModules":["default","flashpods"],"packages":["default","fpc"],"vm":{"hostEnables":true,"hostImportsModule":true,"name":"flashpods","nodes":["host","laptop"],"scriptUsesBoth":true}}' ]; then
	pass "flake outputs"
else
	fail "flake outputs" "$r"
fi

# --- the build-time derivation: its script, run for real ---------------------
# compile_with_module POLICY OUT: evaluate the module's `fpc` derivation for
# POLICY, run its script as the Nix builder would (its nativeBuildInputs on
# PATH, $policy, $policyName and $out set), in a fresh directory.
compile_with_module() {
	local policy=$1 out=$2 work
	work=$(mktemp -d "$SCRATCH/build.XXXXXX")
	nixeval $HERE/eval.nix --argstr stage "$STAGE" --argstr compiled /nonexistent \
		--arg settings "{ policy = $(realpath "$policy"); }" -A build >"$work/build.json" 2>"$work/log" || return 1
	(
		cd "$work" || exit 1
		export policy policyName out="$out"
		policy=$(jq -r .policy build.json)
		policyName=$(jq -r .policyName build.json)
		PATH="$(jq -r '.nativeBuildInputs | map(. + "/bin") | join(":")' build.json):$PATH"
		bash -e -c "$(jq -r .script build.json)"
	) >"$work/log" 2>&1
}

COMPILED="$SCRATCH/compiled"
if compile_with_module policies/default.fp "$COMPILED"; then
	pass "module builds default.fp with fpc"
else
	fail "module builds default.fp with fpc" "$(tail -5 "$SCRATCH"/build.*/log)"
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
if compile_with_module "$SCRATCH/broken.fp" "$SCRATCH/broken-out"; then
	fail "broken policy fails the build" "the build script succeeded"
elif [ -e "$SCRATCH/broken-out/nixos.json" ]; then
	fail "broken policy fails the build" "it wrote an output"
else
	pass "broken policy fails the build"
fi

# --- the evaluated configuration -------------------------------------------
if nixeval $HERE/eval.nix --argstr stage "$STAGE" --argstr compiled "$COMPILED" \
	-A config >"$SCRATCH/config.json" 2>"$SCRATCH/err"; then
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

check "nftables enabled" '.networking.nftables.enable == true'
check "nftables table content = fpc body, byte for byte" \
	'.networking.nftables.tables | keys == ["flashpods"] and .flashpods.content == $body'
check "nftables table family" '.networking.nftables.tables.flashpods.family == "inet"'
check "assertions hold" '[.assertions[].assertion] | all'
# the seed: api and rsync from the laptop on wg0; wireguard from anywhere
check "firewall: all interfaces" \
	'.networking.firewall | [.allowedTCPPorts, .allowedUDPPorts, .allowedTCPPortRanges, .allowedUDPPortRanges] == [[], [51820], [], []]'
check "firewall: exactly wg0 tcp 873 8080" \
	'.networking.firewall.interfaces == {"wg0": {"allowedTCPPorts": [873, 8080], "allowedUDPPorts": [], "allowedTCPPortRanges": [], "allowedUDPPortRanges": []}}'
check "user flashpods uid 990" \
	'.users.users.flashpods | .uid == 990 and .group == "flashpods" and .isSystemUser'
check "group flashpods" '.users.groups | has("flashpods")'

for u in fp-apid fp-tokend; do
	s=".systemd.services[\"$u\"]"
	check "$u: ExecStart" "$s.serviceConfig.ExecStart | startswith(\$stage + \"/bin/$u --bundle \" + \$compiled + \"/policy.pb \")"
	check "$u: runs as flashpods" "$s.serviceConfig | .User == \"flashpods\" and .Group == \"flashpods\""
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
check "fp-tokend: secrets copied, 0600 flashpods" "$T.ExecStartPre == [\"+/stub/coreutils/bin/install -m 0600 -o flashpods -g flashpods /etc/flashpods/secrets.json /run/fp-tokend/secrets.json\"]"
A='.systemd.services["fp-apid"].serviceConfig'
check "fp-apid: writes state, logs, uploads, artifacts" \
	"$A.ReadWritePaths == [\"/var/lib/flashpods\", \"/var/log/flashpods\", \"/tmp/flashpods/uploads\", \"/var/lib/flashpods/artifacts\"]"
check "fp-apid: address families" "$A.RestrictAddressFamilies == [\"AF_UNIX\", \"AF_INET\", \"AF_INET6\", \"AF_NETLINK\"]"
check "fp-apid: TMPDIR writable under ProtectSystem=strict" \
	'.systemd.services["fp-apid"].environment.TMPDIR == "/var/lib/flashpods/tmp" and (.systemd.tmpfiles.rules | index("d /var/lib/flashpods/tmp 0700 flashpods flashpods - -") != null)'
check "fp-apid: token copied, 0600 flashpods" "$A.ExecStartPre == [\"+/stub/coreutils/bin/install -m 0600 -o flashpods -g flashpods /etc/flashpods/api-token /run/flashpods-apid/api-token\"]"

check "tmpfiles: socket dirs with the policy's owners" \
	'.systemd.tmpfiles.rules | index("d /run/flashpods 0750 flashpods flashpods - -") != null and index("d /run/spire/sockets 0755 root root - -") != null'
check "tmpfiles: upload and artifact parents" \
	'.systemd.tmpfiles.rules | index("d /tmp/flashpods/uploads 0750 flashpods flashpods - -") != null and index("d /var/lib/flashpods/artifacts 0750 flashpods flashpods - -") != null'
check "tmpfiles: state and log dirs" \
	'.systemd.tmpfiles.rules | index("d /var/lib/flashpods 0750 flashpods flashpods - -") != null and index("d /var/log/flashpods 0750 flashpods flashpods - -") != null'

# the whole config, with this run's paths and the body (compared above) masked
jq -S --rawfile body "$COMPILED/flashpods.body.nft" \
	'.networking.nftables.tables.flashpods.content |= (if . == $body then "@BODY@" else . end)' "$C" |
	sed -E "s|$STAGE|@STAGE@|g; s|$COMPILED|@COMPILED@|g; s|/nix/store/[a-z0-9]{32}-|/nix/store/@HASH@-|g" >"$SCRATCH/config.got"
golden "module config (default.fp)" $HERE/default.config.json "$SCRATCH/config.got"

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
# a socket directly in /, uploads directly in /tmp, a socket directory with
# a space and a %: the shared ones get no rule, the odd one a quoted line
sed 's|"/run/flashpods/token.sock"|"/token.sock"|; s|"/tmp/flashpods/uploads/{upload_id}"|"/tmp/{upload_id}"|;
	s|"/run/spire/sockets/agent.sock"|"/run/spire 100%/agent.sock"|' policies/default.fp >"$SCRATCH/odd.fp"
if "$FPC" "$SCRATCH/odd.fp" -o "$SCRATCH/odd" >"$SCRATCH/odd.log" 2>&1; then
	O="$SCRATCH/odd/nixos.json"
	if jq -e '(.directories_skipped | map(.path)) == ["/", "/tmp"] and
		(.directories | map(.tmpfiles)) == ["d \"/run/spire 100%%\" 0755 root root - -",
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

# --- the units' command lines, run for real (-n: load, check, exit) ---------
# As systemd would: ExecStartPre copies the secret (into our scratch /run),
# then ExecStart runs as the unit's user. Here the policy pins the uid the
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
	printf '%064d\n' 7 >"$L/api-token"
	chmod 0600 "$L/secrets.json" "$L/api-token"
	if [ -x "$B/tools/jwt_sign" ] && "$B/tools/jwt_sign" jwks "$L/jwt.pem,kid=t" >"$L/jwks.json" &&
		compile_with_module "$L/local.fp" "$L/compiled" &&
		nixeval $HERE/eval.nix --argstr stage "$STAGE" --argstr compiled "$L/compiled" \
			--arg settings "{ policy = $L/local.fp; stateDir = \"$L/state\"; logDir = \"$L/log\";
				api.tokenFile = \"$L/api-token\"; tokenService.secretsFile = \"$L/secrets.json\";
				tokenService.trustBundle = \"$L/jwks.json\"; }" -A config >"$L/config.json" 2>"$L/err"; then
		chmod -R a+rX "$L/compiled"
		for u in fp-tokend fp-apid; do
			unit=$(jq -c ".systemd.services[\"$u\"].serviceConfig" "$L/config.json")
			local_cmd() { sed "s|/stub/coreutils/bin/||; s|/run/|$L/run/|g; s|^+||"; }
			pre=$(jq -r '.ExecStartPre[0]' <<<"$unit" | local_cmd)
			start=$(jq -r '.ExecStart' <<<"$unit" | local_cmd)
			if $pre && runuser -u "$(jq -r .User <<<"$unit")" -- $start -n >"$L/$u.log" 2>&1; then
				pass "$u: the unit's command line starts (-n)"
			else
				fail "$u: the unit's command line starts (-n)" "$(tail -2 "$L/$u.log")"
			fi
		done
	else
		fail "units run" "setting up: $(tail -3 "$L/err" 2>/dev/null)"
	fi
else
	fail "units run" "cannot create the flashpods user"
fi

# --- another policy: every way a cell opens a port ------------------------
PORTS="$SCRATCH/ports"
if compile_with_module $HERE/ports.fp "$PORTS" &&
	nixeval $HERE/eval.nix --argstr stage "$STAGE" --argstr compiled "$PORTS" \
		--arg settings "{ policy = $TOP/$HERE/ports.fp; }" -A config >"$SCRATCH/ports.json" 2>"$SCRATCH/err"; then
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
		'.systemd.tmpfiles.rules[0:3] == ["d /run/edge 0750 builder builder - -", "d /srv/edge/jobs 0750 builder builder - -", "d /var/cache/edge 0750 builder builder - -"]'
	check "ports.fp: no api or token service, no daemons" '.systemd.services == {}'
	C="$SCRATCH/config.json" BODY="$COMPILED/flashpods.body.nft"
else
	fail "ports.fp" "$(cat "$SCRATCH/err" "$SCRATCH"/build.*/log 2>/dev/null | tail -3)"
fi

# --- a firewall-only policy: table and firewall, no user, no units --------
PLAIN="$SCRATCH/plain"
if compile_with_module $HERE/plain.fp "$PLAIN" &&
	nixeval $HERE/eval.nix --argstr stage "$STAGE" --argstr compiled "$PLAIN" \
		--arg settings "{ policy = $TOP/$HERE/plain.fp; }" -A config >"$SCRATCH/plain.json" 2>"$SCRATCH/err"; then
	C="$SCRATCH/plain.json" BODY="$PLAIN/flashpods.body.nft"
	check "plain.fp: table and eth0 tcp 22" \
		'.networking.nftables.tables.plain.content == $body and .networking.firewall.interfaces.eth0.allowedTCPPorts == [22]'
	check "plain.fp: no user, units or directories; assertions hold" \
		'(has("users") or (.systemd | has("services"))) == false and .systemd.tmpfiles.rules == [] and ([.assertions[].assertion] | all)'
	C="$SCRATCH/config.json" BODY="$COMPILED/flashpods.body.nft"
else
	fail "plain.fp" "$(cat "$SCRATCH/err" "$SCRATCH"/build.*/log 2>/dev/null | tail -3)"
fi

# --- enable = false: nothing, and nothing built or read ----------------------
if r=$(nixeval $HERE/eval.nix --argstr stage "$STAGE" --argstr compiled /nonexistent \
	--arg enable false -A config 2>&1) && [ "$r" = "{}" ]; then
	pass "enable = false yields nothing"
else
	fail "enable = false yields nothing" "$r"
fi

# ... also as the real module system sees it: it pushes every definition
# down to its option, evaluating the attribute names on the way before any
# mkIf condition. With no compiled output, that must not need one (a name
# taken from nixos.json above an option would read it even when disabled).
if r=$(nixeval $HERE/eval.nix --argstr stage "$STAGE" --argstr compiled /nonexistent \
	--arg enable false -A pushDown 2>&1) &&
	[ "$r" = '["assertions","environment.etc","environment.systemPackages","networking.firewall.allowedTCPPortRanges","networking.firewall.allowedTCPPorts","networking.firewall.allowedUDPPortRanges","networking.firewall.allowedUDPPorts","networking.firewall.interfaces","networking.nftables.enable","networking.nftables.tables","system.build","systemd.services","systemd.tmpfiles.rules","users.groups","users.users","virtualisation.podman.enable"]' ]; then
	pass "enable = false: pushed down to options without the compiled output"
else
	fail "enable = false: pushed down to options without the compiled output" "$r"
fi

# --- options and their defaults ---------------------------------------------
if r=$(nixeval $HERE/eval.nix --argstr stage "$STAGE" --argstr compiled /nonexistent -A optionNames 2>&1) &&
	[ "$r" = '["api.tokenFile","enable","logDir","package","policy","stateDir","tokenService.secretsFile","tokenService.trustBundle"]' ]; then
	pass "options: exactly the issue's"
else
	fail "options: exactly the issue's" "$r"
fi
nixeval $HERE/eval.nix --argstr stage "$STAGE" --argstr compiled /nonexistent -A options |
	jq -S . | sed -E 's|/nix/store/[a-z0-9]{32}-|/nix/store/@HASH@-|g' >"$SCRATCH/options.got"
golden "options" $HERE/options.json "$SCRATCH/options.got"

# --- the build-time ruleset check, without the flashpods user ---------------
# As networking.nftables.checkRuleset does: the ruleset as NixOS writes it,
# then `nft --check`, here in our own network namespace and in a mount
# namespace whose /etc/passwd and /etc/group lack flashpods (as the build
# sandbox's do). fpc emits the pinned uid, so no mapping is needed; a user
# the policy does not pin is matched by name, and the module refuses it.
if [ "$(id -u)" -ne 0 ]; then
	fail "nft check" "needs root for namespaces"
	exit 0
fi
NS=$(ns_add nixcheck) || { fail "nft check" "cannot create a namespace"; exit 0; }
CK="$SCRATCH/check"
mkdir -p "$CK"
grep -v '^flashpods:' /etc/passwd >"$CK/passwd"
grep -v '^flashpods:' /etc/group >"$CK/group"
# nixos_ruleset CONFIG OUT: the table as NixOS's ruleset file holds it
nixos_ruleset() {
	{
		echo "table inet flashpods {"
		jq -j '.networking.nftables.tables.flashpods.content' "$1"
		echo
		echo "}"
	} >"$2"
}
# sandboxed CMD: CMD (a shell line) in the check directory, in the
# namespace, without the flashpods user
sandboxed() {
	ip netns exec "$NS" unshare -m sh -c "mount --bind '$CK/passwd' /etc/passwd &&
		mount --bind '$CK/group' /etc/group && cd '$CK' && ! id flashpods 2>/dev/null && $1"
}
nixos_ruleset "$C" "$CK/ruleset.conf"
if sandboxed 'nft --check -f ruleset.conf' >"$CK/check.log" 2>&1; then
	pass "nft --check passes without the flashpods user"
else
	fail "nft --check passes without the flashpods user" "$(head -3 "$CK/check.log")"
fi
if sandboxed 'nft -f ruleset.conf && nft list table inet flashpods' >"$CK/list.log" 2>&1 &&
	grep -q 'skuid 990' "$CK/list.log"; then
	pass "the table loads there with skuid 990"
else
	fail "the table loads there with skuid 990" "$(grep -m2 'skuid\|Error' "$CK/list.log")"
fi

# a `via user` row for a user the policy does not pin: matched by name,
# which fails the sandbox's check, and the module says so at evaluation
sed 's/^    via user flashpods; .*/    via user builder;/' policies/default.fp >"$SCRATCH/unpinned.fp"
if ! grep -q 'via user builder' "$SCRATCH/unpinned.fp"; then
	fail "unpinned user" "could not derive the policy"
elif ! compile_with_module "$SCRATCH/unpinned.fp" "$SCRATCH/unpinned"; then
	fail "unpinned user" "$(tail -3 "$SCRATCH"/build.*/log)"
else
	nixeval $HERE/eval.nix --argstr stage "$STAGE" --argstr compiled "$SCRATCH/unpinned" \
		--arg settings "{ policy = $SCRATCH/unpinned.fp; }" -A config >"$SCRATCH/unpinned.json" 2>&1
	nixos_ruleset "$SCRATCH/unpinned.json" "$CK/unpinned.conf"
	if grep -q 'skuid "*builder' "$CK/unpinned.conf" &&
		! sandboxed 'nft --check -f unpinned.conf' >/dev/null 2>&1; then
		pass "unpinned user: nft --check fails by name"
	else
		fail "unpinned user: nft --check fails by name" "$(grep -m1 skuid "$CK/unpinned.conf")"
	fi
	if jq -e '[.assertions[] | select(.assertion == false) | .message] | length == 1 and (.[0] | test("builder"))' \
		"$SCRATCH/unpinned.json" >/dev/null; then
		pass "unpinned user: the module's assertion names it"
	else
		fail "unpinned user: the module's assertion names it" "$(jq -c '.assertions' "$SCRATCH/unpinned.json")"
	fi
fi
