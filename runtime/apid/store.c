/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * store.c: jobs in SQLite. WAL journal, synchronous=FULL: a job is on disk
 * before the 201 that acknowledges it. Each thread gets its own connection
 * (readers never wait for each other); writers serialise in SQLite with a
 * busy timeout of 5 s.
 */
#include "apid.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { STORE_BUSY_MS = 5000, STMT_CACHE = 16 };

/* One thread's connection and its prepared statements, by SQL text (each
 * is a string literal, so its address names it). */
typedef struct Conn {
	sqlite3 *db;
	const char *sql[STMT_CACHE];
	sqlite3_stmt *st[STMT_CACHE];
} Conn;

struct Store {
	char *path;
	pthread_key_t key;
	pthread_mutex_t lock;
	Conn **conns;		/* every connection opened, closed at the end */
	int n_conns, cap_conns;
};

static const char *const status_names[JOB_NSTATUS] = {
	[JOB_QUEUED] = "queued",
	[JOB_RUNNING] = "running",
	[JOB_CANCELLING] = "cancelling",
	[JOB_COMPLETED] = "completed",
	[JOB_FAILED] = "failed",
	[JOB_TIMED_OUT] = "timed_out",
	[JOB_OOM_KILLED] = "oom_killed",
	[JOB_CANCELLED] = "cancelled",
	[JOB_LOST] = "lost",
};

/* see apid.h */
const char *job_status_name(JobStatus s)
{
	if ((int)s < 0 || s >= JOB_NSTATUS)
		return "unknown";
	return status_names[s];
}

/* see apid.h */
int job_status_parse(const char *name)
{
	for (int i = 0; i < JOB_NSTATUS; i++)
		if (!strcmp(name, status_names[i]))
			return i;
	return -1;
}

/* see apid.h */
void job_clear(Job *j)
{
	free(j->id);
	free(j->client_job_id);
	free(j->type);
	free(j->command);
	free(j->task);
	free(j->context);
	free(j->git_branch);
	free(j->files_id);
	free(j->image);
	free(j->error);
	free(j->container);
	memset(j, 0, sizeof *j);
}

static const char schema_sql[] =
	"CREATE TABLE schema_version (version INTEGER NOT NULL);"
	"CREATE TABLE jobs ("
	" seq INTEGER PRIMARY KEY AUTOINCREMENT,"
	" id TEXT NOT NULL UNIQUE,"
	" client_job_id TEXT UNIQUE,"
	" type TEXT NOT NULL,"
	" kind INTEGER NOT NULL,"
	" command TEXT, task TEXT, context TEXT, git_branch TEXT,"
	" files_id TEXT, image TEXT,"
	" cpus INTEGER NOT NULL, memory_gb INTEGER NOT NULL,"
	" timeout_minutes INTEGER NOT NULL,"
	" status TEXT NOT NULL,"
	" exit_code INTEGER, error TEXT,"
	" created_ms INTEGER NOT NULL, started_ms INTEGER, finished_ms INTEGER,"
	" container TEXT, runner_pid INTEGER, runner_start INTEGER);"
	"CREATE INDEX jobs_status ON jobs (status, seq);";

#define JOB_COLS "id, client_job_id, type, kind, command, task, context, " \
	"git_branch, files_id, image, cpus, memory_gb, timeout_minutes, " \
	"status, exit_code, error, created_ms, started_ms, finished_ms, " \
	"container, runner_pid, runner_start"

/* Open one connection with the pragmas every connection needs. */
static sqlite3 *conn_open(const char *path, char *err, size_t errlen)
{
	sqlite3 *db = NULL;
	char *msg = NULL;
	int fd;

	/* made 0600 here whatever the umask (SQLite creates its -wal and -shm
	 * files with the database's mode) */
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	close(fd);
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
			    SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "%s: %s", path, db ? sqlite3_errmsg(db) : "out of memory");
		sqlite3_close(db);
		return NULL;
	}
	/* shorter than the default --request-timeout (10 s): a client waiting
	 * on a locked database hears 503, not a closed connection */
	sqlite3_busy_timeout(db, STORE_BUSY_MS);
	if (sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
			 " PRAGMA foreign_keys=ON;", NULL, NULL, &msg) != SQLITE_OK) {
		snprintf(err, errlen, "%s: %s", path, msg ? msg : sqlite3_errmsg(db));
		sqlite3_free(msg);
		sqlite3_close(db);
		return NULL;
	}
	return db;
}

/* Create the schema in an empty database, or check its version. */
static int schema_check(sqlite3 *db, const char *path, char *err, size_t errlen)
{
	sqlite3_stmt *st = NULL;
	char *msg = NULL;
	int rc, version = -1, exists = 0;

	if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, &msg) != SQLITE_OK)
		goto sqlfail;
	sqlite3_prepare_v2(db, "SELECT count(*) FROM sqlite_master WHERE name = 'schema_version'",
			   -1, &st, NULL);
	if (st && sqlite3_step(st) == SQLITE_ROW)
		exists = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	st = NULL;
	if (!exists) {
		char ins[64];
		snprintf(ins, sizeof ins, "INSERT INTO schema_version VALUES (%d)",
			 STORE_SCHEMA_VERSION);
		if (sqlite3_exec(db, schema_sql, NULL, NULL, &msg) != SQLITE_OK ||
		    sqlite3_exec(db, ins, NULL, NULL, &msg) != SQLITE_OK)
			goto sqlfail;
		version = STORE_SCHEMA_VERSION;
	} else {
		rc = sqlite3_prepare_v2(db, "SELECT version FROM schema_version", -1, &st, NULL);
		if (rc == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
			version = sqlite3_column_int(st, 0);
		sqlite3_finalize(st);
	}
	if (sqlite3_exec(db, "COMMIT", NULL, NULL, &msg) != SQLITE_OK)
		goto sqlfail;
	if (version != STORE_SCHEMA_VERSION) {
		snprintf(err, errlen, "%s: schema version %d, this fp-apid knows %d",
			 path, version, STORE_SCHEMA_VERSION);
		return -1;
	}
	return 0;
sqlfail:
	snprintf(err, errlen, "%s: %s", path, msg ? msg : sqlite3_errmsg(db));
	sqlite3_free(msg);
	sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	return -1;
}

/* see apid.h */
Store *store_open(const char *path, char *err, size_t errlen)
{
	Store *s;
	sqlite3 *db = conn_open(path, err, errlen);

	if (!db)
		return NULL;
	if (schema_check(db, path, err, errlen) < 0) {
		sqlite3_close(db);
		return NULL;
	}
	s = calloc(1, sizeof *s);
	if (!s)
		abort();
	s->path = strdup(path);
	pthread_key_create(&s->key, NULL);
	pthread_mutex_init(&s->lock, NULL);
	s->cap_conns = 16;
	s->conns = calloc((size_t)s->cap_conns, sizeof *s->conns);
	if (!s->path || !s->conns)
		abort();
	s->conns[s->n_conns] = calloc(1, sizeof **s->conns);
	if (!s->conns[s->n_conns])
		abort();
	s->conns[s->n_conns]->db = db;
	pthread_setspecific(s->key, s->conns[s->n_conns++]);
	return s;
}

/* see apid.h */
void store_close(Store *s)
{
	if (!s)
		return;
	for (int i = 0; i < s->n_conns; i++) {
		for (int k = 0; k < STMT_CACHE; k++)
			sqlite3_finalize(s->conns[i]->st[k]);
		sqlite3_close_v2(s->conns[i]->db);
		free(s->conns[i]);
	}
	pthread_key_delete(s->key);
	pthread_mutex_destroy(&s->lock);
	free(s->conns);
	free(s->path);
	free(s);
}

/* This thread's connection, opened on first use (NULL on failure). */
static Conn *thread_conn(Store *s)
{
	Conn *c = pthread_getspecific(s->key);
	char err[256];

	if (c)
		return c;
	c = calloc(1, sizeof *c);
	if (!c)
		abort();
	c->db = conn_open(s->path, err, sizeof err);
	if (!c->db) {
		daemon_log("store: %s", err);
		free(c);
		return NULL;
	}
	pthread_mutex_lock(&s->lock);
	if (s->n_conns == s->cap_conns) {
		s->cap_conns *= 2;
		s->conns = realloc(s->conns, (size_t)s->cap_conns * sizeof *s->conns);
		if (!s->conns)
			abort();
	}
	s->conns[s->n_conns++] = c;
	pthread_mutex_unlock(&s->lock);
	pthread_setspecific(s->key, c);
	return c;
}

/* This thread's database handle (NULL on failure). */
static sqlite3 *conn(Store *s)
{
	Conn *c = thread_conn(s);

	return c ? c->db : NULL;
}

/* A prepared statement for sql (a string literal) on this thread's
 * connection, from its cache when it was prepared before (NULL: logged).
 * Give it back with release(). */
static sqlite3_stmt *prep(Store *s, const char *sql)
{
	Conn *c = thread_conn(s);
	sqlite3_stmt *st = NULL;
	int slot = -1;

	if (!c)
		return NULL;
	for (int i = 0; i < STMT_CACHE; i++) {
		if (c->sql[i] == sql)
			return c->st[i];
		if (!c->sql[i] && slot < 0)
			slot = i;
	}
	if (sqlite3_prepare_v3(c->db, sql, -1, slot >= 0 ? SQLITE_PREPARE_PERSISTENT : 0,
			       &st, NULL) != SQLITE_OK) {
		daemon_log("store: %s: %s", sql, sqlite3_errmsg(c->db));
		return NULL;
	}
	if (slot >= 0) {
		c->sql[slot] = sql;
		c->st[slot] = st;
	}
	return st;
}

/* Done with st from prep(): reset (ending its read or write) and keep it
 * if cached, else finalize it. */
static void release(Store *s, sqlite3_stmt *st)
{
	Conn *c = thread_conn(s);

	for (int i = 0; c && i < STMT_CACHE; i++)
		if (c->st[i] == st) {
			sqlite3_reset(st);
			sqlite3_clear_bindings(st);
			return;
		}
	sqlite3_finalize(st);
}

static char *col_str(sqlite3_stmt *st, int i, size_t *len)
{
	const unsigned char *t = sqlite3_column_text(st, i);
	int n = sqlite3_column_bytes(st, i);
	char *r;

	if (len)
		*len = 0;
	if (!t)
		return NULL;
	r = malloc((size_t)n + 1);
	if (!r)
		abort();
	memcpy(r, t, (size_t)n);
	r[n] = '\0';
	if (len)
		*len = (size_t)n;
	return r;
}

/* Fill j from a row selected with JOB_COLS. */
static void row_to_job(sqlite3_stmt *st, Job *j)
{
	char *status;

	memset(j, 0, sizeof *j);
	j->id = col_str(st, 0, NULL);
	j->client_job_id = col_str(st, 1, NULL);
	j->type = col_str(st, 2, NULL);
	j->kind = sqlite3_column_int(st, 3);
	j->command = col_str(st, 4, &j->command_len);
	j->task = col_str(st, 5, &j->task_len);
	j->context = col_str(st, 6, &j->context_len);
	j->git_branch = col_str(st, 7, &j->git_branch_len);
	j->files_id = col_str(st, 8, NULL);
	j->image = col_str(st, 9, NULL);
	j->cpus = sqlite3_column_int64(st, 10);
	j->memory_gb = sqlite3_column_int64(st, 11);
	j->timeout_minutes = sqlite3_column_int64(st, 12);
	status = col_str(st, 13, NULL);
	j->status = status && job_status_parse(status) >= 0 ?
		(JobStatus)job_status_parse(status) : JOB_LOST;
	free(status);
	j->has_exit_code = sqlite3_column_type(st, 14) != SQLITE_NULL;
	j->exit_code = sqlite3_column_int(st, 14);
	j->error = col_str(st, 15, NULL);
	j->created_ms = sqlite3_column_int64(st, 16);
	j->started_ms = sqlite3_column_int64(st, 17);
	j->finished_ms = sqlite3_column_int64(st, 18);
	j->container = col_str(st, 19, NULL);
	j->runner_pid = (long)sqlite3_column_int64(st, 20);
	j->runner_start = sqlite3_column_int64(st, 21);
}

static void bind_text(sqlite3_stmt *st, int i, const char *v)
{
	if (v)
		sqlite3_bind_text(st, i, v, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(st, i);
}

/* One job by a column (id or client_job_id). */
static StoreResult get_by(Store *s, const char *sql, const char *v, Job *out)
{
	sqlite3_stmt *st = prep(s, sql);
	int rc;

	if (!st)
		return STORE_ERROR;
	bind_text(st, 1, v);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		row_to_job(st, out);
	release(s, st);
	return rc == SQLITE_ROW ? STORE_OK : rc == SQLITE_DONE ? STORE_NOTFOUND : STORE_ERROR;
}

/* see apid.h */
StoreResult store_get(Store *s, const char *id, Job *out)
{
	return get_by(s, "SELECT " JOB_COLS " FROM jobs WHERE id = ?", id, out);
}

static StoreResult exec_sql(Store *s, const char *sql)
{
	sqlite3 *db = conn(s);

	if (!db || sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK) {
		if (db)
			daemon_log("store: %s: %s", sql, sqlite3_errmsg(db));
		return STORE_ERROR;
	}
	return STORE_OK;
}

/* see apid.h */
StoreResult store_insert(Store *s, const Job *j, Job *existing)
{
	sqlite3_stmt *st;
	StoreResult r;
	int rc;

	if (exec_sql(s, "BEGIN IMMEDIATE") != STORE_OK)
		return STORE_ERROR;
	if (j->client_job_id) {
		r = get_by(s, "SELECT " JOB_COLS " FROM jobs WHERE client_job_id = ?",
			   j->client_job_id, existing);
		if (r != STORE_NOTFOUND) {
			exec_sql(s, r == STORE_OK ? "COMMIT" : "ROLLBACK");
			return r == STORE_OK ? STORE_EXISTS : STORE_ERROR;
		}
	}
	st = prep(s, "INSERT INTO jobs (id, client_job_id, type, kind, command,"
		  " task, context, git_branch, files_id, image, cpus, memory_gb,"
		  " timeout_minutes, status, created_ms)"
		  " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
	if (!st) {
		exec_sql(s, "ROLLBACK");
		return STORE_ERROR;
	}
	bind_text(st, 1, j->id);
	bind_text(st, 2, j->client_job_id);
	bind_text(st, 3, j->type);
	sqlite3_bind_int(st, 4, j->kind);
	bind_text(st, 5, j->command);
	bind_text(st, 6, j->task);
	bind_text(st, 7, j->context);
	bind_text(st, 8, j->git_branch);
	bind_text(st, 9, j->files_id);
	bind_text(st, 10, j->image);
	sqlite3_bind_int64(st, 11, j->cpus);
	sqlite3_bind_int64(st, 12, j->memory_gb);
	sqlite3_bind_int64(st, 13, j->timeout_minutes);
	bind_text(st, 14, job_status_name(JOB_QUEUED));
	sqlite3_bind_int64(st, 15, j->created_ms);
	rc = sqlite3_step(st);
	release(s, st);
	if (rc != SQLITE_DONE) {
		daemon_log("store: insert %s: %s", j->id, sqlite3_errmsg(conn(s)));
		exec_sql(s, "ROLLBACK");
		return STORE_ERROR;
	}
	if (exec_sql(s, "COMMIT") != STORE_OK) {
		/* a commit that failed leaves the transaction open: end it, or
		 * every later BEGIN on this connection fails */
		exec_sql(s, "ROLLBACK");
		return STORE_ERROR;
	}
	return STORE_OK;
}

/* Collect the rows of a prepared statement into a heap array. */
static StoreResult collect(Store *s, sqlite3_stmt *st, Job **out, int *n)
{
	int cap = 8, rc;

	*n = 0;
	*out = calloc((size_t)cap, sizeof **out);
	if (!*out)
		abort();
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (*n == cap) {
			cap *= 2;
			*out = realloc(*out, (size_t)cap * sizeof **out);
			if (!*out)
				abort();
		}
		row_to_job(st, &(*out)[(*n)++]);
	}
	release(s, st);
	return rc == SQLITE_DONE ? STORE_OK : STORE_ERROR;
}

/* see apid.h */
StoreResult store_list(Store *s, int status, int limit, Job **out, int *n)
{
	sqlite3_stmt *st = prep(s, status < 0 ?
		"SELECT " JOB_COLS " FROM jobs WHERE ?1 IS NULL ORDER BY seq DESC LIMIT ?2" :
		"SELECT " JOB_COLS " FROM jobs WHERE status = ?1 ORDER BY seq DESC LIMIT ?2");

	if (!st)
		return STORE_ERROR;
	bind_text(st, 1, status < 0 ? NULL : job_status_name((JobStatus)status));
	sqlite3_bind_int(st, 2, limit);
	return collect(s, st, out, n);
}

/* see apid.h */
StoreResult store_by_status(Store *s, JobStatus status, int limit, Job **out,
			    int *n)
{
	sqlite3_stmt *st = prep(s, "SELECT " JOB_COLS " FROM jobs WHERE status = ?1"
				" ORDER BY seq LIMIT ?2");

	if (!st)
		return STORE_ERROR;
	bind_text(st, 1, job_status_name(status));
	sqlite3_bind_int(st, 2, limit);
	return collect(s, st, out, n);
}

/* see apid.h */
StoreResult store_transition(Store *s, const char *id, JobStatus from,
			     JobStatus to, const Job *j)
{
	sqlite3_stmt *st;
	int rc;

	if (to == JOB_RUNNING && j)
		st = prep(s, "UPDATE jobs SET status = ?3, started_ms = ?4, container = ?5,"
			  " runner_pid = NULL, runner_start = NULL WHERE id = ?1 AND status = ?2");
	else if (to == JOB_QUEUED)
		st = prep(s, "UPDATE jobs SET status = ?3, started_ms = NULL, container = NULL,"
			  " runner_pid = NULL, runner_start = NULL WHERE id = ?1 AND status = ?2");
	else if (job_status_final(to) && j)
		st = prep(s, "UPDATE jobs SET status = ?3, exit_code = ?4, error = ?5,"
			  " finished_ms = ?6 WHERE id = ?1 AND status = ?2");
	else
		st = prep(s, "UPDATE jobs SET status = ?3 WHERE id = ?1 AND status = ?2");
	if (!st)
		return STORE_ERROR;
	bind_text(st, 1, id);
	bind_text(st, 2, job_status_name(from));
	bind_text(st, 3, job_status_name(to));
	if (to == JOB_RUNNING && j) {
		sqlite3_bind_int64(st, 4, j->started_ms);
		bind_text(st, 5, j->container);
	} else if (job_status_final(to) && j) {
		if (j->has_exit_code)
			sqlite3_bind_int(st, 4, j->exit_code);
		else
			sqlite3_bind_null(st, 4);
		bind_text(st, 5, j->error);
		sqlite3_bind_int64(st, 6, j->finished_ms);
	}
	rc = sqlite3_step(st);
	release(s, st);
	if (rc != SQLITE_DONE) {
		daemon_log("store: update %s: %s", id, sqlite3_errmsg(conn(s)));
		return STORE_ERROR;
	}
	return sqlite3_changes(conn(s)) ? STORE_OK : STORE_NOTFOUND;
}

/* see apid.h */
StoreResult store_set_runner(Store *s, const char *id, long pid, long long start)
{
	sqlite3_stmt *st = prep(s, "UPDATE jobs SET runner_pid = ?2, runner_start = ?3"
				" WHERE id = ?1");
	int rc;

	if (!st)
		return STORE_ERROR;
	bind_text(st, 1, id);
	sqlite3_bind_int64(st, 2, pid);
	sqlite3_bind_int64(st, 3, start);
	rc = sqlite3_step(st);
	release(s, st);
	return rc == SQLITE_DONE ? STORE_OK : STORE_ERROR;
}
