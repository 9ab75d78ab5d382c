#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# tests/e2e: the seed's validation checklist (/work/shared/seed, "Trust
# Boundary & Security Model"), end to end, with real parts only:
#
#   host      the ruleset `fpc apply` loaded from policies/default.fp; the
#             WireGuard interface (wireguard-go) with fpc's peers; rsyncd
#             with fpc's rsyncd.conf; fp-tokend on the policy's socket;
#             fp-apid on 10.0.0.1:8080 starting real rootless Podman jobs
#             (runc, slirp4netns) as flashpods; plain listeners on 8080 and
#             873 of the host's other addresses (as if a daemon listened on
#             every address, so a refusal there is the firewall's)
#   lap       the laptop: 10.0.0.2 through the tunnel; 192.0.2.2 on the
#             underlay (one link layer: a bridge in namespace net)
#   str       a stranger on the same underlay (192.0.2.3), without a tunnel,
#             routing 10.0.0.0/24 through the host
#   inet      "the internet" behind the host's uplink, listening on 443
#
# default.fp is used as it is but for what a test host needs: its paths moved
# into the scratch space, wg0 renamed to this run's interface, the container
# uid pinned to this host's flashpods, the laptop's real public key and the
# test image. The one stand-in is the SPIRE agent: the SVIDs it would issue
# are signed by this run's key (tests/tools/jwt_sign), which fp-tokend's trust
# bundle holds, and put in the job's /work; its socket is a plain listener.
#
# Each check is named KEY/WHAT, KEY standing for the seed's sentence the
# check proves; the sentence is printed before its checks ("-- seed: ...").
# docs/acceptance.md is the same list as the operator's acceptance test.
set -u
. "$(dirname "$0")/../lib.sh"
need_root e2e
NS_TAG=e2e$$
WG_TAG=e2e$$
. "$TOP/tests/wireguard/lib.sh"
. "$TOP/tests/apid/common.sh"
HERE=$TOP/tests/e2e
TOKEND=$B/fp-tokend
SIGN=$B/tools/jwt_sign
POLICY=$SCRATCH/policy/default.fp

# seed TEXT: the seed's sentence the next checks prove (quoted from the
# seed's tables and lines). checklist TEXT: an item of the issue's
# checklist that is not a sentence of the seed.
seed() { echo "-- seed: $1"; }
checklist() { echo "-- checklist: $1"; }

# ---- what the scene needs ---------------------------------------------------
for t in wireguard-go wg rsync socat curl jq podman nsenter openssl "${CC:-cc}"; do
	command -v "$t" >/dev/null ||
		{ fail e2e-tools "$t is not installed (Debian: wireguard-go wireguard-tools rsync socat curl jq podman openssl)"; exit 1; }
done
for f in "$FPC" "$APID" "$TOKEND" "$SIGN"; do
	[ -x "$f" ] || { fail e2e-tools "$f is not built (make all tools)"; exit 1; }
done
wg_tools_present || { fail e2e-tools "no /dev/net/tun for wireguard-go"; exit 1; }
podman_rootless_setup || { fail e2e-setup "rootless podman setup"; exit 1; }
podman_test_image "$IMAGE" || { fail e2e-setup "podman import of the test image"; exit 1; }

# The job image: the test image whose agent entrypoint runs the probe.
E2E_IMAGE=localhost/fp-e2e:$$
printf '#!/bin/sh\nexec /work/busybox sh /work/probe.sh agent\n' > "$SCRATCH/podman/entrypoint.sh"
chmod 0755 "$SCRATCH/podman/entrypoint.sh"
as_flashpods podman create --name "e2e-image-$$" "$IMAGE" true > /dev/null &&
	as_flashpods podman cp "$SCRATCH/podman/entrypoint.sh" "e2e-image-$$:/entrypoint.sh" &&
	as_flashpods podman commit -q "e2e-image-$$" "$E2E_IMAGE" > /dev/null ||
	{ fail e2e-setup "podman commit of $E2E_IMAGE"; exit 1; }
as_flashpods podman rm "e2e-image-$$" > /dev/null
on_exit "as_flashpods podman rmi -f $E2E_IMAGE"

# sockget, static, for the busybox image (uploaded with the job's files)
mkdir -p "$SCRATCH/lap/files"
"${CC:-cc}" -static -Os -o "$SCRATCH/lap/files/sockget" "$HERE/sockget.c" 2> "$SCRATCH/cc.log" ||
	{ fail e2e-setup "cannot build tests/e2e/sockget.c static: $(head -3 "$SCRATCH/cc.log")"; exit 1; }

# ---- keys, secrets, the policy ---------------------------------------------
mkdir -p "$SCRATCH/policy" "$SCRATCH/spire" "$SCRATCH/run" "$SCRATCH/tokend" "$SCRATCH/db" \
	"$SCRATCH/logs" "$SCRATCH/artifacts" "$SCRATCH/uploads"
chown flashpods:flashpods "$SCRATCH/run" "$SCRATCH/tokend" "$SCRATCH/db" "$SCRATCH/logs" \
	"$SCRATCH/artifacts" "$SCRATCH/uploads"
chmod 0755 "$SCRATCH/policy" "$SCRATCH/spire" "$SCRATCH/run"
for k in host laptop; do
	wg_keypair "$k" > /dev/null || { fail e2e-setup "wg genkey"; exit 1; }
done
# the SPIRE agent's JWT signing key (the stand-in) and the trust bundle
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$SCRATCH/spire/jwt.pem" 2>/dev/null &&
	"$SIGN" jwks --spiffe "$SCRATCH/spire/jwt.pem,kid=e2e" > "$SCRATCH/tokend/bundle.json" ||
	{ fail e2e-setup "SPIRE stand-in key"; exit 1; }
printf '{"anthropic_api_key": "sk-ant-e2e-secret", "github_token": "ghp_e2e_secret"}\n' \
	> "$SCRATCH/tokend/secrets.json"
chown flashpods:flashpods "$SCRATCH/tokend/secrets.json" "$SCRATCH/tokend/bundle.json"
chmod 0600 "$SCRATCH/tokend/secrets.json"
TOKEN=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
printf '%s\n' "$TOKEN" > "$SCRATCH/api-token"
chmod 0600 "$SCRATCH/api-token"

WH=$(wg_ifname h) && WL=$(wg_ifname l) || { fail e2e-setup "interface names"; exit 1; }
PLACEHOLDER=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=
sed -e "s|\"wg0\"|\"$WH\"|g" \
	-e "s|^\( *engine .* uid \)[0-9][0-9]*;|\1$FLASHPODS_UID;|" \
	-e "s|\"/run/flashpods/token.sock\"|\"$SCRATCH/run/token.sock\"|" \
	-e "s|\"/run/spire/sockets/agent.sock\"|\"$SCRATCH/spire/agent.sock\"|" \
	-e "s|\"/tmp/flashpods/uploads/{upload_id}\"|\"$SCRATCH/uploads/{upload_id}\"|" \
	-e "s|\"/var/lib/flashpods/artifacts/{job_id}\"|\"$SCRATCH/artifacts/{job_id}\"|" \
	-e "s|image \"ubuntu:22.04\"|image \"$E2E_IMAGE\"|" \
	-e "s|$PLACEHOLDER|$(cat "$WG_DIR/laptop.pub")|" \
	-e "s|^\( *table inet flashpods;\)|\1 mount roots \"$SCRATCH\";|" \
	"$TOP/policies/default.fp" > "$POLICY"
for want in "\"$WH\"" "uid $FLASHPODS_UID;" "$SCRATCH/run/token.sock" "$SCRATCH/spire/agent.sock" \
	"$SCRATCH/uploads/{upload_id}" "$SCRATCH/artifacts/{job_id}" "$E2E_IMAGE" \
	"$(cat "$WG_DIR/laptop.pub")" "mount roots"; do
	grep -qF -- "$want" "$POLICY" ||
		{ fail e2e-policy "policies/default.fp changed: cannot put '$want' in it"; exit 1; }
done
compile_step e2e-compile "$POLICY" "$SCRATCH/out" || exit 1
BUNDLE=$SCRATCH/out/policy.pb
for f in flashpods.nft wireguard.conf rsyncd.conf; do
	[ -f "$SCRATCH/out/$f" ] || { fail e2e-artifacts "fpc wrote no $f"; exit 1; }
done

# ---- namespaces, underlay, uplink, the tunnel -------------------------------
H=$(ns_add host) && L=$(ns_add lap) && X=$(ns_add str) && I=$(ns_add inet) &&
	U=$(ns_add net) || { fail e2e-topology "ip netns add"; exit 1; }
# underlay NS ADDR: NS joins the underlay, one link layer (a bridge in
# namespace U) for the host, the laptop and the stranger, with ADDR.
_nunder=0
underlay() {
	_nunder=$((_nunder + 1))
	local a="e2e$$s$_nunder" b="e2e$$u$_nunder"
	ip link add "$a" netns "$U" type veth peer name "$b" netns "$1" &&
		ip -n "$U" link set "$a" master "e2e$$br" && ip -n "$U" link set "$a" up &&
		ip -n "$1" addr add "$2" dev "$b" && ip -n "$1" link set "$b" up
}
ip -n "$U" link add "e2e$$br" type bridge && ip -n "$U" link set "e2e$$br" up &&
	underlay "$H" 192.0.2.1/24 && underlay "$L" 192.0.2.2/24 && underlay "$X" 192.0.2.3/24 &&
	wg_veth "$H" 198.51.100.1/24 "$I" 198.51.100.2/24 &&
	ip -n "$X" route add 10.0.0.0/24 via 192.0.2.1 ||
	{ fail e2e-topology "underlay and uplink"; exit 1; }
wg_up "$H" "$WH" host 10.0.0.1/24 || { fail e2e-wireguard "wireguard-go on the host"; exit 1; }
printf '[Interface]\nPrivateKey = %s\n' "$(cat "$WG_DIR/host.key")" > "$WG_DIR/host.head"
cat "$WG_DIR/host.head" "$SCRATCH/out/wireguard.conf" | wg_do "$H" wg setconf "$WH" /dev/stdin ||
	{ fail e2e-wireguard "wg setconf with fpc's wireguard.conf"; exit 1; }
wg_up "$L" "$WL" laptop 10.0.0.2/24 &&
	wg_do "$L" wg set "$WL" peer "$(cat "$WG_DIR/host.pub")" allowed-ips 10.0.0.1/32 \
		endpoint 192.0.2.1:51820 persistent-keepalive 1 ||
	{ fail e2e-wireguard "wireguard-go on the laptop"; exit 1; }

# ---- the host's daemons -------------------------------------------------------
# hostns CMD...: run CMD in the host namespace (network only: the mount
# namespace stays the machine's, as podman's storage expects). HOSTNS is the
# same as a command prefix, for daemons started in the background (so $! is
# the daemon itself: nsenter execs it).
HOSTNS=(nsenter --net="/run/netns/$H")
hostns() { "${HOSTNS[@]}" "$@"; }
# listening ADDR:PORT: wait (5 s at most) until something listens there in the host.
listening() {
	for _ in $(seq 50); do
		hostns ss -ltnH | awk '{ print $4 }' | grep -qx "$1" && return 0
		sleep 0.1
	done
	return 1
}

if "$FPC" apply "$POLICY" --netns "$H" > "$SCRATCH/apply.log" 2>&1; then
	pass e2e-fpc-apply
else
	fail e2e-fpc-apply "$(head -5 "$SCRATCH/apply.log")"
	exit 1
fi

"${HOSTNS[@]}" rsync --daemon --no-detach --config="$SCRATCH/out/rsyncd.conf" \
	--dparam=pidfile="$SCRATCH/rsyncd.pid" --dparam=lockfile="$SCRATCH/rsyncd.lock" \
	--log-file="$SCRATCH/rsyncd.log" > "$SCRATCH/rsyncd.out" 2>&1 &
on_exit "kill $!"
listening 10.0.0.1:873 || { fail e2e-rsyncd "$(cat "$SCRATCH/rsyncd.out")"; exit 1; }

# the SPIRE agent's socket, for the mount only (nothing asks it here)
socat UNIX-LISTEN:"$SCRATCH/spire/agent.sock",fork,unlink-early /dev/null > /dev/null 2>&1 &
on_exit "kill $!"
setpriv --reuid=flashpods --regid=flashpods --init-groups "$TOKEND" -b "$BUNDLE" \
	-s "$SCRATCH/tokend/secrets.json" -t "$SCRATCH/tokend/bundle.json" \
	-a "$SCRATCH/tokend/audit.log" 2> "$SCRATCH/tokend.log" &
TOKEND_PID=$!
on_exit "kill $TOKEND_PID"
for _ in $(seq 100); do
	[ -S "$SCRATCH/run/token.sock" ] && [ -S "$SCRATCH/spire/agent.sock" ] && break
	sleep 0.05
done
[ -S "$SCRATCH/run/token.sock" ] || { fail e2e-tokend "$(tail -3 "$SCRATCH/tokend.log")"; exit 1; }

# fp-apid as root (it drops to flashpods), podman with the suite's CONTAINERS_CONF
"${HOSTNS[@]}" "$APID" -b "$BUNDLE" -t "$SCRATCH/api-token" --db "$SCRATCH/db/flashpods.db" \
	--log-dir "$SCRATCH/logs" > "$SCRATCH/apid.log" 2>&1 &
APID_PID=$!
on_exit "kill $APID_PID"
listening 10.0.0.1:8080 || { fail e2e-apid "$(tail -5 "$SCRATCH/apid.log")"; exit 1; }

# the host's other addresses: a plain listener on each API and rsync port
for a in 192.0.2.1 198.51.100.1; do
	for p in 8080 873; do
		"${HOSTNS[@]}" socat "TCP-LISTEN:$p,bind=$a,fork,reuseaddr" \
			SYSTEM:"echo stand-in on $a:$p" > /dev/null 2>&1 &
		on_exit "kill $!"
		listening "$a:$p" || { fail e2e-listeners "nothing on $a:$p"; exit 1; }
	done
done
# the internet's listener
ip netns exec "$I" socat TCP-LISTEN:443,fork,reuseaddr SYSTEM:'echo hello from the internet' \
	> /dev/null 2>&1 &
for _ in $(seq 50); do ip netns exec "$I" ss -ltnH | grep -q ':443 ' && break; sleep 0.1; done

# ---- from the laptop ------------------------------------------------------------
URL=http://10.0.0.1:8080
# api METHOD PATH [CURL ARGS...]: an authorised request from the laptop
# (common.sh's api, in the laptop's namespace). Prints the status code; the
# body is in $SCRATCH/body.
api() {
	local m=$1 p=$2
	shift 2
	ip netns exec "$L" curl -s -m 10 -X "$m" -H "Authorization: Bearer $TOKEN" \
		-H 'Content-Type: application/json' -D "$SCRATCH/headers" \
		-o "$SCRATCH/body" -w '%{http_code}' "$@" "$URL$p"
}
# from NS CURL-ARGS...: curl from namespace NS, 3 s to connect; prints
# "CODE EXIT" (000 and curl's exit status when nothing answered).
from() {
	local ns=$1 code
	shift
	code=$(ip netns exec "$ns" curl -s -m 5 --connect-timeout 3 -o "$SCRATCH/body" \
		-w '%{http_code}' "$@")
	echo "$code $?"
}

seed "Network: WireGuard. MCP Server (laptop): Can Access API: Yes (bearer token)."
# the first packets wait for the handshake: up to 10 tries
for _ in $(seq 10); do
	got=$(from "$L" "$URL/health")
	[ "$got" = "200 0" ] && break
done
check laptop-api/health-over-wireguard "200 0 healthy" "$got $(body_get .status)"
check laptop-api/jobs-without-token-401 "401 0 missing_authorization" \
	"$(from "$L" "$URL/jobs") $(body_get .error)"
seed "Firewall Policy: 51820 (WireGuard): Internet."
# the tunnel came up through the loaded ruleset: udp 51820 from the underlay
hs=$(wg_handshake "$H" "$WH" "$(cat "$WG_DIR/laptop.pub")")
[ "${hs:-0}" -gt 0 ] && pass wireguard-from-anywhere/laptop-handshake-through-firewall ||
	fail wireguard-from-anywhere/laptop-handshake-through-firewall "no handshake with the laptop's key on $WH"

seed "MCP Server (laptop): Can Access rsync: Yes (IP allowlist)."
# the job's files: the probe, its scene, sockget, and the bearer token,
# leaked into the upload (what a job does with it is the point)
cp "$HERE/probe.sh" "$SCRATCH/lap/files/probe.sh"
cp /bin/busybox "$SCRATCH/lap/files/busybox"
cat > "$SCRATCH/lap/files/scene.sh" <<EOF
API=10.0.0.1
OTHER_ADDRS="192.0.2.1 198.51.100.1"
INTERNET=198.51.100.2
TOKEN_SOCK=$SCRATCH/run/token.sock
EOF
cp "$SCRATCH/api-token" "$SCRATCH/lap/files/leaked-api-token"
chmod 0644 "$SCRATCH/lap/files/"*
# upload ID FROM-NS: rsync the job's files to module uploads, upload ID;
# prints rsync's output, returns its status.
upload() {
	ip netns exec "$2" timeout 20 rsync --contimeout=3 -r --chmod=F0755 \
		"$SCRATCH/lap/files/" "rsync://10.0.0.1/uploads/$1/" 2>&1
}
for u in u-worker u-agent u-control; do
	if out=$(upload "$u" "$L") && cmp -s "$SCRATCH/lap/files/probe.sh" "$SCRATCH/uploads/$u/probe.sh"; then
		pass "laptop-rsync/upload-$u"
	else
		fail "laptop-rsync/upload-$u" "$out"
	fi
done
check laptop-rsync/upload-owned-by-flashpods flashpods "$(stat -c %U "$SCRATCH/uploads/u-worker/probe.sh" 2>&1)"

# The SPIRE stand-in hands each job its SVID (a worker's and an agent's).
svid() {
	"$SIGN" sign -k "$SCRATCH/spire/jwt.pem" -i e2e -s "spiffe://flashpods.local/$2" -e 600 \
		> "$SCRATCH/uploads/$1/svid.jwt" &&
		chown flashpods:flashpods "$SCRATCH/uploads/$1/svid.jwt" &&
		chmod 0600 "$SCRATCH/uploads/$1/svid.jwt"
}
svid u-worker worker && svid u-agent agent || { fail e2e-svid "jwt_sign"; exit 1; }

seed "MCP Server (laptop): Can Access API: Yes (bearer token)."
check laptop-api/post-jobs-worker 201 \
	"$(api POST /jobs --data-binary '{"type":"worker","files_id":"u-worker","command":"/work/busybox sh /work/probe.sh worker"}')"
WID=$(body_get .id)
check laptop-api/post-jobs-agent 201 \
	"$(api POST /jobs --data-binary '{"type":"agent","files_id":"u-agent","task":"probe the boundary","git_branch":"main"}')"
AID=$(body_get .id)
on_exit "as_flashpods podman rm -f job_$WID job_$AID"

# ---- the stranger, at the firewall (while the jobs run) --------------------
seed "Firewall Policy: 8080 (API): 10.0.0.2 only."
check api-only-laptop/stranger-health-dropped "000 28" "$(from "$X" "$URL/health")"
check api-only-laptop/stranger-post-jobs-dropped "000 28" \
	"$(from "$X" -X POST -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
		--data-binary '{"type":"agent","files_id":"u-agent","task":"x"}' "$URL/jobs")"
seed "Firewall Policy: 873 (rsync): 10.0.0.2 only."
out=$(upload s-firewall "$X"); rc=$?
check rsync-only-laptop/stranger-upload-dropped "35 no" \
	"$rc $([ -e "$SCRATCH/uploads/s-firewall" ] && echo yes || echo no)"

# ---- inside the jobs ------------------------------------------------------------
# output ID: the job's log from fp-apid, without podman's cgroup v1 warning.
output() {
	api GET "/jobs/$1/output?tail=10000" > /dev/null
	body_get .output | grep -v '^Resource limits are not supported and ignored on cgroups V1'
}
# probe_wait ID FILE: wait (60 s at most) until the job's probe says
# "waiting" (or the job ended); its log so far in FILE.
probe_wait() {
	for _ in $(seq 600); do
		output "$1" > "$2"
		grep -qx waiting "$2" && return 0
		case $(body_get .status) in queued|running) ;; *) return 1 ;; esac
		sleep 0.1
	done
	return 1
}
# res FILE ATTEMPT: what the probe in FILE printed for ATTEMPT.
res() { awk -v k="$2" '$1 == k { $1 = ""; sub(/^ /, ""); print; exit }' "$1"; }

probe_wait "$WID" "$SCRATCH/worker.probe" || fail e2e-worker-probe "$(head -c 600 "$SCRATCH/worker.probe")"
probe_wait "$AID" "$SCRATCH/agent.probe" || fail e2e-agent-probe "$(head -c 600 "$SCRATCH/agent.probe")"

# the job's processes as the host sees them (while the probe waits)
hostview() {
	local pid
	pid=$(as_flashpods podman container inspect "job_$1" --format '{{.State.Pid}}' 2>/dev/null)
	[ -n "$pid" ] && [ "$pid" != 0 ] || { echo "no process"; return; }
	awk '/^Uid:/ { print "uid", $2, $3, $4, $5 } /^CapEff:/ { print "CapEff", $2 }' "/proc/$pid/status" | xargs
}
WHOST=$(hostview "$WID")
AHOST=$(hostview "$AID")
touch "$SCRATCH/artifacts/$WID/release" "$SCRATCH/artifacts/$AID/release"

# ROLES: the jobs whose probe results expect and expect_fast check (both,
# unless a call sets it for itself)
ROLES="worker agent"
# expect NAME WANT ATTEMPT: check NAME-ROLE for each role: WANT is what
# the ROLE job's probe printed for ATTEMPT.
expect() {
	local r
	for r in $ROLES; do
		check "$1-$r" "$2" "$(res "$SCRATCH/$r.probe" "$3")"
	done
}
# expect_fast NAME ATTEMPT: the attempt failed at once (refused, or no
# route at all), not after a timeout.
expect_fast() {
	local r got
	for r in $ROLES; do
		got=$(res "$SCRATCH/$r.probe" "$2")
		case $got in
		refused|unreachable) pass "$1-$r" ;;
		*) fail "$1-$r" "got '$got'" ;;
		esac
	done
}

seed "Job containers can never call \`POST /jobs\` or access rsync. [...] regardless of what code runs inside them. (Job containers: Can Access API: No (firewall); Can Access rsync: No (firewall).)"
expect no-spawn/api-10.0.0.1:8080-refused refused api@10.0.0.1:8080
expect no-spawn/rsync-10.0.0.1:873-refused refused rsync@10.0.0.1:873
expect no-spawn/post-jobs-with-stolen-token-cannot-connect refused post-jobs-with-token
expect_fast no-spawn/api-container-127.0.0.1:8080-fails-fast api@127.0.0.1:8080
expect_fast no-spawn/api-slirp-host-loopback-10.0.2.2:8080-fails-fast api@10.0.2.2:8080

seed "Containers are blocked from 8080 and 873 by host firewall. (On every address of the host: a listener there answers once the firewall is gone, below.)"
for a in 192.0.2.1 198.51.100.1; do
	expect "blocked-by-firewall/api-$a:8080-refused" refused "api@$a:8080"
	expect "blocked-by-firewall/rsync-$a:873-refused" refused "rsync@$a:873"
done

seed "Job containers: Can Access Internet: Yes. (Internet: Yes.)"
expect containers-internet/443-answers "connected: hello from the internet" internet@198.51.100.2:443

seed "Job containers: Can Access Token Svc: Yes (unix socket). Secrets: Token exchange via SPIFFE ID. Privilege: Worker vs Agent via SPIFFE ID."
ROLES=worker expect secrets-by-spiffe-id/github-token-only \
	'200 {"ANTHROPIC_API_KEY":null,"GITHUB_TOKEN":"ghp_e2e_secret"}' tokens
ROLES=agent expect secrets-by-spiffe-id/both-secrets \
	'200 {"ANTHROPIC_API_KEY":"sk-ant-e2e-secret","GITHUB_TOKEN":"ghp_e2e_secret"}' tokens
for forged in forged-agent-svid unsigned-agent-svid; do
	got=$(res "$SCRATCH/worker.probe" "$forged")
	case $got in
	"401 "*invalid_jwt*) if grep -q 'sk-ant\|ghp_' <<<"$got"; then
			fail "secrets-by-spiffe-id/$forged-gets-nothing-worker" "$got"
		else pass "secrets-by-spiffe-id/$forged-gets-nothing-worker"; fi ;;
	*) fail "secrets-by-spiffe-id/$forged-gets-nothing-worker" "$got" ;;
	esac
done

seed "Token socket: Yes (mounted); Container Mounts: mount permissions (default.fp: privilege worker mount work ro, agent mount work rw)."
ROLES=worker expect mounts/work-read-only "read-only: touch: /work/written-by-worker: Read-only file system" work
ROLES=agent expect mounts/work-writable writable work
check mounts/agent-file-on-host-owned-by-flashpods flashpods \
	"$(stat -c %U "$SCRATCH/uploads/u-agent/written-by-agent" 2>&1)"

seed "All containers are launched: Rootless (no root inside or outside container); As host user \`flashpods\`; With \`--userns=keep-id\`."
expect rootless/uid-inside-is-flashpods "$FLASHPODS_UID gid $FLASHPODS_UID" uid
for r in worker agent; do
	check "rootless/no-capabilities-$r" "0000000000000000 0000000000000000 0000000000000000 0000000000000000 0000000000000000" \
		"$(for c in CapInh CapPrm CapEff CapBnd CapAmb; do res "$SCRATCH/$r.probe" "$c"; done | xargs)"
done
expect rootless/no-new-privileges 1 NoNewPrivs
check rootless/host-process-flashpods-no-caps-worker "uid $FLASHPODS_UID $FLASHPODS_UID $FLASHPODS_UID $FLASHPODS_UID CapEff 0000000000000000" "$WHOST"
check rootless/host-process-flashpods-no-caps-agent "uid $FLASHPODS_UID $FLASHPODS_UID $FLASHPODS_UID $FLASHPODS_UID CapEff 0000000000000000" "$AHOST"

# ---- after: the records ---------------------------------------------------------
seed "This is enforced by host firewall, not by convention. (fpc verify-live proves the invariant on the ruleset the kernel holds.)"
out=$("$FPC" verify-live "$POLICY" --netns "$H" 2>&1); rc=$?
[ $rc -eq 0 ] && pass enforced-by-firewall/verify-live-passes || fail enforced-by-firewall/verify-live-passes "rc=$rc: $out"

checklist "After: the job's record and logs are in fp-apid."
check after/worker-job-record "completed 0 worker u-worker" \
	"$(wait_status "$WID" completed failed timed_out lost) $(body_get '"\(.exit_code) \(.type) \(.files_id)"')"
check after/agent-job-record "completed 0 agent u-agent" \
	"$(wait_status "$AID" completed failed timed_out lost) $(body_get '"\(.exit_code) \(.type) \(.files_id)"')"
for r in worker:$WID agent:$AID; do
	if output "${r#*:}" | grep -qx done && grep -q '^tokens 200 ' "$SCRATCH/logs/${r#*:}.log"; then
		pass "after/${r%%:*}-job-log-in-fp-apid"
	else
		fail "after/${r%%:*}-job-log-in-fp-apid" "$(output "${r#*:}" | tail -3)"
	fi
done

# ---- the firewall removed: the daemons still refuse (defence in depth) -----------
hostns nft delete table inet flashpods ||
	{ fail e2e-remove-firewall "nft delete table"; exit 1; }
out=$("$FPC" verify-live "$POLICY" --netns "$H" 2>&1); rc=$?
[ $rc -ne 0 ] && pass enforced-by-firewall/verify-live-sees-it-gone ||
	fail enforced-by-firewall/verify-live-sees-it-gone "rc=$rc: $out"

seed "Security Layers: File upload: rsyncd allowlist = laptop IP only. (With the firewall removed, rsyncd itself refuses the stranger.)"
out=$(upload s-nofirewall "$X"); rc=$?
check rsyncd-allowlist/stranger-refused-by-rsyncd "5 @ERROR: access denied to uploads from UNDETERMINED (192.0.2.3) no" \
	"$rc $(head -1 <<<"$out") $([ -e "$SCRATCH/uploads/s-nofirewall" ] && echo yes || echo no)"

seed "Security Layers: API access: Bearer token (MCP only). (With the firewall removed, fp-apid itself refuses the stranger holding the real token.)"
njobs=$(api GET '/jobs?limit=100' > /dev/null; body_get .count)
got=$(from "$X" -X POST -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
	--data-binary '{"type":"agent","files_id":"u-agent","task":"x"}' "$URL/jobs")
# fp-apid answers 403 source_not_allowed, or closes the connection at accept
case "$got $(body_get .error 2>/dev/null)" in
"403 0 source_not_allowed"|"000 52"*|"000 56"*) pass bearer-mcp-only/stranger-refused-by-fp-apid ;;
*) fail bearer-mcp-only/stranger-refused-by-fp-apid "$got $(head -c 200 "$SCRATCH/body")" ;;
esac
check bearer-mcp-only/no-job-created "$njobs" "$(api GET '/jobs?limit=100' > /dev/null; body_get .count)"

seed "Containers are blocked from 8080 and 873 by host firewall. (The control: without the firewall the same attempts connect, and meet the daemons' own allowlists.)"
check laptop-api/post-jobs-control 201 \
	"$(api POST /jobs --data-binary '{"type":"worker","files_id":"u-control","command":"/work/busybox sh /work/probe.sh control"}')"
CID=$(body_get .id)
on_exit "as_flashpods podman rm -f job_$CID"
check blocked-by-firewall/control-job-completes completed "$(wait_status "$CID" completed failed timed_out lost)"
output "$CID" > "$SCRATCH/control.probe"
for a in 10.0.0.1 192.0.2.1 198.51.100.1; do
	for s in api@$a:8080 rsync@$a:873; do
		case $(res "$SCRATCH/control.probe" "$s") in
		connected*) pass "blocked-by-firewall/control-$s-connects" ;;
		*) fail "blocked-by-firewall/control-$s-connects" "$(res "$SCRATCH/control.probe" "$s")" ;;
		esac
	done
done
# what got through the missing firewall still met the daemons' own allowlists
case $(res "$SCRATCH/control.probe" api@10.0.0.1:8080) in
connected:|*source_not_allowed*) pass no-spawn/control-fp-apid-refuses-the-container ;;
*) fail no-spawn/control-fp-apid-refuses-the-container "$(res "$SCRATCH/control.probe" api@10.0.0.1:8080)" ;;
esac
check no-spawn/control-no-job-spawned "$((njobs + 1))" "$(api GET '/jobs?limit=100' > /dev/null; body_get .count)"
case $(res "$SCRATCH/control.probe" rsync@10.0.0.1:873) in
*"@ERROR: access denied to uploads"*) pass no-spawn/control-rsyncd-refuses-the-container ;;
*) fail no-spawn/control-rsyncd-refuses-the-container "$(res "$SCRATCH/control.probe" rsync@10.0.0.1:873)" ;;
esac

# ---- every refusal where an operator looks ---------------------------------------
checklist "Every refused attempt is visible where an operator would look: fp-apid's log (403/401), fp-tokend's audit log."
grep -q 'peer 192\.0\.2\.3\(:[0-9]*\)\? refused' "$SCRATCH/apid.log" &&
	pass visible/apid-log-stranger-403 || fail visible/apid-log-stranger-403 "$(grep refused "$SCRATCH/apid.log" | tail -3)"
grep -q 'peer 10\.0\.0\.1\(:[0-9]*\)\? refused' "$SCRATCH/apid.log" &&
	pass visible/apid-log-container-without-firewall ||
	fail visible/apid-log-container-without-firewall "$(grep refused "$SCRATCH/apid.log" | tail -3)"
grep -q 'peer 10\.0\.0\.2\(:[0-9]*\)\?: no token' "$SCRATCH/apid.log" &&
	pass visible/apid-log-401 || fail visible/apid-log-401 "$(tail -5 "$SCRATCH/apid.log")"
audit() {	# the audit lines as "decision status error spiffe_id uid secrets"
	jq -r '"\(.decision) \(.status) \(.error) \(.spiffe_id) \(.uid) \(.secrets | join(","))"' \
		"$SCRATCH/tokend/audit.log" 2>&1 | sort
}
audit > "$SCRATCH/audit.got"
check visible/tokend-audit-worker "1" "$(grep -c "^allow 200 null spiffe://flashpods.local/worker $FLASHPODS_UID GITHUB_TOKEN$" "$SCRATCH/audit.got")"
check visible/tokend-audit-agent "1" "$(grep -c "^allow 200 null spiffe://flashpods.local/agent $FLASHPODS_UID ANTHROPIC_API_KEY,GITHUB_TOKEN$" "$SCRATCH/audit.got")"
check visible/tokend-audit-forgeries "2" "$(grep -c "^deny 401 invalid_jwt .* $FLASHPODS_UID $" "$SCRATCH/audit.got")"
grep -q 'sk-ant-e2e\|ghp_e2e' "$SCRATCH/tokend/audit.log" &&
	fail visible/tokend-audit-no-values "a secret value is in the audit log" ||
	pass visible/tokend-audit-no-values

# ---- the daemons stop cleanly (and, in an ASan build, reported nothing) -----
kill -TERM "$APID_PID" "$TOKEND_PID"
wait "$APID_PID"; apid_rc=$?
wait "$TOKEND_PID"; tokend_rc=$?
if [ "$apid_rc $tokend_rc" = "0 0" ]; then pass e2e-daemons-stop
else fail e2e-daemons-stop "exit $apid_rc $tokend_rc: $(tail -2 "$SCRATCH/apid.log") $(tail -2 "$SCRATCH/tokend.log")"; fi
if grep -q 'ERROR: \(Address\|Leak\)Sanitizer\|runtime error' "$SCRATCH/apid.log" "$SCRATCH/tokend.log"; then
	grep -h -A5 'Sanitizer\|runtime error' "$SCRATCH/apid.log" "$SCRATCH/tokend.log" | head -40
	fail e2e-sanitizers "sanitizer report in a daemon log"
else
	pass e2e-sanitizers
fi
exit 0
