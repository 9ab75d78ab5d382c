# SPDX-License-Identifier: GPL-2.0-or-later
# Sourced by tests/apid/run.sh with fp-apid stopped (after containers.sh):
# two behaviours of the executor, each with a golden of the jobs' JSON.
#
# upload-recheck.out: an upload is checked when the job is posted and again
# just before its container starts (runtime/apid/executor.c, start_job).
# Three jobs wait queued behind a running one (--max-running 1), each with
# an upload that was a real directory at POST; then one upload is swapped
# for a symlink to a real directory, one removed, one left alone. The first
# two must end failed, without a container, with the error naming the
# upload; the third runs.
#
# find-runner.out: after a restart, a job the store has as running is
# adopted through the previous run's `podman run` only if that is the very
# process recorded (pid and start time) or a process in fp-apid's own pid
# namespace whose argv is `run ... --name job_ID` (executor.c,
# find_runner). The store names a container podman created and removed
# (events, no death), and records as its runner the pid of a decoy of the
# container user, in a pid namespace of its own as a job's processes are,
# whose argv is `perl -e ... run --name job_ID`, with another start time.
# The decoy must not be taken: the job ends lost, with the documented
# error, at once (adopting the decoy would leave it running).
#
# runner-gone.out: the recorded `podman run` was killed while fp-apid was
# down and the container runs on: no runner, so the job is adopted through
# `podman wait` and still ends with its container's exit code.

# jobline NAME ID: one line of a job's outcome, the scratch path and the
# job's id replaced.
jobline() {
	api GET "/jobs/$2" > /dev/null
	printf '%s %s\n' "$1" "$(jq -c '{status, exit_code, error, container,
		started: (.started_at != null), finished: (.finished_at != null)}' "$SCRATCH/body" |
		sed "s|$SCRATCH|@SCRATCH@|g; s|$2|ID|g")"
}

# ---- the upload re-check at start -------------------------------------------
apid_start --max-running 1 || { fail recheck_start "fp-apid did not come up"; return; }
for u in swapped removed kept; do
	mkdir -p "$SCRATCH/uploads/re-$u" && echo "$u" > "$SCRATCH/uploads/re-$u/in.txt"
	chown -R flashpods:flashpods "$SCRATCH/uploads/re-$u"
done
: > "$SCRATCH/recheck.got"
api POST /jobs --data-binary '{"type":"worker","files_id":"u1","command":"trap \"exit 143\" TERM; while :; do sleep 1; done"}' > /dev/null
blocker=$(body_get .id)
check recheck_blocker_running running "$(wait_status "$blocker" running failed completed lost)"
declare -A rid
for u in swapped removed kept; do
	code=$(api POST /jobs --data-binary "{\"type\":\"worker\",\"files_id\":\"re-$u\",\"command\":\"cat /work/in.txt\"}")
	rid[$u]=$(body_get .id)
	echo "post-$u $code $(body_get .status)" >> "$SCRATCH/recheck.got"
done
# between the POST and the start: a symlink to a real directory, and nothing
mv "$SCRATCH/uploads/re-swapped" "$SCRATCH/uploads/re-swapped.real"
ln -s re-swapped.real "$SCRATCH/uploads/re-swapped"
rm -rf "$SCRATCH/uploads/re-removed"
api DELETE "/jobs/$blocker" > /dev/null
wait_status "$blocker" cancelled completed failed lost > /dev/null
for u in swapped removed kept; do
	wait_status "${rid[$u]}" failed completed lost > /dev/null
	jobline "$u" "${rid[$u]}" >> "$SCRATCH/recheck.got"
done
echo "kept-output $(api GET "/jobs/${rid[kept]}/output" > /dev/null; body_get .output | grep -x kept)" >> "$SCRATCH/recheck.got"
for u in swapped removed; do
	grep -q "job ${rid[$u]}: cannot start: the upload $SCRATCH/uploads/re-$u is gone" "$SCRATCH/apid.log" &&
		echo "logged-$u yes" >> "$SCRATCH/recheck.got" || echo "logged-$u no" >> "$SCRATCH/recheck.got"
done
golden upload_recheck_at_start "$TOP/tests/apid/upload-recheck.out" "$SCRATCH/recheck.got"
apid_stop

# ---- find_runner: a decoy is never adopted --------------------------------------
jid=runner$$
name=job_$jid
# podman has events of the container (created, removed) but no death
as_flashpods podman create --name "$name" "$IMAGE" true > /dev/null
as_flashpods podman rm "$name" > /dev/null
# the decoy: the container user, a user and pid namespace of its own (as a
# job's processes are), argv `run --name job_ID`; the shell's own argv holds
# the words as one string, so only the decoy looks like a runner
as_flashpods unshare --user --map-root-user --pid --fork \
	sh -c "exec perl -e 'sleep 120' run --name $name" 2> "$SCRATCH/decoy.err" &
decoy=
for _ in $(seq 100); do
	decoy=$(pgrep -u flashpods -x -f "perl -e sleep 120 run --name $name") && break
	sleep 0.05
done
on_exit "kill -9 ${decoy:-0}"
: > "$SCRATCH/runner.got"
if [ -n "$decoy" ]; then
	echo "decoy-argv $(tr '\0' ' ' < "/proc/$decoy/cmdline" | sed "s|$jid|ID|")" >> "$SCRATCH/runner.got"
	echo "decoy-uid $([ "$(stat -c %u "/proc/$decoy")" = "$FLASHPODS_UID" ] && echo flashpods || echo other)" >> "$SCRATCH/runner.got"
	echo "decoy-own-pid-namespace $([ "$(readlink "/proc/$decoy/ns/pid")" != "$(readlink /proc/self/ns/pid)" ] && echo yes || echo no)" >> "$SCRATCH/runner.got"
else
	echo "decoy-missing" >> "$SCRATCH/runner.got"
fi
now=$(date +%s%3N)
as_flashpods sqlite3 "$DB" "INSERT INTO jobs (id, type, kind, command, files_id, cpus,
	memory_gb, timeout_minutes, status, created_ms, started_ms, container, runner_pid,
	runner_start) VALUES ('$jid', 'worker', 0, 'true', 'u1', 1, 2, 30, 'running', $now,
	$now, '$name', ${decoy:-0}, 1)"
apid_start --max-running 1 || fail runner_start "fp-apid did not come up"
jobline decoy-recorded "$jid" >> "$SCRATCH/runner.got"
echo "adopted $(grep -c "job $jid: adopted" "$SCRATCH/apid.log")" >> "$SCRATCH/runner.got"
echo "decoy-alive $(kill -0 "$decoy" 2>/dev/null && echo yes || echo no)" >> "$SCRATCH/runner.got"
golden find_runner_refuses_decoy "$TOP/tests/apid/find-runner.out" "$SCRATCH/runner.got"
kill -9 "$decoy" 2>/dev/null

# ---- find_runner: the recorded runner is gone, the container runs on --------
# fp-apid and the job's `podman run` both killed -9 (conmon keeps the
# container running): no runner is found, the job is adopted through
# `podman wait` and ends with its own exit code
did=$(api POST /jobs --data-binary '{"type":"worker","files_id":"u1","command":"echo ready; sleep 4; exit 6"}' > /dev/null; body_get .id)
check runner_gone_job_running running "$(wait_status "$did" running failed completed lost)"
# the container must be up (not still being created) before its runner dies
for _ in $(seq 100); do
	api GET "/jobs/$did/output" > /dev/null
	body_get .output | grep -qx ready && break
	sleep 0.1
done
runner=$(as_flashpods sqlite3 "$DB" "SELECT runner_pid FROM jobs WHERE id = '$did'")
kill -9 "$APID_PID"; wait "$APID_PID" 2>/dev/null
[ -n "$runner" ] && kill -9 "$runner"
for _ in $(seq 100); do kill -0 "$runner" 2>/dev/null || break; sleep 0.05; done
: > "$SCRATCH/gone.got"
echo "container-running $(as_flashpods podman container inspect --format '{{.State.Status}}' "job_$did" 2>&1)" >> "$SCRATCH/gone.got"
apid_start --max-running 1 || fail runner_gone_start "fp-apid did not come up"
grep -o "job $did: adopted job_$did ([a-z ]*)" "$SCRATCH/apid.log" | sed "s|$did|ID|g" >> "$SCRATCH/gone.got"
wait_status "$did" failed completed lost > /dev/null
jobline runner-gone "$did" >> "$SCRATCH/gone.got"
golden find_runner_gone_podman_wait "$TOP/tests/apid/runner-gone.out" "$SCRATCH/gone.got"
apid_stop
