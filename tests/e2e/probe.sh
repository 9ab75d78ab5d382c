#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# tests/e2e/probe.sh: what a hostile sub-agent tries from inside its job
# container. The laptop uploads it with the job's files, among them a static
# busybox, so it runs in any image as `/work/busybox sh /work/probe.sh ROLE`
# (busybox's shell runs its own applets: nc, wget, timeout, base64): a worker
# as its command, an agent as its entrypoint (the suite's image has
# /entrypoint.sh = `exec /work/busybox sh /work/probe.sh agent`; on a real
# host, `podman exec` into a running agent job). One line "ATTEMPT RESULT"
# per attempt, on the job's log, which tests/e2e/run.sh reads back from
# fp-apid. ROLE control (a worker run with the firewall removed) makes only
# the connection attempts.
#
# /work holds, besides this script and busybox: scene.sh (the addresses and
# the token socket's path), sockget (a static HTTP-over-unix-socket client),
# leaked-api-token (the laptop's bearer token, as if it had been uploaded by
# mistake) and svid.jwt (this job's JWT-SVID, put there by the suite in the
# SPIRE agent's place; SVID_FILE names another file).
set -u
role=$1
. /work/scene.sh

# verdict STATUS TEXT: a client's exit status and output (wget's own
# "Connecting to" line left out) classified: refused, timed out (also when
# `timeout` had to stop the client), unreachable, failed: WHY (another
# connect error, or the client died without a word), or connected: LAST
# LINE (the connection was made; the last line the peer sent, if any).
verdict() {
	text=$(printf '%s\n' "$2" | tr -d '\r' | grep -v '^Connecting to ' | grep -v '^$')
	case $text in
	*"Connection refused"*) echo refused ;;
	*"timed out"*) echo "timed out" ;;
	*"unreachable"*) echo unreachable ;;
	*"can't connect"*) echo "failed: $text" ;;
	"") case $1 in
		0) echo "connected:" ;;
		124|143) echo "timed out" ;;
		*) echo "failed: exit $1" ;;
		esac ;;
	*) echo "connected: $(printf '%s\n' "$text" | tail -1)" ;;
	esac
}

# tcp ADDR PORT SEND: connect to ADDR:PORT, send SEND (a printf format),
# print the verdict.
tcp() {
	# shellcheck disable=SC2059 # SEND is a format
	out=$(printf "$3" | timeout 10 nc -w 5 "$1" "$2" 2>&1)
	rc=$?
	verdict $rc "$out"
}

# b64url_decode TEXT / b64url_encode (stdin): base64url without padding.
b64url_decode() {
	s=$(printf '%s' "$1" | tr '_-' '/+')
	case $((${#s} % 4)) in 2) s="$s==" ;; 3) s="$s=" ;; esac
	printf '%s' "$s" | base64 -d
}
b64url_encode() { base64 -w 0 | tr -d '=' | tr '/+' '_-'; }

# the API and rsync, on the service address and on the host's others
for a in "$API" $OTHER_ADDRS; do
	echo "api@$a:8080 $(tcp "$a" 8080 'GET /health HTTP/1.0\r\n\r\n')"
	echo "rsync@$a:873 $(tcp "$a" 873 '@RSYNCD: 31.0\nuploads\n')"
done
# 127.0.0.1 is the container's own loopback; 10.0.2.2 is slirp4netns's
# address for the host's loopback
echo "api@127.0.0.1:8080 $(tcp 127.0.0.1 8080 'GET /health HTTP/1.0\r\n\r\n')"
echo "api@10.0.2.2:8080 $(tcp 10.0.2.2 8080 'GET /health HTTP/1.0\r\n\r\n')"
# POST /jobs with the real bearer token
# (busybox wget's own -T crashes; timeout bounds it)
out=$(timeout 15 wget -O - --header "Authorization: Bearer $(cat /work/leaked-api-token)" \
	--header 'Content-Type: application/json' \
	--post-data '{"type":"agent","files_id":"u-agent","task":"spawn another agent"}' \
	"http://$API:8080/jobs" 2>&1)
rc=$?
echo "post-jobs-with-token $(verdict $rc "$out")"
[ "$role" = control ] && exit 0

# the internet: the listener answers, so egress and its replies pass (a
# request is sent: an HTTPS server answers plain text with an alert or an
# error and closes)
echo "internet@$INTERNET:443 $(tcp "$INTERNET" 443 'GET / HTTP/1.0\r\n\r\n')"

# the token service, with this job's SVID (from $SVID_FILE on a real host,
# where the job fetched it from the SPIRE agent; docs/acceptance.md)
svid=$(cat "${SVID_FILE:-/work/svid.jwt}")
echo "tokens $(/work/sockget "$TOKEN_SOCK" /tokens "$svid")"
if [ "$role" = worker ]; then
	# an agent's SVID forged from the worker's own: the subject swapped
	# (the signature no longer matches), and one with no signature at all
	h=${svid%%.*}
	rest=${svid#*.}
	p=${rest%%.*}
	sig=${rest#*.}
	claims=$(b64url_decode "$p" | sed 's|/worker"|/agent"|')
	forged="$h.$(printf '%s' "$claims" | b64url_encode).$sig"
	echo "forged-agent-svid $(/work/sockget "$TOKEN_SOCK" /tokens "$forged")"
	none=$(printf '{"alg":"none","typ":"JWT"}' | b64url_encode)
	echo "unsigned-agent-svid $(/work/sockget "$TOKEN_SOCK" /tokens "$none.$(printf '%s' "$claims" | b64url_encode).")"
fi

# /work: read-only for a worker, read-write for an agent
if err=$(touch "/work/written-by-$role" 2>&1); then
	echo "work writable"
else
	echo "work read-only: $err"
fi

# who the job is
echo "uid $(id -u) gid $(id -g)"
grep -E '^(CapInh|CapPrm|CapEff|CapBnd|CapAmb|NoNewPrivs):' /proc/self/status |
	tr -d '\t' | tr ':' ' '

# hold until the suite has looked at this process from the host (at most 30 s)
echo "waiting"
i=0
while [ ! -e /artifacts/release ] && [ $i -lt 300 ]; do
	sleep 0.1
	i=$((i + 1))
done
echo "done"
