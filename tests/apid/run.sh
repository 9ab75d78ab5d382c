#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# fp-apid over HTTP: the real daemon on 127.0.0.1 (dropping from root to
# flashpods, running real rootless containers), driven with curl: every
# route and error code, the source allowlist, the token, the rate limit,
# idempotency, limits, slow clients, start-up refusals, real containers
# (containers.sh), the upload re-check at start and runner adoption after a
# restart (recheck.sh) and crash safety under kill -9.
set -u
source "$TOP/tests/lib.sh"
source "$TOP/tests/apid/common.sh"
apid_setup

# ---- start-up refusals (fail closed) -------------------------------------

refuse() {	# NAME WANT-IN-STDERR ARGS...
	local name=$1 want=$2
	shift 2
	if "$APID" "$@" > "$SCRATCH/refuse.out" 2>&1; then
		fail "$name" "fp-apid started"
	elif grep -q -- "$want" "$SCRATCH/refuse.out"; then
		pass "$name"
	else
		fail "$name" "$(cat "$SCRATCH/refuse.out")"
	fi
}
cp "$SCRATCH/api-token" "$SCRATCH/token-644"; chmod 0644 "$SCRATCH/token-644"
refuse refuse_readable_token "lets others read the token" -n -b "$BUNDLE" -t "$SCRATCH/token-644"
printf 'short\n' > "$SCRATCH/token-short"; chmod 0600 "$SCRATCH/token-short"
refuse refuse_short_token "exactly 64 hex" -n -b "$BUNDLE" -t "$SCRATCH/token-short"
refuse refuse_missing_bundle "no-such.pb" -n -b "$SCRATCH/no-such.pb" -t "$SCRATCH/api-token"
head -c 100 /dev/urandom > "$SCRATCH/garbage.pb"
refuse refuse_garbage_bundle "garbage.pb" -n -b "$SCRATCH/garbage.pb" -t "$SCRATCH/api-token"
refuse refuse_bad_flag "not a number" -n --rate lots
if "$APID" -n -b "$BUNDLE" -t "$SCRATCH/api-token" > "$SCRATCH/n.out" 2>&1 &&
	grep -q "job type worker: command, cpus 1..8, memory 1..16 GB, timeout 1..120 min" "$SCRATCH/n.out"; then
	pass check_only_summary
else
	fail check_only_summary "$(cat "$SCRATCH/n.out")"
fi

apid_start || { fail start "fp-apid did not come up"; exit 1; }

# ---- the daemon's identity ----------------------------------------------
check runs_as_flashpods "$FLASHPODS_UID" "$(stat -c %u /proc/$APID_PID)"
check db_owned_by_flashpods flashpods "$(stat -c %U "$DB")"
if [ -e "$DB-wal" ]; then pass db_in_wal_mode; else fail db_in_wal_mode "no $DB-wal"; fi

# ---- /health, request ids, the source allowlist --------------------------
code=$(curl -s --interface 127.0.0.2 -D "$SCRATCH/headers" -o "$SCRATCH/body" -w '%{http_code}' "$URL/health")
check health_no_token 200 "$code"
check health_body healthy "$(body_get .status)"
check health_policy apidtest "$(body_get .policy)"
if grep -qi '^X-Request-Id: [0-9a-f]\{16\}' "$SCRATCH/headers"; then pass request_id_generated
else fail request_id_generated "$(cat "$SCRATCH/headers")"; fi
api GET /jobs -H 'X-Request-Id: trace-42.a_b' > /dev/null
if grep -qi '^X-Request-Id: trace-42.a_b' "$SCRATCH/headers"; then pass request_id_echoed
else fail request_id_echoed "$(cat "$SCRATCH/headers")"; fi
api GET /jobs -H 'X-Request-Id: bad id!' > /dev/null
if grep -qi '^X-Request-Id: [0-9a-f]\{16\}' "$SCRATCH/headers"; then pass request_id_unsafe_replaced
else fail request_id_unsafe_replaced "$(cat "$SCRATCH/headers")"; fi

# a peer the policy does not allow is closed at accept, before a byte is
# read: no answer at all (curl: empty reply or reset, code 000)
curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOKEN" "$URL/jobs" > "$SCRATCH/code"
check peer_127_0_0_1_refused_at_accept 000 "$(cat "$SCRATCH/code")"
code=$(curl -s -o /dev/null -w '%{http_code}' "$URL/health")
check peer_refused_before_health 000 "$code"
if grep -q 'peer 127.0.0.1 refused at connect' "$SCRATCH/apid.log"; then pass peer_refusal_logged
else fail peer_refusal_logged "$(tail -3 "$SCRATCH/apid.log")"; fi
code=$(curl -s --interface 127.0.0.2 -o "$SCRATCH/body" -w '%{http_code}' -H "Authorization: Bearer $TOKEN" "$URL/jobs")
check peer_127_0_0_2_admitted 200 "$code"

# ---- the token ------------------------------------------------------------
tok() {	# NAME WANT-CODE [HEADER]
	local name=$1 want=$2 code
	shift 2
	code=$(curl -s --interface 127.0.0.2 -D "$SCRATCH/headers" -o "$SCRATCH/body" -w '%{http_code}' "$@" "$URL/jobs")
	check "$name" "401 $want" "$code $(body_get .error)"
}
tok auth_missing missing_authorization
tok auth_basic malformed_authorization -H "Authorization: Basic $(printf u:p | base64)"
tok auth_bearer_empty malformed_authorization -H "Authorization: Bearer "
tok auth_wrong_token invalid_token -H "Authorization: Bearer $(printf '%064d' 0)"
tok auth_short_token invalid_token -H "Authorization: Bearer ${TOKEN:0:63}"
tok auth_long_token invalid_token -H "Authorization: Bearer ${TOKEN}0"
if grep -qi '^WWW-Authenticate: Bearer' "$SCRATCH/headers"; then pass auth_www_authenticate
else fail auth_www_authenticate; fi
code=$(curl -s --interface 127.0.0.2 -o "$SCRATCH/body" -w '%{http_code}' -H "Authorization: bearer $TOKEN" "$URL/jobs")
check auth_scheme_case_insensitive 200 "$code"

# ---- routes -----------------------------------------------------------------
check route_unknown "404 not_found" "$(api GET /nope) $(body_get .error)"
check route_jobs_put "405 method_not_allowed" "$(api PUT /jobs) $(body_get .error)"
check route_job_post "405 method_not_allowed" "$(api POST /jobs/abc) $(body_get .error)"
check route_health_post "405 method_not_allowed" "$(api POST /health) $(body_get .error)"
check job_unknown "404 job_not_found" "$(api GET /jobs/0000000000000000) $(body_get .error)"
check job_bad_id "404 job_not_found" "$(api GET /jobs/a.b) $(body_get .error)"
check output_unknown "404 job_not_found" "$(api GET /jobs/0000000000000000/output) $(body_get .error)"
check delete_unknown "404 job_not_found" "$(api DELETE /jobs/0000000000000000) $(body_get .error)"

# ---- validation: each bad body, its code and field (golden) ---------------
: > "$SCRATCH/bad.got"
while IFS=$'\t' read -r name body; do
	code=$(api POST /jobs --data-binary "$body")
	printf '%s %s %s %s\n' "$name" "$code" "$(body_get .error)" "$(body_get '.details.field // "-"')" >> "$SCRATCH/bad.got"
done < "$TOP/tests/apid/bad-requests.txt"
golden bad_requests "$TOP/tests/apid/bad-requests.out" "$SCRATCH/bad.got"
check out_of_range_details "1 8 9" "$(api POST /jobs --data-binary '{"type":"worker","command":"x","files_id":"u1","cpus":9}' >/dev/null; body_get '"\(.details.min) \(.details.max) \(.details.got)"')"
code=$(curl -s --interface 127.0.0.2 -H "Authorization: Bearer $TOKEN" -H 'Content-Type: text/plain' \
	-o "$SCRATCH/body" -w '%{http_code}' --data-binary '{}' "$URL/jobs")
check wrong_content_type "415 unsupported_media_type" "$code $(body_get .error)"
head -c 2000000 /dev/zero | tr '\0' 'a' > "$SCRATCH/huge"
check huge_body "413 payload_too_large" "$(api POST /jobs --data-binary @"$SCRATCH/huge") $(body_get .error)"
check huge_body_chunked "413 payload_too_large" "$(api POST /jobs -H 'Transfer-Encoding: chunked' --data-binary @"$SCRATCH/huge") $(body_get .error)"
big=$(head -c 12000 /dev/zero | tr '\0' 'b')
check huge_headers "431 headers_too_large" "$(api GET /jobs -H "X-Big: $big") $(body_get .error)"
# X-Request-Id on every answer, errors included (401, 404, 413, 431)
noid=
has_id() {	# WANT CODE: CODE is WANT and the last answer has a request id
	[ "$2" = "$1" ] && grep -qi '^X-Request-Id: [0-9a-f]\{16\}' "$SCRATCH/headers" ||
		noid="$noid $1(got $2)"
}
has_id 401 "$(curl -s --interface 127.0.0.2 -D "$SCRATCH/headers" -o "$SCRATCH/body" -w '%{http_code}' "$URL/jobs")"
has_id 404 "$(api GET /jobs/0000000000000000)"
has_id 413 "$(api POST /jobs --data-binary @"$SCRATCH/huge")"
has_id 431 "$(api GET /jobs -H "X-Big: $big")"
check request_id_on_errors "" "$noid"

# ---- jobs: create, idempotency, get, list, output, delete -----------------
code=$(api POST /jobs --data-binary '{"type":"worker","command":"echo one; echo two; echo three","files_id":"u1","client_job_id":"c-1"}')
check post_created 201 "$code"
id=$(body_get .id)
check post_defaults "1 2 30 worker" "$(body_get '"\(.cpus) \(.memory_gb) \(.timeout_minutes) \(.type)"')"
code=$(api POST /jobs --data-binary '{"type":"worker","command":"echo one; echo two; echo three","files_id":"u1","client_job_id":"c-1"}')
check post_idempotent "200 $id" "$code $(body_get .id)"
check job_completes completed "$(wait_status "$id" completed failed lost)"
check job_exit_code 0 "$(body_get .exit_code)"
check job_times "true" "$(body_get '.started_at != null and .finished_at != null and .created_at <= .started_at')"
api GET "/jobs/$id/output" > /dev/null
if body_get .output | grep -q '^two$'; then pass output_all; else fail output_all "$(cat "$SCRATCH/body")"; fi
check output_tail "three" "$(api GET "/jobs/$id/output?tail=1" >/dev/null; body_get .output | tr -d '\n')"
check output_bad_tail "400 invalid_query tail" "$(api GET "/jobs/$id/output?tail=0") $(body_get .error) $(body_get .details.field)"
check delete_finished "409 job_finished completed" "$(api DELETE "/jobs/$id") $(body_get .error) $(body_get .details.status)"
code=$(api POST /jobs --data-binary '{"type":"worker","command":"exit 3","files_id":"u1"}')
fid=$(body_get .id)
check job_fails "failed 3" "$(wait_status "$fid" failed completed lost) $(body_get .exit_code)"
code=$(api POST /jobs --data-binary '{"type":"worker","command":"sh -c '"'"'kill -9 $$'"'"'; exit $?","files_id":"u1"}')
kid=$(body_get .id)
check job_sigkill_without_oom "failed 137" "$(wait_status "$kid" failed oom_killed completed lost) $(body_get .exit_code)"
check list_all "200 true" "$(api GET /jobs) $(body_get '.count >= 3 and (.jobs | length) == .count')"
check list_newest_first "$kid" "$(api GET /jobs >/dev/null; body_get '.jobs[0].id')"
check list_limit "1" "$(api GET '/jobs?limit=1' >/dev/null; body_get .count)"
check list_status "$fid" "$(api GET '/jobs?status=failed&limit=100' >/dev/null; body_get '[.jobs[] | select(.exit_code == 3) | .id] | join(",")')"
check list_bad_status "400 invalid_query status" "$(api GET '/jobs?status=bogus') $(body_get .error) $(body_get .details.field)"
check list_bad_limit "400 invalid_query limit" "$(api GET '/jobs?limit=101') $(body_get .error) $(body_get .details.field)"
check log_file_path "yes" "$([ -s "$LOGS/$id.log" ] && echo yes)"
chmod 000 "$LOGS/$id.log"
check output_unreadable "500 output_unavailable" "$(api GET "/jobs/$id/output") $(body_get .error)"
chmod 0640 "$LOGS/$id.log"

# ---- the store locked by someone else: 503, and no job without a 201 ---------
mkfifo "$SCRATCH/sql.in"
as_flashpods sqlite3 "$DB" < "$SCRATCH/sql.in" > "$SCRATCH/sql.out" 2>&1 &
sqlpid=$!
exec 7> "$SCRATCH/sql.in"
echo "BEGIN EXCLUSIVE; INSERT INTO schema_version SELECT version FROM schema_version WHERE 0;" >&7
echo ".system touch $SCRATCH/run/sql.locked" >&7
for _ in $(seq 100); do [ -e "$SCRATCH/run/sql.locked" ] && break; sleep 0.05; done
check store_locked "503 storage_unavailable" "$(api POST /jobs --data-binary '{"type":"worker","command":"true","files_id":"u1","client_job_id":"while-locked"}') $(body_get .error)"
check store_locked_reads 200 "$(api GET /jobs)"
echo "COMMIT;" >&7
exec 7>&-
wait $sqlpid
check store_unlocked_retry 201 "$(api POST /jobs --data-binary '{"type":"worker","command":"true","files_id":"u1","client_job_id":"while-locked"}')"

# ---- rate limit: 100/s, burst 10, per peer (127.0.0.3 has its own) --------
args=()
for i in $(seq 60); do args+=(-o "$SCRATCH/rl.$i" "$URL/health"); done
curl -s --interface 127.0.0.3 -D "$SCRATCH/rl.headers" -w '%{http_code}\n' "${args[@]}" > "$SCRATCH/rl"
n429=$(grep -c 429 "$SCRATCH/rl"); n200=$(grep -c 200 "$SCRATCH/rl")
if [ "$n429" -ge 1 ] && [ "$n200" -ge 10 ]; then pass "rate_limited ($n200 ok, $n429 limited)"
else fail rate_limited "$n200 ok, $n429 limited"; fi
i=$(grep -n 429 "$SCRATCH/rl" | head -1 | cut -d: -f1)
cp "$SCRATCH/rl.${i:-1}" "$SCRATCH/body"
check rate_limited_body "rate_limited 1" "$(body_get .error) $(body_get .details.retry_after_seconds)"
if grep -qi '^Retry-After: 1' "$SCRATCH/rl.headers"; then pass rate_limited_retry_after
else fail rate_limited_retry_after "no Retry-After: 1"; fi
check rate_limit_per_peer 200 "$(api GET /health)"
sleep 1
check rate_limit_refills 200 "$(curl -s --interface 127.0.0.3 -o /dev/null -w '%{http_code}' "$URL/health")"

# ---- hardening (issue 17) ------------------------------------------------------
# refused peers cannot hold the connection slots: 4 refused addresses x 256
# slow connections (the per-address cap) are closed at accept, and the
# laptop is still answered
tpids=
for a in 1 4 5 6; do
	perl "$TOP/tests/tokend/trickle.pl" "tcp:127.0.0.1:$PORT:127.0.0.$a" 250 4 > "$SCRATCH/trickle.$a" &
	tpids="$tpids $!"
done
sleep 1
check laptop_served_while_refused_peers_connect 200 "$(curl -s -m 3 --interface 127.0.0.2 -o /dev/null -w '%{http_code}' "$URL/health")"
for p in $tpids; do wait "$p"; done
bad=
for a in 1 4 5 6; do
	grep -q '^250 connected, 250 closed by the server$' "$SCRATCH/trickle.$a" ||
		bad="$bad 127.0.0.$a: $(cat "$SCRATCH/trickle.$a");"
done
check refused_peers_closed_at_accept "" "$bad"
# framing: 400 and the connection closed, a smuggled request never served
raw() {	# BYTES: the status codes answered on one connection, and "close"s
	printf "$1" | timeout 5 socat -t 2 - "TCP:127.0.0.1:$PORT,bind=127.0.0.2" > "$SCRATCH/raw.out" 2>/dev/null
	echo "$(grep -a '^HTTP/1.1 ' "$SCRATCH/raw.out" | tr -d '\r' | cut -d' ' -f2 | xargs echo) $(grep -aci '^Connection: close' "$SCRATCH/raw.out")"
}
A="Authorization: Bearer $TOKEN"
check framing_two_content_length "400 1" "$(raw "GET /health HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nContent-Length: 41\r\n\r\nGET /health HTTP/1.1\r\nHost: x\r\n\r\n")"
check framing_cl_and_te "400 1" "$(raw "POST /jobs HTTP/1.1\r\nHost: x\r\n$A\r\nContent-Type: application/json\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /jobs HTTP/1.1\r\nHost: x\r\n$A\r\n\r\n")"
check framing_two_authorization "400 1" "$(raw "GET /jobs HTTP/1.1\r\nHost: x\r\n$A\r\nAuthorization: Bearer 0\r\n\r\n")"
check framing_keep_alive_still_works "200 200 0" "$(raw "GET /health HTTP/1.1\r\nHost: x\r\n\r\nGET /health HTTP/1.1\r\nHost: x\r\n\r\n")"
# POST without Content-Type is 415; %00 in the path matches no route
code=$(curl -s --interface 127.0.0.2 -H "Authorization: Bearer $TOKEN" -H 'Content-Type:' \
	-o "$SCRATCH/body" -w '%{http_code}' --data-binary '{"type":"worker","command":"true","files_id":"u1"}' "$URL/jobs")
check post_without_content_type "415 unsupported_media_type" "$code $(body_get .error)"
check path_with_nul_byte "404 not_found" "$(api GET '/jobs%00/abc') $(body_get .error)"
# the database is the daemon's alone
check db_mode_0600 600 "$(stat -c %a "$DB")"
# an upload that is a symlink is not an upload
ln -s /etc "$SCRATCH/uploads/evil"
check upload_symlink_refused "400 files_not_found" "$(api POST /jobs --data-binary '{"type":"worker","command":"true","files_id":"evil"}') $(body_get .error)"
# a bundle file larger than any bundle is refused before it is read
head -c $((17 * 1024 * 1024)) /dev/zero > "$SCRATCH/huge.pb"
refuse refuse_huge_bundle "larger than" -n -b "$SCRATCH/huge.pb" -t "$SCRATCH/api-token"
# SIGHUP re-reads the token (issue 12): the old one is refused, the new one
# accepted, a job running across the rotation is untouched
code=$(api POST /jobs --data-binary '{"type":"worker","command":"sleep 3; echo rotated","files_id":"u1"}')
rid=$(body_get .id)
check rotation_job_running running "$(wait_status "$rid" running completed failed)"
OLD=$TOKEN
TOKEN=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
printf '%s\n' "$TOKEN" > "$SCRATCH/api-token.new" && chmod 0600 "$SCRATCH/api-token.new" &&
	chown flashpods:flashpods "$SCRATCH/api-token.new" && mv "$SCRATCH/api-token.new" "$SCRATCH/api-token"
n=$(grep -c 'token re-read' "$SCRATCH/apid.log")
kill -HUP "$APID_PID"
for _ in $(seq 100); do [ "$(grep -c 'token re-read' "$SCRATCH/apid.log")" -gt "$n" ] && break; sleep 0.05; done
check rotation_old_token_refused "401 invalid_token" "$(curl -s --interface 127.0.0.2 -H "Authorization: Bearer $OLD" -o "$SCRATCH/body" -w '%{http_code}' "$URL/jobs") $(body_get .error)"
check rotation_new_token_accepted 200 "$(api GET /jobs)"
check rotation_job_untouched "completed rotated" "$(wait_status "$rid" completed failed lost) $(api GET "/jobs/$rid/output" >/dev/null; body_get .output | grep -x rotated)"
printf 'short\n' > "$SCRATCH/api-token.bad" && chmod 0600 "$SCRATCH/api-token.bad" &&
	chown flashpods "$SCRATCH/api-token.bad" && cp -p "$SCRATCH/api-token" "$SCRATCH/api-token.good" &&
	mv "$SCRATCH/api-token.bad" "$SCRATCH/api-token"
n=$(grep -c 'keeping the old token' "$SCRATCH/apid.log")
kill -HUP "$APID_PID"
for _ in $(seq 100); do [ "$(grep -c 'keeping the old token' "$SCRATCH/apid.log")" -gt "$n" ] && break; sleep 0.05; done
check rotation_bad_file_keeps_token 200 "$(api GET /jobs)"
mv "$SCRATCH/api-token.good" "$SCRATCH/api-token"

# ---- slow clients -----------------------------------------------------------
"$B/tools/apid_slowclient" 127.0.0.2 127.0.0.1 "$PORT" headers 20 > "$SCRATCH/slow1" &
s1=$!
APID_TOKEN=$TOKEN "$B/tools/apid_slowclient" 127.0.0.2 127.0.0.1 "$PORT" body 20 > "$SCRATCH/slow2" &
s2=$!
wait $s1; wait $s2
for f in slow1:slow_headers_closed slow2:slow_body_closed; do
	r=$(cat "$SCRATCH/${f%%:*}")
	case $r in
	"closed after "*) pass "${f#*:} ($r)" ;;
	*) fail "${f#*:}" "$r" ;;
	esac
done

# ---- real containers (tests/apid/containers.sh) ------------------------------
apid_stop
source "$TOP/tests/apid/containers.sh"
# the upload re-checked at start, a decoy runner after a restart (goldens)
source "$TOP/tests/apid/recheck.sh"

# ---- crash safety: kill -9 while jobs are being created --------------------
: > "$SCRATCH/acked"
creator() {
	local i=0 code cid
	while [ ! -e "$SCRATCH/stop-creator" ]; do
		i=$((i + 1))
		cid="crash-$i"
		code=$(curl -s --interface 127.0.0.2 -m 5 -H "Authorization: Bearer $TOKEN" \
			-H 'Content-Type: application/json' -o "$SCRATCH/cbody" -w '%{http_code}' \
			--data-binary "{\"type\":\"worker\",\"command\":\"true\",\"files_id\":\"u1\",\"client_job_id\":\"$cid\"}" \
			"$URL/jobs")
		[ "$code" = 201 ] && echo "$cid $(jq -r .id "$SCRATCH/cbody")" >> "$SCRATCH/acked"
	done
}
creator &
cpid=$!
for round in 1 2 3 4 5 6; do
	apid_start --max-running 2 || { fail crash_restart "round $round"; break; }
	sleep "0.$(shuf -i 2-9 -n 1)"
	kill -9 "$APID_PID"
	wait "$APID_PID" 2>/dev/null
done
touch "$SCRATCH/stop-creator"
wait $cpid
apid_start || fail crash_restart "final start"
acked=$(wc -l < "$SCRATCH/acked")
missing=0
while read -r cid jid; do
	code=$(api GET "/jobs/$jid")
	[ "$code" = 200 ] && [ "$(body_get .client_job_id)" = "$cid" ] || missing=$((missing + 1))
done < "$SCRATCH/acked"
if [ "$acked" -ge 5 ] && [ "$missing" -eq 0 ]; then pass "crash_every_201_kept ($acked acknowledged)"
else fail crash_every_201_kept "$missing of $acked acknowledged jobs missing"; fi
read -r cid jid < "$SCRATCH/acked"
check crash_idempotent_after_restart "200 $jid" "$(api POST /jobs --data-binary "{\"type\":\"worker\",\"command\":\"true\",\"files_id\":\"u1\",\"client_job_id\":\"$cid\"}") $(body_get .id)"
# every acknowledged job settles, and a job that did not complete says why
# (status lost/failed with an error, e.g. its container ended while the
# daemon was down); jobs of the earlier tests are not looked at
unsettled=0 unexplained=0
: > "$SCRATCH/crash.states"
while read -r cid jid; do
	st=$(wait_status "$jid" completed failed lost cancelled timed_out oom_killed)
	printf '%s %s %s\n' "$jid" "$st" "$(body_get '"\(.exit_code) \(.error)"')" >> "$SCRATCH/crash.states"
	case $st in
	completed) ;;
	failed|lost) [ "$(body_get '.error // ""')" != "" ] || unexplained=$((unexplained + 1)) ;;
	*) unsettled=$((unsettled + 1)) ;;
	esac
done < "$SCRATCH/acked"
check crash_all_settled 0 "$unsettled"
if [ "$unexplained" -eq 0 ]; then
	pass "crash_ends_explained ($(cut -d' ' -f2 "$SCRATCH/crash.states" | sort | uniq -c | xargs))"
else
	fail crash_ends_explained "$unexplained jobs failed without an error: $(grep -v ' completed ' "$SCRATCH/crash.states" | tr '\n' ';')"
fi
apid_stop

# ---- free-bind: the policy's address may come up after the daemon (wg0 at
# boot); 192.0.2.77 is on no interface here, and the daemon still listens.
: > "$SCRATCH/freebind.log"	# (before the background start opens it)
"$APID" -b "$BUNDLE" -t "$SCRATCH/api-token" --db "$SCRATCH/db/freebind.db" \
	--log-dir "$LOGS" --listen "192.0.2.77:$(apid_free_port)" > "$SCRATCH/freebind.log" 2>&1 &
fb_pid=$!
on_exit "kill -9 $fb_pid"
for _ in $(seq 200); do
	grep -q 'serving policy' "$SCRATCH/freebind.log" && break
	kill -0 "$fb_pid" 2>/dev/null || break
	sleep 0.05
done
if grep -q 'listening on 192.0.2.77:' "$SCRATCH/freebind.log" &&
	grep -q 'serving policy' "$SCRATCH/freebind.log"; then
	pass listen_address_not_up_yet
else
	fail listen_address_not_up_yet "$(tail -3 "$SCRATCH/freebind.log")"
fi
kill "$fb_pid" 2>/dev/null
wait "$fb_pid" 2>/dev/null
cat "$SCRATCH/freebind.log" >> "$SCRATCH/apid.log"

# ---- every run of the daemon above: no sanitizer report (ASan builds) --------
if grep -q 'Sanitizer\|runtime error:' "$SCRATCH/apid.log"; then
	fail sanitizer_clean "$(grep -m5 -A5 'Sanitizer\|runtime error:' "$SCRATCH/apid.log")"
else
	pass sanitizer_clean
fi
