#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# bench/apid.sh: fp-apid's requests per second and p50/p99 latency for
# GET /health and GET /jobs/{id} with wrk at 50 keep-alive connections,
# beside nginx answering a fixed 30-byte JSON on the same loopback in the
# same run (the ceiling for an HTTP server on this machine). Each target is
# measured ROUNDS times (default 3), interleaved; the best round counts.
#
#   make B=build all && B=build bench/apid.sh [SECONDS]
#
# Run as root: fp-apid starts as root and drops to `flashpods`, nginx runs
# from a config in a scratch directory. fp-apid runs the test policy
# (tests/apid/policy.fp.in) with the laptop moved to 127.0.0.1, its
# defaults (4 threads) and `--rate 0` (the limit of 100/s per peer would
# otherwise answer most requests with 429). Prints a Markdown table.
set -eu
cd "$(dirname "$0")/.."
TOP=$PWD
B=${B:-build}
B=$(cd "$B" && pwd)
SECS=${1:-5}
CONNS=50
for f in "$B/fp-apid" "$B/fpc"; do
	[ -x "$f" ] || { echo "bench/apid.sh: $f missing (make B=$B all)" >&2; exit 1; }
done
for t in wrk nginx curl jq; do
	command -v "$t" >/dev/null || { echo "bench/apid.sh: $t is not installed" >&2; exit 1; }
done
[ "$(id -u)" = 0 ] || { echo "bench/apid.sh: run as root" >&2; exit 1; }
. tests/lib.sh >/dev/null
. tests/apid/common.sh
podman_rootless_setup
podman_test_image "$IMAGE"

# ---- fp-apid ------------------------------------------------------------------
mkdir -p "$SCRATCH/db" "$SCRATCH/logs" "$SCRATCH/artifacts" "$SCRATCH/uploads/u1" \
	"$SCRATCH/run" "$SCRATCH/out"
chown flashpods:flashpods "$SCRATCH/db" "$SCRATCH/logs" "$SCRATCH/artifacts" \
	"$SCRATCH/uploads/u1" "$SCRATCH/run"
chmod 0755 "$SCRATCH/uploads" "$SCRATCH/out"
APORT=$(apid_free_port)
sed -e "s|@SCRATCH@|$SCRATCH|g; s|@PORT@|$APORT|g; s|@UID@|$FLASHPODS_UID|g" \
	-e 's|from 127.0.0.2, 127.0.0.3;|from 127.0.0.1;|' \
	tests/apid/policy.fp.in > "$SCRATCH/policy.fp"
"$B/fpc" "$SCRATCH/policy.fp" -o "$SCRATCH/out" > /dev/null
TOKEN=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
printf '%s\n' "$TOKEN" > "$SCRATCH/api-token"
chmod 0600 "$SCRATCH/api-token"
"$B/fp-apid" -b "$SCRATCH/out/policy.pb" -t "$SCRATCH/api-token" --db "$SCRATCH/db/flashpods.db" \
	--log-dir "$SCRATCH/logs" --rate 0 2> "$SCRATCH/apid.log" &
apid=$!
on_exit "kill $apid"
AURL="http://127.0.0.1:$APORT"
for _ in $(seq 100); do curl -sf -o /dev/null "$AURL/health" && break; sleep 0.05; done
curl -sf -o "$SCRATCH/job.json" -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
	--data-binary '{"type":"worker","command":"echo bench","files_id":"u1"}' "$AURL/jobs"
JOB=$(jq -r .id "$SCRATCH/job.json")
# the job's container finishes before the measurements start
for _ in $(seq 300); do
	st=$(curl -s -H "Authorization: Bearer $TOKEN" "$AURL/jobs/$JOB" | jq -r .status)
	case $st in queued|running|cancelling) sleep 0.1 ;; *) break ;; esac
done

# ---- nginx ----------------------------------------------------------------------
NPORT=$(apid_free_port)
N=$SCRATCH/nginx
mkdir -p "$N/tmp"
cat > "$N/nginx.conf" <<EOF
worker_processes auto;
pid $N/nginx.pid;
error_log $N/error.log;
events { worker_connections 1024; }
http {
	access_log off;
	client_body_temp_path $N/tmp/body;
	proxy_temp_path $N/tmp/proxy;
	fastcgi_temp_path $N/tmp/fastcgi;
	uwsgi_temp_path $N/tmp/uwsgi;
	scgi_temp_path $N/tmp/scgi;
	server {
		listen 127.0.0.1:$NPORT;
		location / {
			default_type application/json;
			return 200 '{"status":"healthy","v":"0.1"}';
		}
	}
}
EOF
nginx -c "$N/nginx.conf" -p "$N"
on_exit "nginx -c '$N/nginx.conf' -p '$N' -s quit"
NURL="http://127.0.0.1:$NPORT"
for _ in $(seq 100); do curl -sf -o /dev/null "$NURL/" && break; sleep 0.05; done
[ "$(curl -s "$NURL/" | wc -c)" = 30 ] || { echo "bench/apid.sh: nginx answer is not 30 bytes" >&2; exit 1; }

# ---- measure ----------------------------------------------------------------------
# cell URL [HEADER]: "req/s p50_us p99_us non2xx" from one wrk run.
cell() {
	local url=$1
	shift
	wrk -t2 -c"$CONNS" -d"${SECS}s" --latency "$@" "$url" > "$SCRATCH/wrk.out" 2>&1 || true
	awk '
	function us(v) {
		if (v ~ /us$/) return v + 0
		if (v ~ /ms$/) return (v + 0) * 1000
		if (v ~ /s$/) return (v + 0) * 1000000
		return v
	}
	$1 == "50%" { p50 = us($2) }
	$1 == "99%" { p99 = us($2) }
	$1 == "Requests/sec:" { rps = $2 }
	/Non-2xx or 3xx responses:/ { bad = $NF }
	/Socket errors:/ { bad = bad "+socket" }
	END { printf "%d %d %d %s\n", rps, p50, p99, bad == "" ? 0 : bad }' "$SCRATCH/wrk.out"
}
# best ROUNDS NAME URL [HEADER]: the cell with the most req/s of ROUNDS
# runs, the targets interleaved round by round (the machine is shared:
# the best round is the one least disturbed).
ROUNDS=${ROUNDS:-3}
: > "$SCRATCH/cells"
for r in $(seq "$ROUNDS"); do
	echo "nginx $(cell "$NURL/")" >> "$SCRATCH/cells"
	echo "health $(cell "$AURL/health")" >> "$SCRATCH/cells"
	echo "job $(cell "$AURL/jobs/$JOB" -H "Authorization: Bearer $TOKEN")" >> "$SCRATCH/cells"
done
best() { awk -v t="$1" '$1 == t && $2 >= m { m = $2; line = $2 " " $3 " " $4 " " $5 } END { print line }' "$SCRATCH/cells"; }
read -r nr n50 n99 nbad < <(best nginx)
read -r hr h50 h99 hbad < <(best health)
read -r jr j50 j99 jbad < <(best job)
ratio() { awk -v a="$1" -v b="$nr" 'BEGIN { printf "%.2f", b ? a / b : 0 }'; }
echo "fp-apid vs nginx, $(nproc) cores, wrk -t2 -c$CONNS, ${SECS}s per cell, best of $ROUNDS interleaved rounds, keep-alive, loopback, load average $(cut -d' ' -f1 /proc/loadavg)"
echo
echo "| target | req/s | p50 µs | p99 µs | req/s vs nginx |"
echo "|---|---:|---:|---:|---:|"
echo "| nginx, fixed 30-byte JSON | $nr | $n50 | $n99 | 1.00 |"
echo "| fp-apid GET /health | $hr | $h50 | $h99 | $(ratio "$hr") |"
echo "| fp-apid GET /jobs/{id} | $jr | $j50 | $j99 | $(ratio "$jr") |"
[ "$nbad$hbad$jbad" = 000 ] ||
	echo "(non-2xx or socket errors: nginx $nbad, /health $hbad, /jobs/{id} $jbad)"
echo
echo "Answer sizes: nginx $(curl -s "$NURL/" | wc -c) B, /health $(curl -s "$AURL/health" | wc -c) B," \
	"/jobs/{id} $(curl -s -H "Authorization: Bearer $TOKEN" "$AURL/jobs/$JOB" | wc -c) B (bodies)."
