#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# fp-tokend: the real daemon on a real unix socket, real keys made here with
# the openssl CLI, tokens from tests/tools/jwt_sign, requests with curl.
# The policy is policies/default.fp with its token socket moved into this
# run's scratch directory, compiled by fpc. fp-tokend refuses to serve as
# root: as root this suite runs it as `flashpods` (the socket's owner); as
# another user it runs it as that user (the policy's socket owner is
# rewritten to it) and skips the cases that switch uids or make cgroups.
. "$(dirname "$0")/../lib.sh"

T=$TOP/tests/tokend
SIGN=$B/tools/jwt_sign
TOKEND=$B/fp-tokend
for f in "$SIGN" "$TOKEND" "$FPC"; do
	[ -x "$f" ] || { fail tokend "$f not built"; exit 1; }
done
if [ "$(id -u)" -eq 0 ]; then
	ensure_flashpods_user || { fail tokend "cannot create the flashpods user"; exit 1; }
	ROOT=1 DUSER=flashpods DGROUP=flashpods
	# "${AS_D[@]}" CMD...: run CMD as the daemon's user (exec'd: same pid)
	AS_D=(setpriv --reuid=flashpods --regid=flashpods --init-groups)
else
	ROOT= DUSER=$(id -un) DGROUP=$(id -gn)
	AS_D=(env)
	echo "not root: cases that switch uids or make cgroups are skipped"
fi
FP_UID=$(id -u "$DUSER")

# The scratch directory must be traversable for the uid tests; the files
# in it that matter carry their own modes.
chmod 0755 "$SCRATCH"
cd "$SCRATCH" || exit 1
RUN=$SCRATCH/run
mkdir -m 0755 "$RUN"
SOCK=$RUN/token.sock

# --- fixtures: keys, trust bundle, secrets, policy --------------------------
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out p256.pem 2>/dev/null &&
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384 -out p384.pem 2>/dev/null &&
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-521 -out p521.pem 2>/dev/null &&
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out rsa.pem 2>/dev/null &&
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:1024 -out rsa1024.pem 2>/dev/null &&
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out rotated.pem 2>/dev/null &&
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out later.pem 2>/dev/null ||
	{ fail keys "openssl genpkey failed"; exit 1; }
"$SIGN" jwks --spiffe p256.pem,kid=k256 p384.pem,kid=k384 p521.pem,kid=k521 \
	rsa.pem,kid=krsa > bundle.json || { fail jwks "jwt_sign jwks failed"; exit 1; }

printf '{"anthropic_api_key": "sk-ant-test-1", "github_token": "ghp_test_1"}\n' > secrets.json
chmod 0600 secrets.json

grep -q '"/run/flashpods/token.sock"' "$TOP/policies/default.fp" ||
	{ fail policy "policies/default.fp has no token socket at /run/flashpods/token.sock"; exit 1; }
sed -e "s|\"/run/flashpods/token.sock\"|\"$SOCK\"|" \
	-e "/^service token/s/owner flashpods:flashpods/owner $DUSER:$DGROUP/" \
	"$TOP/policies/default.fp" > policy.fp
if "$FPC" policy.fp -o out >fpc.log 2>&1 && [ -f out/policy.pb ]; then
	pass policy-compiles
else
	cat fpc.log
	fail policy-compiles "fpc could not compile the test policy"
	exit 1
fi
# the daemon's user owns the scratch space (as root; else it already does)
[ -z "$ROOT" ] || chown -R flashpods:flashpods "$SCRATCH"
# what the policy says about the socket, read from the policy text
SOCK_LINE=$(grep -E '^service[[:space:]]+token[[:space:]]' policy.fp)
WANT_OWNER=$(sed -E 's/.*owner ([a-z_][a-z0-9_-]*):([a-z_][a-z0-9_-]*).*/\1:\2/' <<<"$SOCK_LINE")
WANT_MODE=$(sed -E 's/.* mode 0?([0-7]+).*/\1/' <<<"$SOCK_LINE")

# --- helpers -----------------------------------------------------------------
ARGS=(-b out/policy.pb -s secrets.json -t bundle.json)

# sign NAME ARGS...: a token from jwt_sign into $NAME-token.jwt; echoes it.
tok() { "$SIGN" sign "$@"; }

# wait_sock PATH: wait up to 5 s for a socket to accept connections.
wait_sock() {
	for _ in $(seq 100); do
		[ -S "$1" ] && curl -s -o /dev/null --unix-socket "$1" http://l/health && return 0
		sleep 0.05
	done
	return 1
}

# start_tokend NAME SOCKET ARGS...: run fp-tokend in the background (log in
# NAME.err, pid in $PID_NAME) and wait for its socket.
start_tokend() {
	local name=$1 sock=$2
	shift 2
	"${AS_D[@]}" "$TOKEND" "$@" 2>"$name.err" &
	local pid=$!
	on_exit "kill $pid"
	printf -v "PID_$name" %s "$pid"
	wait_sock "$sock" || { cat "$name.err"; return 1; }
}

# req NAME SOCK URL [curl args...]: status, error code (or "ok") and the body
# on one line, headers in NAME.hdr, body in NAME.body.
req() {
	local name=$1 sock=$2 url=$3 code
	shift 3
	code=$(curl -s -D "$name.hdr" -o "$name.body" -w '%{http_code}' \
		--unix-socket "$sock" "$@" "http://localhost$url")
	echo "$name $code $(jq -r '"\(.error // "ok") \(.message // "")"' "$name.body" 2>/dev/null ||
		echo not-json)"
}

# bearer NAME TOKEN: GET /tokens on the main socket with TOKEN.
bearer() { req "$1" "$SOCK" /tokens -H "Authorization: Bearer $2"; }

# wait_log FILE TEXT: wait up to 10 s for TEXT to appear in FILE.
wait_log() {
	for _ in $(seq 200); do
		grep -qF -- "$2" "$1" && return 0
		sleep 0.05
	done
	return 1
}

# --- start-up checks ---------------------------------------------------------
if "${AS_D[@]}" "$TOKEND" -n "${ARGS[@]}" >check.out 2>&1 && grep -q 'configuration ok' check.out &&
	[ ! -e "$SOCK" ]; then
	pass check-mode
else
	cat check.out
	fail check-mode "-n did not accept a good configuration (or made the socket)"
fi

# start-up failures: the status and the message (paths relative to here)
startup() {
	local name=$1 out rc
	shift
	"${AS_D[@]}" "$TOKEND" "$@" > startup.tmp 2>&1
	rc=$?
	out=$(sed -E 's/^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z //' startup.tmp)
	echo "$name: exit $rc: $out"
}
cp secrets.json open-secrets.json && chmod 0644 open-secrets.json
cp secrets.json group-secrets.json && chmod 0640 group-secrets.json
printf '{"github_token": "x"}\n' > short-secrets.json && chmod 0600 short-secrets.json
printf '{"anthropic_api_key": "a", "anthropic_api_key": "b", "github_token": "x"}\n' \
	> dup-secrets.json && chmod 0600 dup-secrets.json
printf '{"anthropic_api_key": "", "github_token": "x"}\n' > empty-secrets.json
chmod 0600 empty-secrets.json
ln -s secrets.json link-secrets.json
ln -s open-secrets.json link-open-secrets.json
cp secrets.json other-secrets.json && chmod 0600 other-secrets.json
printf 'not a bundle' > junk.pb
: > plain.file
# everything here is the daemon user's but one secrets file of another uid
if [ -n "$ROOT" ]; then
	chown -R flashpods:flashpods "$SCRATCH" && chown root other-secrets.json
fi
{
	startup secrets-world-readable -b out/policy.pb -s open-secrets.json -t bundle.json
	startup secrets-group-readable -n -b out/policy.pb -s group-secrets.json -t bundle.json
	startup secrets-missing-key -n -b out/policy.pb -s short-secrets.json -t bundle.json
	startup secrets-duplicate-key -n -b out/policy.pb -s dup-secrets.json -t bundle.json
	startup secrets-empty-value -n -b out/policy.pb -s empty-secrets.json -t bundle.json
	startup secrets-absent -n -b out/policy.pb -s nosuch.json -t bundle.json
	startup secrets-symlink -n -b out/policy.pb -s link-secrets.json -t bundle.json
	startup secrets-symlink-open -n -b out/policy.pb -s link-open-secrets.json -t bundle.json
	startup bundle-absent -n -b nosuch.pb -s secrets.json -t bundle.json
	startup bundle-junk -n -b junk.pb -s secrets.json -t bundle.json
	startup order-secrets-before-trust -n -b out/policy.pb -s open-secrets.json -t nosuch.json
	startup trust-absent -n -b out/policy.pb -s secrets.json -t nosuch.json
	startup no-such-service -n "${ARGS[@]}" --service api
	startup usage -n "${ARGS[@]}" --leeway 61
	startup usage-extra "${ARGS[@]}" extra
	startup socket-dir-missing "${ARGS[@]}" -S "$SCRATCH/nodir/t.sock"
	startup socket-not-a-socket "${ARGS[@]}" -S plain.file
	startup check-socket-dir-missing -n "${ARGS[@]}" -S "$SCRATCH/nodir/t.sock"
	startup check-socket-not-a-socket -n "${ARGS[@]}" -S plain.file
	startup check-socket-too-long -n "${ARGS[@]}" -S "$SCRATCH/$(printf 'x%.0s' $(seq 120)).sock"
	startup audit-unopenable "${ARGS[@]}" -a "$SCRATCH/nodir/audit.log"
} 2>&1 | sed -e "s|$SCRATCH|SCRATCH|g" -e "s/uid $FP_UID\b/uid FLASHPODS/g" \
	-e "s/(sha256 [0-9a-f]*)/(sha256 X)/" -e "s/owner $DUSER:$DGROUP,/owner flashpods:flashpods,/" > startup.out
golden startup-failures "$T/startup.golden" startup.out
if [ -n "$ROOT" ]; then
	startup secrets-other-owner -n -b out/policy.pb -s other-secrets.json -t bundle.json > other.out
	grep -q 'other-secrets.json: Permission denied\|owned by uid 0' other.out &&
		pass secrets-other-owner || fail secrets-other-owner "$(cat other.out)"
else
	skip secrets-other-owner "needs root (a file of another owner)"
fi
[ ! -e "$SOCK" ] && pass no-socket-after-failed-start ||
	fail no-socket-after-failed-start "a refused start left $SOCK behind"

# trust bundles refused as a whole (checked with -n)
jwks_case() {
	local name=$1
	shift
	"$SIGN" jwks "$@" > "jwks-$name.json" 2>/dev/null
	startup "$name" -n -b out/policy.pb -s secrets.json -t "jwks-$name.json"
}
{
	jwks_case rsa-1024 rsa1024.pem,kid=small
	jwks_case off-curve p256.pem,kid=k,offcurve
	jwks_case no-kid p256.pem,nokid
	jwks_case duplicate-kid p256.pem,kid=same p384.pem,kid=same
	jwks_case alg-mismatch p384.pem,kid=k,alg=ES256
	jwks_case only-x509 p256.pem,kid=k,use=x509-svid
	printf '{"keys":[{"kty":"oct","kid":"h","k":"c2VjcmV0"}]}' > jwks-oct.json
	startup oct-key -n -b out/policy.pb -s secrets.json -t jwks-oct.json
	"$SIGN" jwks p256.pem,kid=k | jq '.keys[0].d = "AAAA"' > jwks-private.json
	startup private-part -n -b out/policy.pb -s secrets.json -t jwks-private.json
	printf '{"keys":[{"kty":"EC","kid":"a"},{"kty":"EC","kid":"a"}]' > jwks-trunc.json
	startup not-json -n -b out/policy.pb -s secrets.json -t jwks-trunc.json
	printf '{"keys":[], "keys":[]}' > jwks-dup.json
	startup duplicate-member -n -b out/policy.pb -s secrets.json -t jwks-dup.json
	"$SIGN" jwks p256.pem,kid=k,use=jwt-svid rsa.pem,kid=r,alg=PS256 > jwks-plain.json
	startup plain-jwks-accepted -n -b out/policy.pb -s secrets.json -t jwks-plain.json
} 2>&1 | sed -e "s|$SCRATCH|SCRATCH|g" -e 's/(sha256 [0-9a-f]*)/(sha256 X)/' \
	-e "s/owner $DUSER:$DGROUP,/owner flashpods:flashpods,/" > jwks.out
golden trust-bundle-checks "$T/jwks.golden" jwks.out

# --- the daemon --------------------------------------------------------------
if start_tokend main "$SOCK" "${ARGS[@]}" -a audit.log --burst 100000; then
	pass daemon-starts
else
	fail daemon-starts "no socket at $SOCK"
	exit 1
fi

got="$(stat -c '%U:%G' "$SOCK") $(stat -c '%a' "$SOCK")"
if [ "$got" = "$WANT_OWNER $WANT_MODE" ] && [ -S "$SOCK" ]; then
	pass socket-owner-mode
else
	fail socket-owner-mode "socket is '$got', the policy says '$WANT_OWNER $WANT_MODE'"
fi
# every socket the daemon holds is a unix one: none is in the kernel's TCP
# or UDP tables, and its listening socket is the policy's path
inet=
unix=
for fd in /proc/"$PID_main"/fd/*; do
	ino=$(readlink "$fd" | sed -n 's/^socket:\[\([0-9]*\)\]$/\1/p')
	[ -n "$ino" ] || continue
	awk -v i="$ino" '$10 == i { f = 1 } END { exit !f }' /proc/net/tcp /proc/net/tcp6 \
		/proc/net/udp /proc/net/udp6 2>/dev/null && inet="$inet $ino"
	awk -v i="$ino" -v p="$SOCK" '$7 == i && $8 == p { f = 1 } END { exit !f }' \
		/proc/net/unix && unix=$ino
done
if [ -z "$inet" ] && [ -n "$unix" ]; then
	pass no-tcp
else
	fail no-tcp "inet sockets:${inet:- none}; unix socket at $SOCK: ${unix:-none}"
fi

# identities: agent both secrets, worker GITHUB_TOKEN only, unknown 403
AGENT=$(tok -k p256.pem -i k256 -s spiffe://flashpods.local/agent)
WORKER=$(tok -k rsa.pem -i krsa -s spiffe://flashpods.local/worker)
{
	bearer agent-es256 "$AGENT"; cat agent-es256.body
	bearer worker-rs256 "$WORKER"; cat worker-rs256.body
	bearer worker-es384 "$(tok -k p384.pem -i k384 -s spiffe://flashpods.local/worker)"
	cat worker-es384.body
	bearer agent-es512 "$(tok -k p521.pem -i k521 -s spiffe://flashpods.local/agent)"
	cat agent-es512.body
	bearer agent-ps256 "$(tok -k rsa.pem -i krsa -a PS256 -s spiffe://flashpods.local/agent)"
	cat agent-ps256.body
	bearer worker-rs512 "$(tok -k rsa.pem -i krsa -a RS512 -s spiffe://flashpods.local/worker)"
	bearer agent-ps384 "$(tok -k rsa.pem -i krsa -a PS384 -s spiffe://flashpods.local/agent)"
	bearer typ-jwt "$(tok -k p256.pem -i k256 --typ JWT -s spiffe://flashpods.local/worker)"
	bearer aud-array-ours-second "$(tok -k p256.pem -i k256 -A vault -A flashpods-token-service)"
	bearer expired-within-leeway "$(tok -k p256.pem -i k256 -e -20)"
	# what a caller says about itself is ignored: only the verified ID counts
	req worker-claims-agent "$SOCK" '/tokens?type=agent&job_type=agent' \
		-H "Authorization: Bearer $WORKER" -H 'X-Flashpods-Job-Type: agent'
	cat worker-claims-agent.body
	# job type claims inside a worker's own signed token are ignored too
	NOW=$(date +%s)
	bearer worker-token-claims-agent "$(tok -k p256.pem -i k256 --claims "{\"sub\":\"spiffe://flashpods.local/worker\",\"aud\":\"flashpods-token-service\",\"exp\":$((NOW + 300)),\"job_type\":\"agent\",\"privilege\":\"agent\",\"flashpods-job-type\":\"agent\"}")"
	cat worker-token-claims-agent.body
	bearer unknown-identity "$(tok -k p256.pem -i k256 -s spiffe://flashpods.local/intruder)"
	cat unknown-identity.body
	# the SPIFFE ID must match an identity exactly
	bearer near-agent-suffix "$(tok -k p256.pem -i k256 -s spiffe://flashpods.local/agent2)"
	bearer near-agent-subpath "$(tok -k p256.pem -i k256 -s spiffe://flashpods.local/agent/x)"
	bearer near-agent-case "$(tok -k p256.pem -i k256 -s spiffe://flashpods.local/Agent)"
	req bearer-lowercase "$SOCK" /tokens -H "Authorization: bearer $WORKER"
} > identities.out 2>&1
golden identities "$T/identities.golden" identities.out

# attack tokens: each must be refused with its code
BIG=$(head -c 1048576 /dev/zero | tr '\0' A)
printf '{"alg":"ES256","kid":"k256","pad":"%s"}' "$BIG" > big-header.json
printf 'Authorization: Bearer %s\n' "$(tok -k p256.pem -i k256 --header @big-header.json)" > big.hdr
printf 'Authorization: Bearer %s\n' "$(tok -k p256.pem -i k256 --header "{\"alg\":\"ES256\",\"kid\":\"k256\",\"pad\":\"$(head -c 7000 /dev/zero | tr '\0' A)\"}")" > nine-k.hdr
GOOD=$(tok -k p256.pem -i k256 -s spiffe://flashpods.local/worker)
H=${GOOD%%.*}; REST=${GOOD#*.}; P=${REST%%.*}; S=${REST#*.}
{
	bearer alg-none "$(tok -k p256.pem --header '{"alg":"none","kid":"k256"}' --sig none)"
	bearer alg-none-with-sig "$(tok -k p256.pem --header '{"alg":"none","kid":"k256"}')"
	bearer hs256-public-key "$(tok -k p256.pem -i k256 -a HS256 --sig hmac-pub)"
	bearer hs256-public-key-rsa "$(tok -k rsa.pem -i krsa -a HS256 --sig hmac-pub)"
	bearer es256-r-s-zero "$(tok -k p256.pem -i k256 --sig zero)"
	bearer es256-der-signature "$(tok -k p256.pem -i k256 --sig der)"
	bearer es384-der-signature "$(tok -k p384.pem -i k384 --sig der)"
	bearer p384-key-as-es256 "$(tok -k p384.pem -i k384 -a ES256)"
	bearer rsa-key-as-es256 "$(tok -k p256.pem -i krsa -a ES256)"
	bearer ec-key-as-rs256 "$(tok -k rsa.pem -i k256 -a RS256)"
	bearer kid-unknown "$(tok -k p256.pem -i nosuch)"
	bearer kid-dotdot "$(tok -k p256.pem -i ../../../etc/passwd)"
	bearer kid-missing "$(tok -k p256.pem)"
	bearer foreign-trust-domain "$(tok -k p256.pem -i k256 -s spiffe://evil.example/agent)"
	bearer sub-dotdot "$(tok -k p256.pem -i k256 -s spiffe://flashpods.local/x/../agent)"
	bearer sub-not-spiffe "$(tok -k p256.pem -i k256 -s https://flashpods.local/agent)"
	bearer sub-missing "$(tok -k p256.pem -i k256 --no-sub)"
	req token-missing "$SOCK" /tokens
	req authorization-basic "$SOCK" /tokens -H "Authorization: Basic $GOOD"
	req authorization-twice "$SOCK" /tokens -H "Authorization: Bearer $GOOD" \
		-H "Authorization: Bearer $GOOD"
	bearer expired "$(tok -k p256.pem -i k256 -e -3600)"
	bearer expired-past-leeway "$(tok -k p256.pem -i k256 -e -61)"
	bearer exp-missing "$(tok -k p256.pem -i k256 --no-exp)"
	bearer exp-string "$(tok -k p256.pem -i k256 --claims '{"sub":"spiffe://flashpods.local/agent","aud":"flashpods-token-service","exp":"9999999999"}')"
	bearer exp-float "$(tok -k p256.pem -i k256 --claims '{"sub":"spiffe://flashpods.local/agent","aud":"flashpods-token-service","exp":9999999999.5}')"
	bearer nbf-far-future "$(tok -k p256.pem -i k256 --nbf 86400 -e 90000)"
	bearer iat-future "$(tok -k p256.pem -i k256 --iat 3600)"
	bearer aud-missing "$(tok -k p256.pem -i k256 --no-aud)"
	bearer aud-wrong "$(tok -k p256.pem -i k256 -A other-service)"
	bearer aud-second-only "$(tok -k p256.pem -i k256 -A spire-server -A vault)"
	bearer aud-prefix "$(tok -k p256.pem -i k256 -A flashpods-token-service-2)"
	bearer aud-not-string "$(tok -k p256.pem -i k256 --claims '{"sub":"spiffe://flashpods.local/agent","aud":[1],"exp":9999999999}')"
	bearer duplicate-alg "$(tok -k p256.pem --header '{"alg":"ES256","alg":"ES256","kid":"k256"}')"
	bearer duplicate-sub "$(tok -k p256.pem -i k256 --claims '{"sub":"spiffe://flashpods.local/worker","sub":"spiffe://flashpods.local/agent","aud":"flashpods-token-service","exp":9999999999}')"
	bearer header-jku "$(tok -k p256.pem --header '{"alg":"ES256","kid":"k256","jku":"https://evil.example/jwks"}')"
	bearer header-jwk "$(tok -k p256.pem --header '{"alg":"ES256","kid":"k256","jwk":{}}')"
	bearer header-x5u "$(tok -k p256.pem --header '{"alg":"ES256","kid":"k256","x5u":"https://evil.example/c"}')"
	bearer header-x5c "$(tok -k p256.pem --header '{"alg":"ES256","kid":"k256","x5c":["MII"]}')"
	bearer header-crit "$(tok -k p256.pem --header '{"alg":"ES256","kid":"k256","crit":["exp"]}')"
	bearer typ-wrong "$(tok -k p256.pem -i k256 --typ at+jwt)"
	bearer header-array "$(tok -k p256.pem --header '[1]')"
	bearer tampered-payload "$(tok -k p256.pem -i k256 -s spiffe://flashpods.local/worker --tamper-sub spiffe://flashpods.local/agent)"
	bearer signature-truncated "$H.$P.${S:0:80}"
	bearer signature-swapped "$H.$P.$(tok -k p256.pem -i k256 | cut -d. -f3)"
	bearer many-dots "$GOOD.$S"
	bearer two-parts "$H.$P"
	bearer empty-parts ".."
	bearer dot-only "."
	bearer bad-base64-plus "${H}.${P}+.$S"
	bearer bad-base64-padding "$H=.$P.$S"
	bearer bad-base64-trailing-bits "$H.${P%?}$(printf %s "${P: -1}" | tr 'AEIMQUYcgkosw048' 'BFJNRVZdhlptx159').$S"
	# refused by libmicrohttpd before any parsing: 431, or the connection
	# closed while curl still sends, depending on timing
	code=$(curl -s -o /dev/null -w '%{http_code}' --unix-socket "$SOCK" -H @big.hdr \
		http://localhost/tokens)
	case $code in 431|000) echo "header-1mb refused by the HTTP layer" ;;
	*) echo "header-1mb $code" ;; esac
	req token-over-8k "$SOCK" /tokens -H @nine-k.hdr
} > attacks.out 2>&1
golden attack-tokens "$T/attacks.golden" attacks.out
# every 401 says why, in a message, and never echoes the token
if grep -q "$S" ./*.body 2>/dev/null; then
	fail errors-do-not-echo "a response quotes the token"
else
	pass errors-do-not-echo
fi

# routes, methods, limits, headers on every answer
{
	req health "$SOCK" /health; jq -c 'del(.policy_sha256)' health.body
	req not-found "$SOCK" /nosuch
	req tokens-slash "$SOCK" /tokens/
	req post-tokens "$SOCK" /tokens -X POST -H "Authorization: Bearer $AGENT"
	req delete-health "$SOCK" /health -X DELETE
	grep -i '^allow:' delete-health.hdr | tr -d '\r'
	req head-health "$SOCK" /health -I
	head -c 5000 /dev/zero > body5k
	req body-too-large "$SOCK" /health -X GET --data-binary @body5k
	req body-chunked-too-large "$SOCK" /health -X GET -H 'Transfer-Encoding: chunked' \
		--data-binary @body5k
	req body-small-ignored "$SOCK" /health -X GET --data-binary 'x=1'
	# an endless chunked body: the connection is closed, not read to its end
	head -c 8388608 /dev/zero > body8m
	curl -s -o /dev/null -w 'body-chunked-endless %{http_code} %{size_upload}\n' \
		--unix-socket "$SOCK" -X GET -H 'Transfer-Encoding: chunked' \
		--data-binary @body8m http://localhost/health |
		awk '{ print $1, ($2 == 413 || $2 == 0 || $2 == 100) ? "refused" : $2,
			($3 < 1048576) ? "stopped early" : "read " $3 " bytes" }'
} > routes.out 2>&1
golden routes "$T/routes.golden" routes.out

# the kernel keeps out a uid the socket mode does not admit; flashpods gets in
if [ -n "$ROOT" ]; then
	out=$(setpriv --reuid=nobody --regid=nogroup --clear-groups \
		curl -sS --unix-socket "$SOCK" http://localhost/health 2>&1)
	rc=$?
	if [ $rc -eq 7 ] && grep -q 'Permission denied\|Could not connect\|Failed to connect' <<<"$out"; then
		pass nobody-refused-by-kernel
	else
		fail nobody-refused-by-kernel "curl as nobody: exit $rc: $out"
	fi
	out=$(setpriv --reuid=flashpods --regid=flashpods --clear-groups \
		curl -sS --unix-socket "$SOCK" -H "Authorization: Bearer $WORKER" \
		http://localhost/tokens 2>&1)
	if [ "$out" = '{"ANTHROPIC_API_KEY":null,"GITHUB_TOKEN":"ghp_test_1"}' ]; then
		pass flashpods-uid-served
	else
		fail flashpods-uid-served "curl as flashpods: $out"
	fi
else
	skip nobody-refused-by-kernel "needs root (another uid)"
	skip flashpods-uid-served "needs root (another uid)"
fi

# timeouts: an idle connection is closed by the server
# (this daemon has no -a: its audit lines go to standard error)
start_tokend idle "$RUN/idle.sock" "${ARGS[@]}" -S "$RUN/idle.sock" --timeout 1
t0=$(date +%s%N)
timeout 9 socat -u "UNIX-CONNECT:$RUN/idle.sock" - >/dev/null 2>&1
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
[ "$ms" -lt 5000 ] && pass idle-timeout ||
	fail idle-timeout "an idle connection stayed open ${ms} ms with --timeout 1"
curl -s -o /dev/null --unix-socket "$RUN/idle.sock" -H "Authorization: Bearer $WORKER" \
	http://localhost/tokens
got=$(grep '^{' idle.err | jq -r '"\(.event) \(.spiffe_id) \(.secrets | join(","))"' 2>&1)
[ "$got" = "token_exchange spiffe://flashpods.local/worker GITHUB_TOKEN" ] &&
	pass audit-to-stderr || fail audit-to-stderr "standard error has: $got"

# rate limit per peer uid: root's bucket runs dry, flashpods' does not
if [ -n "$ROOT" ]; then
	start_tokend rl "$RUN/rl.sock" "${ARGS[@]}" -S "$RUN/rl.sock" --rate 0.05 --burst 3 -a rl-audit.log
	: > rl.out
	for i in 1 2 3 4; do
		curl -s -o /dev/null -w '%{http_code} ' --unix-socket "$RUN/rl.sock" \
			-H "Authorization: Bearer $WORKER" http://localhost/tokens >> rl.out
	done
	code=$(curl -s -D rl.hdr -o rl.body -w '%{http_code}' --unix-socket "$RUN/rl.sock" http://localhost/health)
	fp=$(setpriv --reuid=flashpods --regid=flashpods --clear-groups curl -s -o /dev/null \
		-w '%{http_code}' --unix-socket "$RUN/rl.sock" http://localhost/health)
	# the wait_sock probe took one token: 2 then refusals, each refusal audited
	rl_audit=$(jq -r '"\(.status)/\(.error)"' rl-audit.log | tr '\n' ' ')
	if [ "$(cat rl.out)" = "200 200 429 429 " ] && [ "$code" = 429 ] && [ "$fp" = 200 ] &&
		grep -qi '^Retry-After: [1-9]' rl.hdr && [ "$(jq -r .error rl.body)" = rate_limited ] &&
		[ "$rl_audit" = "200/null 200/null 429/rate_limited 429/rate_limited " ]; then
		pass rate-limit-per-uid
	else
		fail rate-limit-per-uid "root: $(cat rl.out)/$code, flashpods: $fp, body $(cat rl.body), audit $rl_audit"
	fi
else
	skip rate-limit-per-uid "needs root (another uid)"
fi

# audit: one line per exchange, names and never values; unwritable -> 500
if grep -q 'sk-ant-test\|ghp_test' audit.log; then
	fail audit-no-values "a secret value is in the audit log"
else
	pass audit-no-values
fi
n_lines=$(wc -l < audit.log)
# every GET /tokens above with a status is an exchange (header-1mb never
# reaches the handler), plus flashpods-uid-served
# (a request refused for its framing, 400 bad_request, is not an exchange)
n_exchanges=$(( $(cat identities.out attacks.out | grep -v ' 400 bad_request ' |
	grep -c '^[a-z0-9-]* [0-9]') + ${ROOT:-0} ))
if [ "$n_lines" -eq "$n_exchanges" ]; then
	pass audit-one-line-per-exchange
else
	fail audit-one-line-per-exchange "$n_lines audit lines for $n_exchanges exchanges"
fi
# time and pid vary: their form is checked here, the rest by the golden
bad=$(jq -c 'select((.time | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z$") | not)
	or (.pid | type != "number" or . <= 1))' audit.log | head -3)
[ -z "$bad" ] && pass audit-time-pid || fail audit-time-pid "lines without time/peer pid: $bad"
# uids: the runner of this suite (root, or the daemon's user when not root)
# and flashpods; without root there is no flashpods line
jq -c --argjson fp "$FP_UID" --argjson me "$(id -u)" --argjson mg "$(id -g)" 'del(.time, .pid) |
	if .uid == $me then .uid = "runner" elif .uid == $fp then .uid = "flashpods" else . end |
	if .gid == $mg then .gid = "runner" elif .gid == $fp then .gid = "flashpods" else . end' \
	audit.log > audit.out
if [ -n "$ROOT" ]; then
	golden audit-lines "$T/audit.golden" audit.out
else
	grep -v '"uid":"flashpods"' "$T/audit.golden" > audit.want
	golden audit-lines audit.want audit.out
fi

start_tokend full "$RUN/full.sock" "${ARGS[@]}" -S "$RUN/full.sock" -a /dev/full
{
	req audit-full-tokens "$RUN/full.sock" /tokens -H "Authorization: Bearer $AGENT"
	cat audit-full-tokens.body
	req audit-full-health "$RUN/full.sock" /health
} > audit-full.out
golden audit-unwritable "$T/audit-full.golden" audit-full.out
grep -q 'cannot write the audit log' full.err && pass audit-failure-logged ||
	fail audit-failure-logged "no log line about the audit failure"

# --- reloads ------------------------------------------------------------------
# SIGHUP with broken secrets: the old ones stay in force
printf '{"anthropic_api_key": "sk-ant-test-2",' > secrets.json
kill -HUP "$PID_main"
wait_log main.err 'reload failed' || true
{
	grep -o 'reload failed.*' main.err | sed "s|$SCRATCH|SCRATCH|g"
	bearer after-broken-reload "$AGENT"; cat after-broken-reload.body
} > reload-broken.out
golden sighup-broken-secrets "$T/reload-broken.golden" reload-broken.out

# SIGHUP with new secrets and a trust bundle holding a rotated key
printf '{"anthropic_api_key": "sk-ant-test-2", "github_token": "ghp_test_2"}\n' > secrets.json
chmod 0600 secrets.json
"$SIGN" jwks --spiffe p256.pem,kid=k256 rsa.pem,kid=krsa rotated.pem,kid=rotated > new-bundle.json
mv new-bundle.json bundle.json
kill -HUP "$PID_main"
wait_log main.err 'fp-tokend: reloaded:' || true
{
	bearer after-reload "$AGENT"; cat after-reload.body
	bearer rotated-key "$(tok -k rotated.pem -i rotated -s spiffe://flashpods.local/worker)"
	cat rotated-key.body
	bearer dropped-key "$(tok -k p384.pem -i k384 -s spiffe://flashpods.local/worker)"
} > reload-good.out
golden sighup-reload "$T/reload-good.golden" reload-good.out

# the trust bundle file changes (rename, as spiffe-helper does): no signal
"$SIGN" jwks p256.pem,kid=k256 rsa.pem,kid=krsa p521.pem,kid=k521 later.pem,kid=later > next.json
mv next.json bundle.json
wait_log main.err 'trust bundle reloaded: 4 keys' || true
printf '{"keys": [' > broken.json
{
	bearer watched-new-key "$(tok -k later.pem -i later -s spiffe://flashpods.local/worker)"
	bearer watched-old-key-gone "$(tok -k rotated.pem -i rotated -s spiffe://flashpods.local/worker)"
	mv broken.json bundle.json
	wait_log main.err 'trust bundle changed but does not load' &&
		echo "broken trust bundle refused: kept the previous keys"
	bearer after-broken-trust-bundle "$(tok -k later.pem -i later -s spiffe://flashpods.local/worker)"
} > watch.out
golden trust-bundle-file-watch "$T/watch.golden" watch.out

# SIGHUP and the policy bundle: a broken one changes nothing; a new one
# changes privileges, socket owner and mode at once (and the audit log is
# reopened); one that moves the socket is refused
# wait_next TEXT: after a signal, wait up to 10 s for one more line of
# main.err with TEXT than there was before it (count_log TEXT).
count_log() { LOGN=$(grep -cF -- "$1" main.err); }
wait_next() {
	for _ in $(seq 200); do
		[ "$(grep -cF -- "$1" main.err)" -gt "$LOGN" ] && return 0
		sleep 0.05
	done
	echo "no new '$1' in the log"
	return 1
}
WORKER=$(tok -k p256.pem -i k256 -s spiffe://flashpods.local/worker)
sed -e '/^privilege worker {/,/^}/s/secrets GITHUB_TOKEN;/secrets ANTHROPIC_API_KEY, GITHUB_TOKEN;/' \
	-e '/^service token/s/ mode 0660;/ mode 0600;/' policy.fp > next.fp
sed "s|\"$SOCK\"|\"$RUN/moved.sock\"|" next.fp > moved.fp
"$FPC" next.fp -o out-next >/dev/null 2>&1 && "$FPC" moved.fp -o out-moved >/dev/null 2>&1 ||
	fail reload-policies "fpc could not compile the reload policies"
# the trust bundle is broken since the watch test: a good one first
count_log 'trust bundle reloaded'
"$SIGN" jwks p256.pem,kid=k256 > good.json && mv good.json bundle.json
wait_next 'trust bundle reloaded' >/dev/null
{
	printf 'not a bundle' > out/policy.pb
	count_log 'reload failed'
	kill -HUP "$PID_main"
	wait_next 'reload failed'
	grep -o 'reload failed.*' main.err | tail -1 | sed "s|$SCRATCH|SCRATCH|g"
	bearer broken-bundle-worker "$WORKER"; cat broken-bundle-worker.body
	echo "socket $(stat -c '%U:%G %a' "$SOCK" | sed "s/^$DUSER:$DGROUP /flashpods:flashpods /")"

	cp out-next/policy.pb out/policy.pb
	mv audit.log audit.log.1
	count_log 'fp-tokend: reloaded:'
	kill -HUP "$PID_main"
	wait_next 'fp-tokend: reloaded:'
	bearer new-bundle-worker "$WORKER"; cat new-bundle-worker.body
	echo "socket $(stat -c '%U:%G %a' "$SOCK" | sed "s/^$DUSER:$DGROUP /flashpods:flashpods /")"
	if [ -n "$ROOT" ]; then
		setpriv --reuid=nobody --regid=flashpods --clear-groups curl -s -o /dev/null \
			--unix-socket "$SOCK" http://localhost/health
		echo "$? (7: refused by the kernel)" > member.rc
	fi
	echo "audit log reopened: $(jq -r '"\(.spiffe_id) \(.secrets | join(","))"' audit.log)"

	cp out-moved/policy.pb out/policy.pb
	count_log 'reload refused'
	kill -HUP "$PID_main"
	wait_next 'reload refused'
	grep -o 'reload refused.*' main.err | sed "s|$SCRATCH|SCRATCH|g"
	bearer moved-bundle-worker "$WORKER"; cat moved-bundle-worker.body
	[ -e "$RUN/moved.sock" ] && echo "a socket appeared at the new path"
} > reload-bundle.out 2>&1
golden sighup-policy-bundle "$T/reload-bundle.golden" reload-bundle.out
if [ -n "$ROOT" ]; then
	[ "$(cat member.rc)" = "7 (7: refused by the kernel)" ] && pass socket-mode-reloaded ||
		fail socket-mode-reloaded "a flashpods group member on the 0600 socket: curl exit $(cat member.rc)"
else
	skip socket-mode-reloaded "needs root (another uid)"
fi

# --- hardening (issue 17) ------------------------------------------------------
# HTTP framing: two Content-Length headers, or Content-Length with
# Transfer-Encoding, are 400 and the connection is closed: the bytes after
# (a smuggled request) are never answered
raw() {	# NAME BYTES: the status lines answered on one connection
	printf "$2" | timeout 5 socat -t 2 - "UNIX-CONNECT:$SOCK" > "raw-$1.out" 2>/dev/null
	echo "$1: $(grep -a '^HTTP/1.1 ' "raw-$1.out" | tr -d '\r' | cut -d' ' -f2 | xargs echo) $(grep -aci '^Connection: close' "raw-$1.out") close"
}
{
	raw double-content-length 'GET /health HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nContent-Length: 41\r\n\r\nGET /health HTTP/1.1\r\nHost: x\r\n\r\n'
	raw cl-and-te 'GET /health HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /health HTTP/1.1\r\nHost: x\r\n\r\n'
	raw two-te 'GET /health HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n'
	raw two-authorization 'GET /tokens HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer a\r\nAuthorization: Bearer b\r\n\r\n'
	raw keep-alive-two-requests 'GET /health HTTP/1.1\r\nHost: x\r\n\r\nGET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'
} > framing.out
golden framing "$T/framing.golden" framing.out

# token lifetime: exp at most --max-lifetime (1 h) after iat, or after now
NOW=$(date +%s)
life() { tok -k p256.pem -i k256 --claims "{\"sub\":\"spiffe://flashpods.local/worker\",\"aud\":\"flashpods-token-service\",\"exp\":$1${2:+,\"iat\":$2}}"; }
{
	bearer exp-2-pow-63 "$(life 9223372036854775807 "$NOW")"
	bearer exp-2-pow-63-no-iat "$(life 9223372036854775807)"
	bearer lifetime-2h "$(life $((NOW + 7200)) "$NOW")"
	bearer lifetime-50min "$(life $((NOW + 3000)) "$NOW")"
	bearer iat-very-old "$(life $((NOW + 60)) -9223372036854775807)"
} > lifetime.out
golden token-lifetime "$T/lifetime.golden" lifetime.out

# ECDSA high S: s and n - s both verify. With --low-s-only only the low one
# is taken; by default both are (SPIRE signs with Go's crypto/ecdsa, which,
# like OpenSSL, does not normalise S: refusing high S would refuse half of
# its tokens).
P256_N=ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551
P256_HALF=7fffffff800000007fffffffffffffffde737d56d38bcf4279dce5617e3192a8
hex_sub() {	# A B: A - B, hex strings of equal length, A >= B
	local a=$1 b=$2 out= borrow=0 i s l x
	for ((i = ${#a} - 7; i > -7; i -= 7)); do
		s=$i l=7
		((s < 0)) && { l=$((7 + s)); s=0; }
		x=$(( 16#${a:s:l} - 16#${b:s:l} - borrow ))
		if ((x < 0)); then x=$((x + (1 << (4 * l)))) borrow=1; else borrow=0; fi
		out=$(printf "%0${l}x" "$x")$out
	done
	echo "$out"
}
b64u_hex() { local v=$1; while (( ${#v} % 4 )); do v="$v="; done; basenc --base64url -d <<<"$v" | od -An -v -tx1 | tr -d ' \n'; }
hex_b64u() { printf "$(sed 's/../\\x&/g' <<<"$1")" | basenc --base64url -w0 | tr -d '='; }
ES=$(tok -k p256.pem -i k256 -s spiffe://flashpods.local/worker)
SIGHEX=$(b64u_hex "${ES##*.}")
R=${SIGHEX:0:64} S1=${SIGHEX:64:64}
S2=$(hex_sub "$P256_N" "$S1")
if [[ $S1 > $P256_HALF ]]; then HIGH=$S1 LOW=$S2; else HIGH=$S2 LOW=$S1; fi
LOWTOK=${ES%.*}.$(hex_b64u "$R$LOW")
HIGHTOK=${ES%.*}.$(hex_b64u "$R$HIGH")
start_tokend lows "$RUN/lows.sock" "${ARGS[@]}" -S "$RUN/lows.sock" --low-s-only -a lows-audit.log
{
	bearer default-low-s "$LOWTOK"
	bearer default-high-s "$HIGHTOK"
	req low-s-only-low "$RUN/lows.sock" /tokens -H "Authorization: Bearer $LOWTOK"
	req low-s-only-high "$RUN/lows.sock" /tokens -H "Authorization: Bearer $HIGHTOK"
} > highs.out
golden ecdsa-high-s "$T/highs.golden" highs.out

# fp-tokend does not serve as root (-n still checks as root)
if [ -n "$ROOT" ]; then
	"$TOKEND" "${ARGS[@]}" -S "$RUN/root.sock" > root.out 2>&1
	rc=$?
	if [ $rc -eq 1 ] && grep -q 'refusing to serve as root' root.out && [ ! -e "$RUN/root.sock" ]; then
		pass refuses-root
	else
		fail refuses-root "exit $rc: $(cat root.out)"
	fi
else
	skip refuses-root "needs root"
fi

# the SIGHUP race on the socket (issue 17 item 1): the socket's directory
# is the containers' user's, who swaps the socket for a symlink to a file
# and sends SIGHUP; the re-own must not follow it
if [ -n "$ROOT" ]; then
	mkdir -p "$RUN/own" && chown flashpods:flashpods "$RUN/own"
	printf 'root only\n' > "$SCRATCH/victim-root" && chmod 0600 "$SCRATCH/victim-root" &&
		chown root:root "$SCRATCH/victim-root"
	printf 'private\n' > "$RUN/own/victim-fp" && chmod 0600 "$RUN/own/victim-fp" &&
		chown flashpods:flashpods "$RUN/own/victim-fp"
	start_tokend own "$RUN/own/t.sock" "${ARGS[@]}" -S "$RUN/own/t.sock"
	{
		for v in "$SCRATCH/victim-root" "$RUN/own/victim-fp"; do
			n=$(grep -c 'reload refused' own.err)
			"${AS_D[@]}" sh -c "mv '$RUN/own/t.sock' '$RUN/own/moved.sock.$n' && ln -s '$v' '$RUN/own/t.sock'"
			kill -HUP "$PID_own"
			for _ in $(seq 200); do
				[ "$(grep -c 'reload refused' own.err)" -gt "$n" ] && break
				sleep 0.05
			done
			echo "$(basename "$v"): $(stat -c '%U:%G %a' "$v")"
			grep 'reload refused' own.err | tail -1 | sed -e "s|$SCRATCH|SCRATCH|g" -e 's/^.*fp-tokend: //'
			rm -f "$RUN/own/t.sock"
			"${AS_D[@]}" mv "$RUN/own/moved.sock.$n" "$RUN/own/t.sock"
		done
		# the socket put back is the one it made: re-owned again
		n=$(grep -c 'fp-tokend: reloaded:' own.err)
		kill -HUP "$PID_own"
		for _ in $(seq 200); do
			[ "$(grep -c 'fp-tokend: reloaded:' own.err)" -gt "$n" ] && break
			sleep 0.05
		done
		echo "socket put back: $(grep -c 'fp-tokend: reloaded:' own.err) reloads, $(stat -c '%U:%G %a' "$RUN/own/t.sock")"
	} > symlink.out 2>&1
	golden sighup-symlink-race "$T/symlink.golden" symlink.out
else
	skip sighup-symlink-race "needs root (a victim file of another owner)"
fi

# per-container limits (issue 17 item 2): several container-like processes
# of the same uid, each in a cgroup of its own named as podman names them
# (libpod-ID.scope), on the cgroup v2 hierarchy; flooding and slow ones
# cannot starve the others
CG2=
for d in /sys/fs/cgroup /sys/fs/cgroup/unified; do
	[ -f "$d/cgroup.procs" ] && [ -f "$d/cgroup.controllers" ] && CG2=$d && break
done
if [ -n "$ROOT" ] && [ -n "$CG2" ] && mkdir "$CG2/dmn$$" 2>/dev/null; then
	on_exit "for c in $CG2/dmn$$/*/; do for p in \$(cat \$c/cgroup.procs); do echo \$p > $CG2/cgroup.procs; done; rmdir \$c; done; rmdir $CG2/dmn$$"
	IDA=$(printf 'a%.0s' $(seq 64)) IDB=$(printf 'b%.0s' $(seq 64)) IDC=$(printf 'c%.0s' $(seq 64))
	for id in $IDA $IDB $IDC; do mkdir "$CG2/dmn$$/libpod-$id.scope"; done
	# in_ctr ID CMD...: run CMD as flashpods inside container ID's cgroup
	in_ctr() {
		local id=$1
		shift
		(echo "$BASHPID" > "$CG2/dmn$$/libpod-$id.scope/cgroup.procs" &&
			exec setpriv --reuid=flashpods --regid=flashpods --clear-groups "$@")
	}
	start_tokend cg "$RUN/cg.sock" "${ARGS[@]}" -S "$RUN/cg.sock" -a cg-audit.log \
		--rate 5 --burst 10 --audit-rate 2 --max-conns 48 --max-conns-per-peer 8 \
		--request-timeout 2 --timeout 30
	urls=()
	for i in $(seq 300); do urls+=(-o /dev/null http://l/tokens); done
	in_ctr "$IDA" curl -s -w '%{http_code}\n' --unix-socket "$RUN/cg.sock" \
		-H "Authorization: Bearer $WORKER" "${urls[@]}" > flood.codes
	b=$(in_ctr "$IDB" curl -s -o /dev/null -w '%{http_code}' --unix-socket "$RUN/cg.sock" \
		-H "Authorization: Bearer $WORKER" http://l/tokens)
	n429=$(grep -c 429 flood.codes)
	alines=$(grep -c "\"container\":\"$IDA\"" cg-audit.log)
	supp=$(jq -s '[.[].suppressed_refusals // 0] | add' cg-audit.log)
	if [ "$b" = 200 ] && [ "$n429" -ge 250 ] && [ "$alines" -lt 60 ] && [ "$supp" -ge 200 ]; then
		pass "flood-one-container ($n429 of 300 refused, $alines audit lines, $supp suppressed; another container: $b)"
	else
		fail flood-one-container "other container got $b; flood: $n429 refused, $alines audit lines, $supp suppressed"
	fi
	# slow: 60 connections trickling a header byte every 0.5 s; at most 8
	# are kept, and those are closed by the 2 s request deadline
	in_ctr "$IDA" perl "$T/trickle.pl" "$RUN/cg.sock" 60 12 > trickle.out &
	tpid=$!
	sleep 1
	h=$(in_ctr "$IDC" curl -s -m 5 -o /dev/null -w '%{http_code}' --unix-socket "$RUN/cg.sock" http://l/health)
	wait $tpid
	if [ "$h" = 200 ] && grep -q '^60 connected, 60 closed by the server$' trickle.out; then
		pass "slow-container-bounded ($(cat trickle.out); another container: $h)"
	else
		fail slow-container-bounded "another container's /health: $h; slow peer: $(cat trickle.out)"
	fi
else
	skip per-container-limits "needs root and a cgroup v2 hierarchy to make cgroups in (the limits then fall back to per uid)"
fi

# every answer of every test above, errors included, is JSON and no-store
missing=
n_hdr=0
for h in *.hdr; do
	case $h in big.hdr|nine-k.hdr) continue ;; esac
	n_hdr=$((n_hdr + 1))
	grep -qi '^Cache-Control: no-store' "$h" || missing="$missing ${h%.hdr}"
	grep -qi '^Content-Type: application/json' "$h" || missing="$missing ${h%.hdr}(type)"
done
[ -z "$missing" ] && [ "$n_hdr" -ge 90 ] && pass cache-control-no-store ||
	fail cache-control-no-store "$n_hdr answers; without no-store/json:$missing"

# SIGTERM: exit 0, socket removed
kill -TERM "$PID_main"
wait "$PID_main"
rc=$?
if [ $rc -eq 0 ] && [ ! -e "$SOCK" ] && grep -q 'stopped' main.err; then
	pass sigterm-clean-exit
else
	fail sigterm-clean-exit "exit $rc, socket $( [ -e "$SOCK" ] && echo left || echo gone)"
fi
if grep -q 'ERROR: \(Address\|Leak\)Sanitizer\|runtime error' ./*.err; then
	grep -h -A5 'Sanitizer\|runtime error' ./*.err | head -40
	fail sanitizers "sanitizer report in a daemon log"
else
	pass sanitizers
fi
exit 0
