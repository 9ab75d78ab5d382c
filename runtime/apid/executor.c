/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * executor.c: runs queued jobs as attached `podman run` children (argv from
 * the bundle's builder, never a shell), one thread watching them through
 * pidfds: exit status, timeouts, cancellation (SIGTERM, grace, SIGKILL),
 * OOM. At start it reconciles jobs a previous run left running with what
 * podman reports.
 */
#include "apid.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

typedef enum {
	RJ_CHILD,	/* our own `podman run` child */
	RJ_WAITER,	/* adopted: our `podman wait NAME` child prints the code */
	RJ_FOREIGN,	/* adopted: a previous run's `podman run`, not our child */
} RunKind;

typedef enum { PH_RUN, PH_TERM, PH_KILL } Phase;

typedef struct Running {
	struct Running *next;
	char *id, *name;
	RunKind kind;
	pid_t pid;
	int pidfd;
	int out_fd;		/* RJ_WAITER: its stdout */
	double deadline;	/* monotonic: the job's timeout */
	Phase phase;
	double phase_at;	/* monotonic: next step of the phase */
	bool timed_out, cancelled;
	unsigned long oom_before;
} Running;

typedef struct Helper {
	struct Helper *next;
	pid_t pid;
} Helper;

typedef struct CancelReq {
	struct CancelReq *next;
	char *id;
} CancelReq;

struct Executor {
	ExecEnv env;
	pthread_t thread;
	pthread_mutex_t lock;	/* guards stopping, queued_hint, cancels */
	bool stopping, queued_hint;
	CancelReq *cancels;
	int efd;		/* eventfd: wake the thread */
	Running *running;	/* the thread's own */
	int n_running;
	Helper *helpers;
};

static int pidfd_open_(pid_t pid)
{
	return (int)syscall(SYS_pidfd_open, pid, 0);
}

/* Wake the executor thread. */
static void poke(Executor *ex)
{
	uint64_t one = 1;

	if (write(ex->efd, &one, sizeof one) < 0 && errno != EAGAIN)
		daemon_log("executor: wake: %s", strerror(errno));
}

/* see apid.h */
void executor_wake(Executor *ex)
{
	pthread_mutex_lock(&ex->lock);
	ex->queued_hint = true;
	pthread_mutex_unlock(&ex->lock);
	poke(ex);
}

/* ---- engine helper commands --------------------------------------------- */

/* Start `ENGINE kill --signal SIG NAME` without waiting for it. */
static void engine_kill(Executor *ex, const char *name, const char *sig)
{
	const char *engine = bundle_container(ex->env.bundle)->engine;
	char *argv[] = { (char *)engine, "kill", "--signal", (char *)sig, (char *)name, NULL };
	pid_t pid = podman_spawn(argv, ex->env.child_env, -1, -1);
	Helper *h;

	if (pid < 0) {
		daemon_log("executor: %s kill: %s", engine, strerror(errno));
		return;
	}
	h = calloc(1, sizeof *h);
	if (!h)
		abort();
	h->pid = pid;
	h->next = ex->helpers;
	ex->helpers = h;
}

/* Reap helper commands that have finished. */
static void reap_helpers(Executor *ex)
{
	for (Helper **hp = &ex->helpers; *hp;) {
		Helper *h = *hp;
		if (waitpid(h->pid, NULL, WNOHANG) != 0) {
			*hp = h->next;
			free(h);
		} else {
			hp = &h->next;
		}
	}
}

/* What podman knows of container name: 1 and state, code and oom if it
 * exists, 0 if not, -1 if podman could not be asked. */
static int engine_inspect(Executor *ex, const char *name, char *state,
			  size_t statelen, int *code, bool *oom)
{
	const char *engine = bundle_container(ex->env.bundle)->engine;
	char *argv[] = { (char *)engine, "container", "inspect", "--format",
			 "{{.State.Status}} {{.State.ExitCode}} {{.State.OOMKilled}}",
			 (char *)name, NULL };
	char *out, st[32] = "", oo[16] = "";
	int rc = podman_run_capture(argv, ex->env.child_env, &out, 4096, 60);

	if (rc == 0 && sscanf(out, "%31s %d %15s", st, code, oo) == 3) {
		snprintf(state, statelen, "%s", st);
		*oom = !strcmp(oo, "true");
		free(out);
		return 1;
	}
	free(out);
	return rc < 0 ? -1 : 0;
}

/* Remove container name (`ENGINE rm -f NAME`), waiting for it. */
static void engine_remove(Executor *ex, const char *name)
{
	const char *engine = bundle_container(ex->env.bundle)->engine;
	char *argv[] = { (char *)engine, "rm", "-f", (char *)name, NULL };
	char *out;

	if (podman_run_capture(argv, ex->env.child_env, &out, 4096, 60) != 0)
		daemon_log("executor: %s rm -f %s failed", engine, name);
	free(out);
}

/* From podman's event log: 1 and *code if container name died, 0 if it
 * has events but no death, -1 if podman has no event of it at all. */
static int engine_events(Executor *ex, const char *name, int *code)
{
	const char *engine = bundle_container(ex->env.bundle)->engine;
	char filter[128];
	char *argv[] = { (char *)engine, "events", "--stream=false", "--filter", filter,
			 "--format", "{{.Status}} {{.ContainerExitCode}}", NULL };
	char *out, *line, *save = NULL;
	int found = -1;

	snprintf(filter, sizeof filter, "container=%s", name);
	if (podman_run_capture(argv, ex->env.child_env, &out, 1 << 20, 60) != 0) {
		free(out);
		return -1;
	}
	for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		int c;
		if (found < 0)
			found = 0;
		if (sscanf(line, "died %d", &c) == 1) {
			*code = c;
			found = 1;
		}
	}
	free(out);
	return found;
}

/* Whether process pid (a /proc entry name) is in our pid namespace: a
 * process inside a job's container never is (podman gives every container
 * a pid namespace of its own; its rootless user namespace, by contrast, is
 * the runner's too, so it cannot tell them apart). */
static bool same_pid_namespace(const char *pid)
{
	char mine[64], theirs[64], path[300];
	ssize_t a, b;

	a = readlink("/proc/self/ns/pid", mine, sizeof mine);
	snprintf(path, sizeof path, "/proc/%s/ns/pid", pid);
	b = readlink(path, theirs, sizeof theirs);
	return a > 0 && a == b && !memcmp(mine, theirs, (size_t)a);
}

/* The pid of a live `podman run --name NAME` of ours left by a previous run
 * of the daemon: the one it recorded (same pid, same start time), else
 * (it died between the spawn and recording it) one of our uid, in our own
 * pid namespace, whose command line names the container. A job's
 * processes run as our uid too but inside their container's pid
 * namespace, so one that dresses up as "podman run --name ..." is never
 * taken. 0 if none. */
static pid_t find_runner(const Job *j)
{
	const char *name = j->container;
	struct stat st;
	char own[64];
	DIR *d;
	struct dirent *de;
	pid_t found = 0;

	snprintf(own, sizeof own, "/proc/%ld", j->runner_pid);
	if (j->runner_pid > 0 && stat(own, &st) == 0 && st.st_uid == geteuid() &&
	    proc_start_time((pid_t)j->runner_pid) == j->runner_start)
		return (pid_t)j->runner_pid;
	d = opendir("/proc");
	if (!d)
		return 0;
	while (!found && (de = readdir(d))) {
		char path[300], buf[8192];
		ssize_t n;
		int fd;
		bool saw_run = false, want_name = false;

		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof path, "/proc/%s", de->d_name);
		if (stat(path, &st) < 0 || st.st_uid != geteuid() ||
		    !same_pid_namespace(de->d_name))
			continue;
		snprintf(path, sizeof path, "/proc/%s/cmdline", de->d_name);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		n = read(fd, buf, sizeof buf - 1);
		close(fd);
		if (n <= 0)
			continue;
		buf[n] = '\0';
		for (char *a = buf; a < buf + n; a += strlen(a) + 1) {
			if (want_name && !strcmp(a, name) && saw_run) {
				found = (pid_t)atol(de->d_name);
				break;
			}
			want_name = !strcmp(a, "--name");
			saw_run |= !strcmp(a, "run");
		}
	}
	closedir(d);
	return found;
}

/* ---- finishing -------------------------------------------------------- */

/* The final status of a job that ended with (has_code, code). */
static JobStatus final_status(const Running *rj, bool cancelled, bool has_code,
			      int code, bool oom)
{
	if (rj && rj->timed_out)
		return JOB_TIMED_OUT;
	if (cancelled)
		return JOB_CANCELLED;
	if (!has_code)
		return JOB_LOST;
	if (code == 137 && oom)
		return JOB_OOM_KILLED;
	return code == 0 ? JOB_COMPLETED : JOB_FAILED;
}

/* Record the end of job id (running or cancelling) in the store: STORE_OK,
 * STORE_NOTFOUND (in neither status), or STORE_ERROR. */
static StoreResult finish_once(Executor *ex, const char *id, const Running *rj,
			       const Job *j, bool oom)
{
	JobStatus st = final_status(rj, rj && rj->cancelled, j->has_exit_code, j->exit_code, oom);
	StoreResult r = store_transition(ex->env.store, id, JOB_RUNNING, st, j);

	if (r == STORE_NOTFOUND) {
		st = final_status(rj, true, j->has_exit_code, j->exit_code, oom);
		r = store_transition(ex->env.store, id, JOB_CANCELLING, st, j);
	}
	if (r == STORE_OK)
		daemon_log("job %s: %s (exit %d)", id, job_status_name(st),
			 j->has_exit_code ? j->exit_code : -1);
	return r;
}

/* Record the end of job id, retrying for about a minute while the store
 * fails (a restart's reconciliation settles it if that is not enough). */
static void finish(Executor *ex, const char *id, const Running *rj, bool has_code,
		   int code, bool oom, const char *error)
{
	Job j = { 0 };

	j.has_exit_code = has_code;
	j.exit_code = code;
	j.error = (char *)error;
	j.finished_ms = now_ms();
	for (int attempt = 0; finish_once(ex, id, rj, &j, oom) == STORE_ERROR; attempt++) {
		if (attempt == 12) {
			daemon_log("job %s: its end could not be recorded; the next start will", id);
			return;
		}
		daemon_log("job %s: the store failed recording its end; retrying", id);
		sleep(1);
	}
}

/* Fail a queued job that could not be started. */
static void fail_queued(Executor *ex, const char *id, const char *error)
{
	Job j = { 0 };

	j.error = (char *)error;
	j.finished_ms = now_ms();
	daemon_log("job %s: cannot start: %s", id, error);
	store_transition(ex->env.store, id, JOB_QUEUED, JOB_FAILED, &j);
}

static void running_add(Executor *ex, Running *rj)
{
	rj->next = ex->running;
	ex->running = rj;
	ex->n_running++;
}

static void running_free(Running *rj)
{
	if (rj->pidfd >= 0)
		close(rj->pidfd);
	if (rj->out_fd >= 0)
		close(rj->out_fd);
	free(rj->id);
	free(rj->name);
	free(rj);
}

static Running *running_new(const char *id, const char *name, RunKind kind)
{
	Running *rj = calloc(1, sizeof *rj);

	if (!rj)
		abort();
	rj->id = strdup(id);
	rj->name = name ? strdup(name) : NULL;
	rj->kind = kind;
	rj->pidfd = rj->out_fd = -1;
	rj->oom_before = oom_kill_count();
	return rj;
}

/* ---- starting ---------------------------------------------------------- */

/* Create the per-job directories ({job_id} host paths of j's grants),
 * owned by us, mode 0755. 0, or -1 and err. */
static int make_job_dirs(Executor *ex, const Job *j, char *err, size_t errlen)
{
	const FpPrivilege *p = bundle_privilege(ex->env.bundle, j->type);

	for (int i = 0; p && i < p->n_grants; i++) {
		const FpMount *m = p->grants[i].mount;
		char *path;

		if (m->service || !strstr(m->host, "{job_id}"))
			continue;
		path = template_fill(m->host, j->id, j->files_id, j->type);
		if (!path || (mkdir(path, 0755) < 0 && errno != EEXIST)) {
			snprintf(err, errlen, "cannot create %s: %s", path ? path : m->host,
				 strerror(errno));
			free(path);
			return -1;
		}
		free(path);
	}
	return 0;
}

/* The value after "--name" in argv, or NULL. */
static const char *argv_name(char **argv)
{
	for (int i = 0; argv[i]; i++)
		if (!strcmp(argv[i], "--name") && argv[i + 1])
			return argv[i + 1];
	return NULL;
}

/* Open the job's log file for appending. */
static int open_log(Executor *ex, const char *id)
{
	char path[4096];

	if (snprintf(path, sizeof path, "%s/%s.log", ex->env.cfg->log_dir, id) >= (int)sizeof path) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0640);
}

/* Start queued job j: argv, directories, log, status running, spawn. */
static void start_job(Executor *ex, Job *j)
{
	char err[BUNDLE_ERR_MAX], msg[BUNDLE_ERR_MAX + 64];
	char **argv;
	FpJob fj;
	Running *rj;
	Job upd = { 0 };
	StoreResult sr;
	int log;

	char *bad;

	/* the upload was checked when the job was posted; it may have been
	 * swapped for a symlink since */
	if (uploads_check(ex->env.bundle, j, &bad) < 0) {
		snprintf(msg, sizeof msg, "the upload %s is gone or is no longer a "
			 "directory reached without symlinks", bad ? bad : "(none)");
		free(bad);
		fail_queued(ex, j->id, msg);
		return;
	}
	job_to_fpjob(j, &fj);
	argv = bundle_job_argv(ex->env.bundle, &fj, err, sizeof err);
	if (!argv) {
		fail_queued(ex, j->id, err);
		return;
	}
	if (make_job_dirs(ex, j, err, sizeof err) < 0) {
		fail_queued(ex, j->id, err);
		bundle_argv_free(argv);
		return;
	}
	log = open_log(ex, j->id);
	if (log < 0) {
		snprintf(msg, sizeof msg, "cannot open the log in %s: %s",
			 ex->env.cfg->log_dir, strerror(errno));
		fail_queued(ex, j->id, msg);
		bundle_argv_free(argv);
		return;
	}
	rj = running_new(j->id, argv_name(argv), RJ_CHILD);
	upd.started_ms = now_ms();
	upd.container = rj->name;
	sr = store_transition(ex->env.store, j->id, JOB_QUEUED, JOB_RUNNING, &upd);
	if (sr != STORE_OK) {
		/* cancelled meanwhile: not ours to run; the store failed: later */
		if (sr == STORE_ERROR) {
			pthread_mutex_lock(&ex->lock);
			ex->queued_hint = true;
			pthread_mutex_unlock(&ex->lock);
		}
		running_free(rj);
		close(log);
		bundle_argv_free(argv);
		return;
	}
	rj->pid = podman_spawn(argv, ex->env.child_env, log, log);
	close(log);
	bundle_argv_free(argv);
	if (rj->pid < 0 || (rj->pidfd = pidfd_open_(rj->pid)) < 0) {
		snprintf(msg, sizeof msg, "cannot start %s: %s",
			 bundle_container(ex->env.bundle)->engine, strerror(errno));
		finish(ex, j->id, NULL, false, 0, false, msg);
		running_free(rj);
		return;
	}
	store_set_runner(ex->env.store, j->id, rj->pid, proc_start_time(rj->pid));
	rj->deadline = mono_now() + (double)j->timeout_minutes * (double)ex->env.cfg->minute_seconds;
	running_add(ex, rj);
	daemon_log("job %s: started %s (pid %d, timeout %ld min)", j->id,
		 rj->name ? rj->name : "?", (int)rj->pid, j->timeout_minutes);
}

/* Start queued jobs while slots are free. */
static void start_queued(Executor *ex)
{
	long free_slots = ex->env.cfg->max_running - ex->n_running;
	Job *jobs = NULL;
	int n = 0;

	if (free_slots <= 0)
		return;
	if (store_by_status(ex->env.store, JOB_QUEUED, (int)free_slots, &jobs, &n) != STORE_OK) {
		n = 0;
	} else {
		pthread_mutex_lock(&ex->lock);
		if (n == free_slots)
			ex->queued_hint = true;	/* maybe more: look again */
		pthread_mutex_unlock(&ex->lock);
	}
	for (int i = 0; i < n; i++) {
		start_job(ex, &jobs[i]);
		job_clear(&jobs[i]);
	}
	free(jobs);
}

/* ---- timeouts and cancellation ---------------------------------------- */

/* Ask the container to stop: SIGTERM now, SIGKILL after the grace. */
static void begin_stop(Executor *ex, Running *rj, double now)
{
	if (rj->phase != PH_RUN)
		return;
	if (rj->name)
		engine_kill(ex, rj->name, "TERM");
	else if (rj->kind == RJ_CHILD)
		kill(rj->pid, SIGTERM);
	rj->phase = PH_TERM;
	rj->phase_at = now + (double)ex->env.cfg->cancel_grace;
}

/* Advance timeouts and stop phases; the earliest next step goes to *next. */
static void check_deadlines(Executor *ex, double now, double *next)
{
	for (Running *rj = ex->running; rj; rj = rj->next) {
		if (rj->phase == PH_RUN && now >= rj->deadline) {
			daemon_log("job %s: timed out", rj->id);
			rj->timed_out = true;
			begin_stop(ex, rj, now);
		} else if (rj->phase != PH_RUN && now >= rj->phase_at) {
			if (rj->name)
				engine_kill(ex, rj->name, "KILL");
			if (rj->phase == PH_KILL && rj->kind == RJ_CHILD)
				kill(rj->pid, SIGKILL);
			rj->phase = PH_KILL;
			rj->phase_at = now + 5;
		}
		double at = rj->phase == PH_RUN ? rj->deadline : rj->phase_at;
		if (at < *next)
			*next = at;
	}
}

/* Take the cancel requests the HTTP threads queued. */
static void take_cancels(Executor *ex, double now)
{
	CancelReq *list;

	pthread_mutex_lock(&ex->lock);
	list = ex->cancels;
	ex->cancels = NULL;
	pthread_mutex_unlock(&ex->lock);
	while (list) {
		CancelReq *c = list;
		list = c->next;
		for (Running *rj = ex->running; rj; rj = rj->next)
			if (!strcmp(rj->id, c->id)) {
				rj->cancelled = true;
				begin_stop(ex, rj, now);
			}
		free(c->id);
		free(c);
	}
}

/* ---- ends ------------------------------------------------------------- */

/* The exit code of an adopted job, from its waiter or podman's events. */
static bool adopted_code(Executor *ex, Running *rj, int status, int *code)
{
	if (rj->kind == RJ_WAITER && WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		char buf[64] = "";
		ssize_t n = read(rj->out_fd, buf, sizeof buf - 1);
		if (n > 0 && sscanf(buf, "%d", code) == 1)
			return true;
	}
	return rj->name && engine_events(ex, rj->name, code) == 1;
}

/* Job rj's process ended: collect it and record the outcome. */
static void job_ended(Executor *ex, Running *rj)
{
	int status = 0, code = 0;
	bool has = false, oom;

	if (rj->kind != RJ_FOREIGN)
		while (waitpid(rj->pid, &status, 0) < 0 && errno == EINTR)
			;
	if (rj->kind == RJ_CHILD) {
		if (WIFEXITED(status)) {
			code = WEXITSTATUS(status);
			has = true;
		} else if (WIFSIGNALED(status)) {
			code = 128 + WTERMSIG(status);
			has = true;
		}
	} else {
		has = adopted_code(ex, rj, status, &code);
	}
	oom = oom_kill_count() > rj->oom_before;
	finish(ex, rj->id, rj, has, code, oom,
	       has ? NULL : "the container's exit code was not recorded");
}

/* Remove and finish every running job whose pidfd is readable. */
static void collect_ended(Executor *ex, const struct pollfd *pfds, int n)
{
	for (int i = 0; i < n; i++) {
		if (!pfds[i].revents)
			continue;
		for (Running **rp = &ex->running; *rp; rp = &(*rp)->next) {
			Running *rj = *rp;
			if (rj->pidfd != pfds[i].fd)
				continue;
			*rp = rj->next;
			ex->n_running--;
			job_ended(ex, rj);
			running_free(rj);
			break;
		}
	}
}

/* ---- reconcile -------------------------------------------------------- */

/* Watch job j (left running by a previous run) until its container ends. */
static void adopt(Executor *ex, const Job *j, bool cancelling, pid_t runner)
{
	Running *rj = running_new(j->id, j->container, runner ? RJ_FOREIGN : RJ_WAITER);
	double left = ((double)j->started_ms + (double)j->timeout_minutes *
		       (double)ex->env.cfg->minute_seconds * 1000.0 - (double)now_ms()) / 1000.0;

	if (runner) {
		rj->pid = runner;
	} else {
		const char *engine = bundle_container(ex->env.bundle)->engine;
		char *argv[] = { (char *)engine, "wait", j->container, NULL };
		int p[2];
		if (pipe2(p, O_CLOEXEC) < 0) {
			running_free(rj);
			return;
		}
		rj->pid = podman_spawn(argv, ex->env.child_env, p[1], -1);
		close(p[1]);
		rj->out_fd = p[0];
	}
	if (rj->pid <= 0 || (rj->pidfd = pidfd_open_(rj->pid)) < 0) {
		finish(ex, j->id, NULL, false, 0, false, "cannot watch the container");
		running_free(rj);
		return;
	}
	rj->deadline = mono_now() + (left > 0 ? left : 0);
	running_add(ex, rj);
	daemon_log("job %s: adopted %s (%s)", j->id, j->container,
		 runner ? "its podman run is alive" : "podman wait");
	if (cancelling) {
		rj->cancelled = true;
		begin_stop(ex, rj, mono_now());
	}
}

/* Settle one job a previous run left running or cancelling. */
static void reconcile_job(Executor *ex, const Job *j)
{
	bool cancelling = j->status == JOB_CANCELLING, oom = false;
	char state[32];
	int code = 0, r;
	pid_t runner;

	if (!j->container) {
		finish(ex, j->id, NULL, false, 0, false, "no container name was recorded");
		return;
	}
	r = engine_inspect(ex, j->container, state, sizeof state, &code, &oom);
	runner = find_runner(j);
	if (r == 1 && (!strcmp(state, "exited") || !strcmp(state, "stopped"))) {
		Running tmp = { .cancelled = cancelling };
		finish(ex, j->id, &tmp, true, code, oom && code == 137, NULL);
		return;
	}
	if (r == 1 && !runner && (!strcmp(state, "created") || !strcmp(state, "configured") ||
				  !strcmp(state, "initialized"))) {
		/* made but never started, and nothing left to start it */
		engine_remove(ex, j->container);
		if (cancelling) {
			Running tmp = { .cancelled = true };
			finish(ex, j->id, &tmp, false, 0, false, NULL);
		} else if (store_transition(ex->env.store, j->id, JOB_RUNNING, JOB_QUEUED,
					    NULL) == STORE_OK) {
			daemon_log("job %s: its container never started, queued again", j->id);
		}
		return;
	}
	if (r == 1 || runner) {
		adopt(ex, j, cancelling, runner);
		return;
	}
	r = engine_events(ex, j->container, &code);
	if (r == 1) {
		Running tmp = { .cancelled = cancelling };
		finish(ex, j->id, &tmp, true, code, false, NULL);
	} else if (r == 0) {
		finish(ex, j->id, NULL, false, 0, false,
		       "the container ended while fp-apid was down; its exit code was not recorded");
	} else if (cancelling) {
		Running tmp = { .cancelled = true };
		finish(ex, j->id, &tmp, false, 0, false, NULL);
	} else if (store_transition(ex->env.store, j->id, JOB_RUNNING, JOB_QUEUED, NULL) == STORE_OK) {
		/* podman never saw it: the daemon stopped before the start */
		daemon_log("job %s: never started, queued again", j->id);
	}
}

/* Reconcile every running or cancelling job. */
static void reconcile(Executor *ex)
{
	static const JobStatus sts[] = { JOB_RUNNING, JOB_CANCELLING };

	for (size_t s = 0; s < 2; s++) {
		Job *jobs = NULL;
		int n = 0;
		if (store_by_status(ex->env.store, sts[s], 100000, &jobs, &n) != STORE_OK)
			continue;
		for (int i = 0; i < n; i++) {
			reconcile_job(ex, &jobs[i]);
			job_clear(&jobs[i]);
		}
		free(jobs);
	}
}

/* ---- the thread ------------------------------------------------------- */

static void *executor_main(void *arg)
{
	Executor *ex = arg;
	struct pollfd *pfds = NULL;
	int cap = 0;

	for (;;) {
		double now = mono_now(), next = now + 1.0;
		bool stop, hint;
		int n = 0, timeout;

		pthread_mutex_lock(&ex->lock);
		stop = ex->stopping;
		hint = ex->queued_hint;
		ex->queued_hint = false;
		pthread_mutex_unlock(&ex->lock);
		if (stop)
			break;
		take_cancels(ex, now);
		if (hint)
			start_queued(ex);
		check_deadlines(ex, now, &next);
		reap_helpers(ex);
		if (ex->helpers && next > now + 0.2)
			next = now + 0.2;
		if (cap < ex->n_running + 1) {
			cap = ex->n_running + 16;
			pfds = realloc(pfds, (size_t)cap * sizeof *pfds);
			if (!pfds)
				abort();
		}
		pfds[n++] = (struct pollfd){ .fd = ex->efd, .events = POLLIN };
		for (Running *rj = ex->running; rj; rj = rj->next)
			pfds[n++] = (struct pollfd){ .fd = rj->pidfd, .events = POLLIN };
		timeout = next > now ? (int)((next - now) * 1000) + 1 : 0;
		if (poll(pfds, (nfds_t)n, timeout) < 0 && errno != EINTR) {
			daemon_log("executor: poll: %s", strerror(errno));
			sleep(1);
			continue;
		}
		if (pfds[0].revents) {
			uint64_t v;
			if (read(ex->efd, &v, sizeof v) < 0 && errno != EAGAIN)
				daemon_log("executor: eventfd: %s", strerror(errno));
		}
		if (n > 1) {
			int before = ex->n_running;
			collect_ended(ex, pfds + 1, n - 1);
			if (ex->n_running < before) {
				pthread_mutex_lock(&ex->lock);
				ex->queued_hint = true;
				pthread_mutex_unlock(&ex->lock);
			}
		}
	}
	free(pfds);
	return NULL;
}

/* see apid.h */
Executor *executor_start(const ExecEnv *env, char *err, size_t errlen)
{
	Executor *ex = calloc(1, sizeof *ex);
	int rc;

	if (!ex)
		abort();
	ex->env = *env;
	pthread_mutex_init(&ex->lock, NULL);
	ex->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (ex->efd < 0) {
		snprintf(err, errlen, "eventfd: %s", strerror(errno));
		free(ex);
		return NULL;
	}
	reconcile(ex);
	ex->queued_hint = true;
	rc = pthread_create(&ex->thread, NULL, executor_main, ex);
	if (rc) {
		snprintf(err, errlen, "executor thread: %s", strerror(rc));
		close(ex->efd);
		free(ex);
		return NULL;
	}
	return ex;
}

/* see apid.h */
void executor_stop(Executor *ex)
{
	if (!ex)
		return;
	pthread_mutex_lock(&ex->lock);
	ex->stopping = true;
	pthread_mutex_unlock(&ex->lock);
	poke(ex);
	pthread_join(ex->thread, NULL);
	while (ex->running) {
		Running *rj = ex->running;
		ex->running = rj->next;
		running_free(rj);
	}
	while (ex->helpers) {
		Helper *h = ex->helpers;
		ex->helpers = h->next;
		free(h);
	}
	while (ex->cancels) {
		CancelReq *c = ex->cancels;
		ex->cancels = c->next;
		free(c->id);
		free(c);
	}
	close(ex->efd);
	pthread_mutex_destroy(&ex->lock);
	free(ex);
}

/* see apid.h */
CancelResult executor_cancel(Executor *ex, const char *id)
{
	for (int attempt = 0; attempt < 5; attempt++) {
		Job j = { 0 }, upd = { 0 };
		StoreResult r = store_get(ex->env.store, id, &j);
		JobStatus st = j.status;

		job_clear(&j);
		if (r == STORE_NOTFOUND)
			return CANCEL_NOTFOUND;
		if (r != STORE_OK)
			return CANCEL_ERROR;
		if (job_status_final(st))
			return CANCEL_FINISHED;
		if (st == JOB_CANCELLING)
			return CANCEL_STARTED;
		if (st == JOB_QUEUED) {
			upd.finished_ms = now_ms();
			r = store_transition(ex->env.store, id, JOB_QUEUED, JOB_CANCELLED, &upd);
			if (r == STORE_OK) {
				daemon_log("job %s: cancelled before it started", id);
				return CANCEL_DONE;
			}
		} else {
			r = store_transition(ex->env.store, id, JOB_RUNNING, JOB_CANCELLING, NULL);
			if (r == STORE_OK) {
				CancelReq *c = calloc(1, sizeof *c);
				if (!c)
					abort();
				c->id = strdup(id);
				pthread_mutex_lock(&ex->lock);
				c->next = ex->cancels;
				ex->cancels = c;
				pthread_mutex_unlock(&ex->lock);
				poke(ex);
				daemon_log("job %s: cancelling", id);
				return CANCEL_STARTED;
			}
		}
		if (r == STORE_ERROR)
			return CANCEL_ERROR;
	}
	return CANCEL_ERROR;
}
