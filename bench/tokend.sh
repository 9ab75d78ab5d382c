#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# bench/tokend.sh: fp-tokend token exchanges per second and latency at 1, 8
# and 64 concurrent clients, against the same client on GET /health (the
# floor: HTTP over the unix socket with no JWT and no audit line).
#
#   make B=build benches all && B=build bench/tokend.sh [SECONDS]
#
# Sets up what the test suite does (fresh P-256 key, trust bundle, secrets,
# policies/default.fp compiled with its socket moved to a temp dir), starts
# fp-tokend with the rate limit off and the per-peer connection cap raised (every
# client is the same peer) and its audit log on a file, and prints
# a Markdown table. Run as root: fp-tokend refuses to serve as root, so it
# is started as `flashpods` (the default policy's socket owner), which owns
# the secrets file and the directory holding the socket and the audit log;
# the load client stays root.
set -eu
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "bench/tokend.sh: run as root" >&2; exit 1; }
B=${B:-build}
B=$(cd "$B" && pwd)
SECS=${1:-3}
LOAD=$B/bench/tokend_load
SIGN=$B/tools/jwt_sign
for f in "$LOAD" "$SIGN" "$B/fp-tokend" "$B/fpc"; do
	[ -x "$f" ] || { echo "bench/tokend.sh: $f missing (make B=$B all tools benches)" >&2; exit 1; }
done
. tests/lib.sh >/dev/null
ensure_flashpods_user
chmod 0755 "$SCRATCH"
cd "$SCRATCH"

openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out p256.pem 2>/dev/null
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out rsa.pem 2>/dev/null
"$SIGN" jwks p256.pem,kid=k256 rsa.pem,kid=krsa > bundle.json
printf '{"anthropic_api_key": "sk-ant-bench", "github_token": "ghp_bench"}\n' > secrets.json
chmod 0600 secrets.json
chown flashpods:flashpods secrets.json
mkdir run && chown flashpods:flashpods run
sed "s|\"/run/flashpods/token.sock\"|\"$SCRATCH/run/token.sock\"|" "$OLDPWD/policies/default.fp" > policy.fp
"$B/fpc" policy.fp -o out >fpc.log 2>&1 || { cat fpc.log >&2; exit 1; }
"$SIGN" sign -k p256.pem -i k256 -e 3600 -s spiffe://flashpods.local/agent > es256.jwt
"$SIGN" sign -k rsa.pem -i krsa -e 3600 -s spiffe://flashpods.local/agent > rs256.jwt

setpriv --reuid=flashpods --regid=flashpods --init-groups \
	"$B/fp-tokend" -b out/policy.pb -s secrets.json -t bundle.json -a run/audit.log \
	--rate 0 --max-conns 1024 --max-conns-per-peer 1024 2>tokend.err &
pid=$!
on_exit "kill $pid"
for _ in $(seq 100); do [ -S run/token.sock ] && break; sleep 0.05; done
[ -S run/token.sock ] || { echo "bench/tokend.sh: fp-tokend did not start:" >&2; cat tokend.err >&2; exit 1; }

run() { "$LOAD" -S run/token.sock -d "$SECS" "$@" || true; }
echo "fp-tokend, $(nproc) cores, ${SECS}s per cell, keep-alive connections, 2 server threads"
echo
echo "| clients | /health req/s | p50 µs | p99 µs | /tokens ES256 req/s | p50 µs | p99 µs | /tokens RS256 req/s | p50 µs | p99 µs |"
echo "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
for c in 1 8 64; do
	read -r _ _ _ _ hr hp50 hp99 herr < <(run -p /health -c "$c")
	read -r _ _ _ _ er ep50 ep99 eerr < <(run -p /tokens -t es256.jwt -c "$c")
	read -r _ _ _ _ rr rp50 rp99 rerr < <(run -p /tokens -t rs256.jwt -c "$c")
	echo "| $c | $hr | $hp50 | $hp99 | $er | $ep50 | $ep99 | $rr | $rp50 | $rp99 |"
	[ "$herr$eerr$rerr" = 000 ] || echo "(errors at $c clients: health $herr, es256 $eerr, rs256 $rerr)"
done
echo
read -r _ _ _ _ nr np50 np99 _ < <(run -p /tokens -t es256.jwt -c 8 -1)
echo "A new connection per exchange (ES256, 8 clients): $nr req/s, p50 $np50 µs, p99 $np99 µs."
echo "Audit lines written: $(wc -l < run/audit.log)."
