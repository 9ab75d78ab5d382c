/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * apid.h: fp-apid, the job API, one heading per file in the order a request
 * meets them:
 *
 *   config -> apid (start-up order) -> server (HTTP, limits, peer check,
 *   rate limit, auth) -> routes -> validate -> store (SQLite) -> executor
 *   (podman supervision) -> podman (engine commands) -> user (privileges)
 *
 * Ownership: every struct a *_new/_open returns is freed by its *_free/_close;
 * a Job filled by the store owns its strings (job_clear() frees them); json_t
 * values follow jansson's reference counting; the bundle is the caller's and
 * outlives every module that holds it.
 */
#ifndef FP_APID_H
#define FP_APID_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <jansson.h>

#include "bundle.h"
#include "daemon.h"
#include "ratelimit.h"

#define APID_VERSION "0.1.0"
#define APID_ID_MAX 64		/* job ids, client job ids, files ids */

/* ---- config.c: the command line ---------------------------------------- */

typedef struct ApidConfig {
	const char *bundle_path;	/* -b: the compiled policy.pb */
	const char *token_path;		/* -t: 64 hex characters, mode 0600 */
	const char *db_path;		/* --db */
	const char *log_dir;		/* --log-dir: <id>.log per job */
	const char *listen;		/* --listen ADDR:PORT, NULL: the bundle's */
	const char *service;		/* --service: the bundle service we are */
	long rate, burst;		/* --rate R/s (0: off), --burst N */
	long threads;			/* --threads: MHD thread pool */
	long max_body;			/* --max-body bytes */
	long max_headers;		/* --max-headers bytes (all header lines) */
	long request_timeout;		/* --request-timeout s: whole request */
	long max_running;		/* --max-running containers at once */
	long minute_seconds;		/* --test-minute-seconds: a timeout minute */
	long cancel_grace;		/* seconds between SIGTERM and kill */
	bool check_only;		/* -n: load everything, print, exit */
	bool access_log;		/* --access-log: one line per request */
} ApidConfig;

/* Fill cfg from argv (defaults first). Returns 0, -1 after --help/--version
 * (printed), or DAEMON_EXIT_USAGE after printing a usage error. */
int config_parse(ApidConfig *cfg, int argc, char **argv);

/* A whole decimal number in min..max into *out (parse_num, common/base.h):
 * 0, or -1. */
int parse_long(const char *s, long min, long max, long *out);

/* ---- apid.c: start-up and shutdown ------------------------------------- */

/* Run the daemon until SIGTERM/SIGINT: load and validate, listen, drop to
 * the container user, open the store, reconcile, serve; SIGHUP re-reads the
 * bearer token. Returns the exit status (DAEMON_EXIT_*, daemon.h: OK on a
 * clean stop, SOCKET if it cannot listen, CONFIG for any other start-up
 * failure, reported on stderr). Log lines: daemon_log. */
int apid_run(const ApidConfig *cfg);

/* Wall-clock milliseconds since the epoch (monotonic seconds: mono_now,
 * runtime/lib/ratelimit.h). */
int64_t now_ms(void);

/* ---- auth.c: the bearer token ------------------------------------------ */

enum { AUTH_TOKEN_LEN = 64 };

typedef enum {
	AUTH_OK,
	AUTH_MISSING,		/* no Authorization header */
	AUTH_MALFORMED,		/* not "Bearer <token>" */
	AUTH_INVALID,		/* a token, not ours */
} AuthResult;

/* Read the token file: refuse one that group or others can access, or
 * that is not exactly 64 hex characters (one trailing newline allowed).
 * 0 and the token in out (AUTH_TOKEN_LEN + 1 bytes), or -1 and err. */
int auth_load_token(const char *path, char *out, char *err, size_t errlen);

/* Judge an Authorization header value (NULL: absent) against token, in
 * time independent of where they differ. */
AuthResult auth_check(const char *token, const char *header);

/* The token in force, replaced as a whole on SIGHUP (rotation): readers
 * never see half of one. */
typedef struct AuthToken AuthToken;

/* A holder of token (AUTH_TOKEN_LEN hex characters); NULL if out of memory. */
AuthToken *auth_token_new(const char *token);
void auth_token_free(AuthToken *t);
/* Replace the token by the one in path (auth_load_token's checks): 0, or
 * -1 and err with the old token still in force. */
int auth_token_reload(AuthToken *t, const char *path, char *err, size_t errlen);
/* auth_check against the token in force. */
AuthResult auth_token_check(AuthToken *t, const char *header);

/* rate limiting: runtime/lib/ratelimit.h, keyed by peer address */

/* ---- store.c: jobs in SQLite ------------------------------------------- */

enum { STORE_SCHEMA_VERSION = 1 };

typedef enum {
	JOB_QUEUED,
	JOB_RUNNING,
	JOB_CANCELLING,
	JOB_COMPLETED,		/* exit 0 */
	JOB_FAILED,		/* non-zero exit, or could not start */
	JOB_TIMED_OUT,
	JOB_OOM_KILLED,
	JOB_CANCELLED,
	JOB_LOST,		/* gone while the daemon was down, no exit code */
	JOB_NSTATUS,
} JobStatus;

const char *job_status_name(JobStatus s);
/* The status called name, or -1. */
int job_status_parse(const char *name);
static inline bool job_status_final(JobStatus s)
{
	return s >= JOB_COMPLETED;
}

/* One job as stored. Strings are heap copies (NULL: absent). */
typedef struct Job {
	char *id;
	char *client_job_id;
	char *type;			/* the privilege */
	int kind;			/* FpJobKind */
	char *command;
	size_t command_len;
	char *task;
	size_t task_len;
	char *context;
	size_t context_len;
	char *git_branch;
	size_t git_branch_len;
	char *files_id;
	char *image;			/* NULL: the profile's default */
	long cpus, memory_gb, timeout_minutes;
	JobStatus status;
	bool has_exit_code;
	int exit_code;
	char *error;
	int64_t created_ms, started_ms, finished_ms;	/* 0: not yet */
	char *container;		/* container name once started */
	long runner_pid;		/* the podman child, 0: unknown */
	long long runner_start;		/* its start time (/proc stat) */
} Job;

void job_clear(Job *j);

typedef struct Store Store;

/* Open (creating) the database at path: WAL, synchronous=FULL, schema
 * version checked. NULL and err on failure. */
Store *store_open(const char *path, char *err, size_t errlen);
void store_close(Store *s);

typedef enum { STORE_OK, STORE_EXISTS, STORE_NOTFOUND, STORE_ERROR } StoreResult;

/* Insert j (status queued). STORE_EXISTS: j->client_job_id is taken, and
 * *existing is filled with that job. Durable when STORE_OK returns. */
StoreResult store_insert(Store *s, const Job *j, Job *existing);
StoreResult store_get(Store *s, const char *id, Job *out);
/* Up to limit jobs, newest first, optionally only one status (-1: all);
 * *out is a heap array of *n jobs (free each with job_clear, then free). */
StoreResult store_list(Store *s, int status, int limit, Job **out, int *n);
/* The jobs with status st, oldest first (same ownership as store_list). */
StoreResult store_by_status(Store *s, JobStatus st, int limit, Job **out,
			    int *n);
/* Move job id from status from to status to (with the fields of the
 * target status set from j, when j is not NULL): STORE_OK, or
 * STORE_NOTFOUND if the job is not in status from. */
StoreResult store_transition(Store *s, const char *id, JobStatus from,
			     JobStatus to, const Job *j);
/* Record the podman child of a running job. */
StoreResult store_set_runner(Store *s, const char *id, long pid,
			     long long start);

/* ---- validate.c: a POST /jobs body against the bundle ------------------ */

/* A rejected request: HTTP status, error code, message, details object. */
typedef struct ApiError {
	int http;
	const char *code;
	char message[256];
	json_t *details;	/* owned; NULL: {} */
} ApiError;

void api_error_set(ApiError *e, int http, const char *code, json_t *details,
		   const char *fmt, ...) __attribute__((format(printf, 5, 6)));
void api_error_clear(ApiError *e);

/* The FpJobKind of jobs of privilege p (see docs/apid.md). */
FpJobKind job_kind_for(const FpPrivilege *p);

/* Check body (a JSON object) and fill j (id left NULL). 0, or -1 and e. */
int validate_job(const FpBundle *b, const json_t *body, Job *j, ApiError *e);

/* Whether every upload mount of j's privilege names a real directory: the
 * part of the host path from {upload_id} on is resolved beneath the
 * directory above it without following any symlink (openat2 RESOLVE_BENEATH
 * | RESOLVE_NO_SYMLINKS). 0, or -1 with the path that failed in bad (the
 * caller frees; NULL if files_id is missing). Checked when a job is posted
 * and again just before it starts. */
int uploads_check(const FpBundle *b, const Job *j, char **bad);

/* The FpJob of stored job j (pointers into j). */
void job_to_fpjob(const Job *j, FpJob *out);

/* Fill a mount template: {job_id}, {upload_id}, {privilege}. NULL if the
 * template needs a value that is NULL. The caller frees. */
char *template_fill(const char *tmpl, const char *job_id,
		    const char *upload_id, const char *privilege);

/* ---- executor.c: podman children, timeouts, cancel, reconcile ---------- */

typedef struct Executor Executor;

typedef struct ExecEnv {
	const FpBundle *bundle;
	const ApidConfig *cfg;
	Store *store;
	char *const *child_env;		/* environment of engine children */
} ExecEnv;

/* Reconcile jobs left running by a previous run, then start the thread
 * that runs queued jobs. NULL and err on failure. */
Executor *executor_start(const ExecEnv *env, char *err, size_t errlen);
/* Stop the thread; running containers keep running (a restart adopts
 * them). */
void executor_stop(Executor *ex);
/* A job was queued: start it when a slot is free. */
void executor_wake(Executor *ex);

typedef enum {
	CANCEL_DONE,		/* was queued: now cancelled */
	CANCEL_STARTED,		/* was running: SIGTERM on its way */
	CANCEL_FINISHED,	/* already finished: nothing to do */
	CANCEL_NOTFOUND,
	CANCEL_ERROR,
} CancelResult;

CancelResult executor_cancel(Executor *ex, const char *id);

/* ---- podman.c: the engine's helper commands ---------------------------- */

/* Spawn argv (execvp, no shell) with env, stdin /dev/null, stdout to
 * out_fd and stderr to err_fd (-1: /dev/null), in a session of its own.
 * Returns the pid, or -1 with errno. */
pid_t podman_spawn(char *const argv[], char *const env[], int out_fd,
		   int err_fd);
/* Run argv to completion (at most timeout_s), collecting up to cap bytes
 * of stdout into out (NUL-terminated, caller frees). Returns the exit
 * status (0-255), or -1 if it could not run or timed out (killed). */
int podman_run_capture(char *const argv[], char *const env[], char **out,
		       size_t cap, double timeout_s);
/* The start time of pid (field 22 of /proc/PID/stat), or -1. */
long long proc_start_time(pid_t pid);
/* The kernel's count of OOM kills so far (/proc/vmstat oom_kill). */
unsigned long oom_kill_count(void);

/* ---- user.c: the container user ---------------------------------------- */

typedef struct RunAs {
	uid_t uid;
	gid_t gid;
	char *name, *home;
	char **env;		/* NULL-terminated environment for children */
} RunAs;

/* Resolve the bundle's container user (checking its pinned uid). The
 * daemon must be root or already that user. The children's HOME and
 * XDG_RUNTIME_DIR are the daemon's own when it already is that user (as a
 * service manager set them), else the passwd home and /run/user/UID.
 * 0, or -1 and err. */
int runas_resolve(const FpBundle *b, RunAs *ra, char *err, size_t errlen);
/* If root, drop to ra's uid, gid and groups for good; 0 or -1 and err. */
int runas_drop(const RunAs *ra, char *err, size_t errlen);
void runas_free(RunAs *ra);

/* ---- server.c: HTTP ------------------------------------------------------ */

typedef struct Server Server;

typedef struct ServerEnv {
	const ApidConfig *cfg;
	const FpBundle *bundle;
	AuthToken *token;
	Store *store;
	Executor *executor;
	RateLimit *rl;
} ServerEnv;

/* Bind the listening socket (before privileges are dropped). -1 and err. */
int api_server_listen(const ApidConfig *cfg, const FpBundle *b, char *err,
		  size_t errlen);
/* Serve on fd with a thread pool. NULL and err on failure. */
Server *api_server_start(const ServerEnv *env, int fd, char *err, size_t errlen);
/* Serve the connected socket fd as if accepted from sa (the accept policy
 * applies): for in-process clients (the fuzz harness). fd is the server's
 * from here on; 0, or -1 with errno. */
int api_server_add_connection(Server *s, int fd, const struct sockaddr *sa,
			  socklen_t len);
void api_server_stop(Server *s);

/* A request as the routes see it. */
typedef struct Request {
	const ServerEnv *env;
	const char *method;
	const char *path;
	const char *request_id;
	struct MHD_Connection *conn;
	const char *body;	/* NUL-terminated, may be NULL */
	size_t body_len;
} Request;

/* A response a route builds: status and JSON (owned). */
typedef struct Reply {
	int http;
	json_t *json;
} Reply;

/* ---- routes.c: the API ------------------------------------------------- */

/* Whether (method, path) needs the bearer token (everything but /health). */
bool route_needs_auth(const char *method, const char *path);
/* Answer r into out (out->json set, or e set for an error). */
void route_dispatch(const Request *r, Reply *out, ApiError *e);

/* The JSON of one job (new reference). */
json_t *job_to_json(const Job *j);

#endif
