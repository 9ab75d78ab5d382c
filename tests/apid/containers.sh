# SPDX-License-Identifier: GPL-2.0-or-later
# Sourced by tests/apid/run.sh with fp-apid stopped: real rootless
# containers started by the daemon (running as flashpods) from the image
# podman_test_image built. What the policy says a job gets is checked where
# it lands: files on the host, `podman inspect`, /proc inside. One slot
# (--max-running 1) so a second job waits queued; a timeout minute lasts
# 2 s (--test-minute-seconds).

apid_start --max-running 1 --test-minute-seconds 2 ||
	{ fail containers_start "fp-apid did not come up"; return; }

# post JSON: POST /jobs, print the new job's id.
post() { api POST /jobs --data-binary "$1" > /dev/null; body_get .id; }

# output ID: the job's whole log, without the warning podman prints on
# every run on a cgroup v1 host (limits ignored; see docs/apid.md).
output() {
	api GET "/jobs/$1/output?tail=10000" > /dev/null
	body_get .output | grep -v '^Resource limits are not supported and ignored on cgroups V1'
}

# inspect NAME JQ: a field of `podman inspect NAME`, as flashpods.
inspect() { as_flashpods podman container inspect "$1" | jq -r ".[0] | $2"; }

# ---- a worker: artifacts, identity, /work read-only ------------------------
id=$(post '{"type":"worker","files_id":"u1","command":"echo from-worker > /artifacts/out.txt; id -u; id; cat /work/in.txt; grep -E \"^(CapEff|CapPrm|NoNewPrivs)\" /proc/self/status"}')
check worker_completes "completed 0" "$(wait_status "$id" completed failed lost) $(body_get .exit_code)"
check worker_artifact_on_host from-worker "$(cat "$SCRATCH/artifacts/$id/out.txt" 2>&1)"
check worker_artifact_owner flashpods "$(stat -c %U "$SCRATCH/artifacts/$id/out.txt" 2>&1)"
check worker_artifacts_dir "flashpods 755" "$(stat -c '%U %a' "$SCRATCH/artifacts/$id" 2>&1)"
output "$id" > "$SCRATCH/worker.out"
check worker_id_u "$FLASHPODS_UID" "$(sed -n 1p "$SCRATCH/worker.out")"
case $(sed -n 2p "$SCRATCH/worker.out") in
"uid=$FLASHPODS_UID"*) pass worker_id ;;
*) fail worker_id "$(sed -n 2p "$SCRATCH/worker.out")" ;;
esac
check worker_reads_work uploaded "$(sed -n 3p "$SCRATCH/worker.out")"
check worker_no_capabilities "CapEff: 0000000000000000 CapPrm: 0000000000000000 NoNewPrivs: 1" \
	"$(grep -E '^(CapEff|CapPrm|NoNewPrivs)' "$SCRATCH/worker.out" | sort | tr -s ' \t' ' ' | xargs)"

id=$(post '{"type":"worker","files_id":"u1","command":"touch /work/from-worker"}')
check worker_cannot_write_work "failed 1" "$(wait_status "$id" completed failed lost) $(body_get .exit_code)"
if output "$id" | grep -q 'Read-only file system'; then pass worker_work_read_only
else fail worker_work_read_only "$(output "$id")"; fi
check worker_work_unchanged "no" "$([ -e "$SCRATCH/uploads/u1/from-worker" ] && echo yes || echo no)"

# ---- an agent: /work read-write, its environment, /entrypoint.sh -----------
id=$(post '{"type":"agent","files_id":"u1","task":"hello agent","git_branch":"feature/x","context":"ctx"}')
check agent_completes "completed 0" "$(wait_status "$id" completed failed lost) $(body_get .exit_code)"
check agent_wrote_work "hello agent" "$(cat "$SCRATCH/uploads/u1/agent.txt" 2>&1)"
check agent_work_file_owner flashpods "$(stat -c %U "$SCRATCH/uploads/u1/agent.txt" 2>&1)"
check agent_environment "agent $id on feature/x: hello agent" "$(output "$id" | sed -n 1p)"

# ---- podman inspect of a running job; a queued job; DELETE --------------------
# The job traps SIGTERM: it records it in /artifacts and exits, so the test
# sees the signal arrive (not only the container go).
long=$(post '{"type":"worker","files_id":"u1","command":"trap \"echo TERM > /artifacts/term.txt; exit 143\" TERM; echo ready; while :; do sleep 1; done"}')
check running_job "running" "$(wait_status "$long" running failed completed lost)"
for _ in $(seq 100); do output "$long" | grep -q ready && break; sleep 0.1; done
name=job_$long
check inspect_labels "true $long worker" \
	"$(inspect "$name" '.Config.Labels | "\(.["flashpods-job"]) \(.["flashpods-job-id"]) \(.["flashpods-job-type"])"')"
check inspect_mounts "/artifacts $SCRATCH/artifacts/$long rw,/run/token.sock $SCRATCH/run/token.sock ro,/work $SCRATCH/uploads/u1 ro" \
	"$(inspect "$name" "[.Mounts[] | \"\\(.Destination | sub(\"^$SCRATCH\"; \"\")) \\(.Source) \\(if .RW then \"rw\" else \"ro\" end)\"] | sort | join(\",\")")"
check inspect_userns_keep_id true "$(inspect "$name" '.Config.CreateCommand | index("--userns=keep-id") != null')"
check inspect_no_effective_caps 0 "$(inspect "$name" '.EffectiveCaps // [] | length')"
check inspect_cap_drop_all true "$(inspect "$name" '.Config.CreateCommand | (index("--cap-drop") != null) and (.[index("--cap-drop") + 1] == "ALL")')"
check inspect_cap_add_none 0 "$(inspect "$name" '.HostConfig.CapAdd // [] | length')"
check inspect_no_new_privileges true "$(inspect "$name" '.HostConfig.SecurityOpt | index("no-new-privileges") != null')"
check inspect_network slirp4netns "$(inspect "$name" '.HostConfig.NetworkMode')"
check inspect_not_privileged false "$(inspect "$name" '.HostConfig.Privileged')"
check inspect_rm true "$(inspect "$name" '.HostConfig.AutoRemove')"
check inspect_image localhost/fp-busybox:test "$(inspect "$name" '.ImageName')"
check inspect_uid_map "$FLASHPODS_UID" "$(as_flashpods podman exec "$name" cat /proc/self/uid_map |
	awk -v u="$FLASHPODS_UID" '$1 == u { print $1 }')"

queued=$(post '{"type":"worker","files_id":"u1","command":"true"}')
check second_job_queued queued "$(api GET "/jobs/$queued" > /dev/null; body_get .status)"
check delete_queued "200 cancelled" "$(api DELETE "/jobs/$queued") $(body_get .status)"
check delete_queued_twice "409 job_finished" "$(api DELETE "/jobs/$queued") $(body_get .error)"

check delete_running "202 cancelling" "$(api DELETE "/jobs/$long") $(body_get .status)"
check delete_cancelling_again "202 cancelling" "$(api DELETE "/jobs/$long") $(body_get .status)"
check cancelled_job "cancelled" "$(wait_status "$long" cancelled completed failed lost)"
check cancel_sent_sigterm TERM "$(cat "$SCRATCH/artifacts/$long/term.txt" 2>&1)"
check cancelled_container_gone no "$(as_flashpods podman container exists "$name" && echo yes || echo no)"
check cancelled_finished_at true "$(body_get '.finished_at != null')"

# a job that ignores SIGTERM is killed after the grace (10 s)
stub=$(post '{"type":"worker","files_id":"u1","command":"trap \"\" TERM; echo ready; while :; do sleep 1; done"}')
check stubborn_running running "$(wait_status "$stub" running failed completed lost)"
for _ in $(seq 100); do output "$stub" | grep -q ready && break; sleep 0.1; done
check delete_stubborn 202 "$(api DELETE "/jobs/$stub")"
check stubborn_killed "cancelled 137" "$(wait_status "$stub" cancelled failed completed lost) $(body_get .exit_code)"
if grep -q "job $stub: cancelled (exit 137)" "$SCRATCH/apid.log"; then pass stubborn_log
else fail stubborn_log "$(grep "$stub" "$SCRATCH/apid.log")"; fi

# ---- timeout: 1 minute of 2 s --------------------------------------------------
tmo=$(post '{"type":"worker","files_id":"u1","timeout_minutes":1,"command":"trap \"exit 0\" TERM; while :; do sleep 1; done"}')
check timed_out "timed_out" "$(wait_status "$tmo" timed_out completed failed lost)"
check timed_out_has_times true "$(body_get '.started_at != null and .finished_at != null')"

# ---- restart: a job whose container ends while fp-apid is down -------------
rid=$(post '{"type":"worker","files_id":"u1","command":"echo started; sleep 3; exit 5"}')
check restart_job_running running "$(wait_status "$rid" running failed completed lost)"
kill -9 "$APID_PID"; wait "$APID_PID" 2>/dev/null
for _ in $(seq 300); do
	as_flashpods podman container exists "job_$rid" || break
	sleep 0.1
done
apid_start --max-running 1 --test-minute-seconds 2 || fail restart_start "fp-apid did not come up"
check restart_reconciled "failed 5" "$(wait_status "$rid" failed completed lost) $(body_get .exit_code)"

# a job still running when fp-apid comes back is adopted and finishes
aid=$(post '{"type":"worker","files_id":"u1","command":"sleep 3; exit 4"}')
check adopt_job_running running "$(wait_status "$aid" running failed completed lost)"
kill -9 "$APID_PID"; wait "$APID_PID" 2>/dev/null
apid_start --max-running 1 --test-minute-seconds 2 || fail adopt_start "fp-apid did not come up"
check adopt_still_running running "$(api GET "/jobs/$aid" > /dev/null; body_get .status)"
check adopt_finishes "failed 4" "$(wait_status "$aid" failed completed lost) $(body_get .exit_code)"
if grep -q "job $aid: adopted" "$SCRATCH/apid.log"; then pass adopt_logged
else fail adopt_logged "$(grep "$aid" "$SCRATCH/apid.log")"; fi

# jobs the store has as running that podman never started: one whose
# container was created but never started (its podman run gone), one podman
# never heard of; both are queued again and run
apid_stop
now=$(date +%s%3N)
for n in 1 2; do
	as_flashpods sqlite3 "$DB" "INSERT INTO jobs (id, type, kind, command, files_id, cpus,
		memory_gb, timeout_minutes, status, created_ms, started_ms, container) VALUES
		('recon$n$$', 'worker', 0, 'echo ran', 'u1', 1, 2, 30, 'running', $now, $now,
		'job_recon$n$$')"
done
as_flashpods podman create --name "job_recon1$$" "$IMAGE" true > /dev/null
apid_start --max-running 1 || fail reconcile_start "fp-apid did not come up"
check reconcile_created_requeued "completed ran" "$(wait_status "recon1$$" completed failed lost) $(output "recon1$$")"
check reconcile_unknown_requeued "completed ran" "$(wait_status "recon2$$" completed failed lost) $(output "recon2$$")"
if grep -q "job recon1$$: its container never started, queued again" "$SCRATCH/apid.log" &&
	grep -q "job recon2$$: never started, queued again" "$SCRATCH/apid.log"; then
	pass reconcile_requeue_logged
else
	fail reconcile_requeue_logged "$(grep "recon[12]$$" "$SCRATCH/apid.log")"
fi

# ---- oom_killed: a job that runs out of memory ------------------------------
# Rootless podman on this cgroup v1 host ignores --memory (see docs/apid.md),
# so the limit the kernel enforces is a memory cgroup of the suite's own
# that fp-apid, podman and the container run in: the job fills its shell
# until the kernel's OOM killer ends it (exit 137, an OOM kill counted).
apid_stop
if memcg_new fpc-apid-oom $((384 * 1024 * 1024)); then
	APID_CGROUP=$MEMCG apid_start --max-running 1 || fail oom_start "fp-apid did not come up in $MEMCG"
	oid=$(post '{"type":"worker","files_id":"u1","command":"x=$(head -c 2000000000 /dev/zero | tr \"\\0\" a); echo survived ${#x}"}')
	check oom_killed "oom_killed 137" "$(wait_status "$oid" oom_killed failed completed lost) $(body_get .exit_code)"
	check oom_not_survived "" "$(output "$oid" | grep survived)"
	apid_stop
	memcg_remove "$MEMCG"
else
	fail oom_killed "cannot make a memory cgroup below $(awk -F: '$2 == "memory" { print $3 }' /proc/self/cgroup)"
fi

# ---- started as flashpods itself (as the NixOS unit starts it) -------------
install -m 0600 -o flashpods -g flashpods "$SCRATCH/api-token" "$SCRATCH/run/api-token"
APID_AS_USER=1 apid_start --max-running 1 || fail as_user_start "fp-apid did not come up as flashpods"
check as_user_uid "$FLASHPODS_UID" "$(stat -c %u /proc/$APID_PID)"
uid=$(post '{"type":"worker","files_id":"u1","command":"echo as-user > /artifacts/out.txt; echo as-user"}')
check as_user_job "completed as-user" "$(wait_status "$uid" completed failed lost) $(output "$uid")"
check as_user_artifact as-user "$(cat "$SCRATCH/artifacts/$uid/out.txt" 2>&1)"
apid_stop
