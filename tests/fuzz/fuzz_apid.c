/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fuzz_apid: fp-apid's request checks on arbitrary bytes. The input is
 * parsed as a POST /jobs body (as the server does, but with NUL allowed in
 * strings so validation sees them too) and validated against a bundle
 * compiled in-process from the policy below; the same bytes are also
 * judged as an Authorization header and as a ?status= value.
 *
 * An input starting with "GET ", "POST", "PUT " or "DELE" and holding a
 * blank line (a whole header block) is instead sent
 * as raw bytes on one connection through fp-apid's real HTTP server (the
 * libmicrohttpd front end with the accept policy, framing checks, gate,
 * routes and store; the executor never starts a job) from the laptop's
 * address.
 *
 * Whatever the input: no crash, no leak; a rejection is a 400 with a code,
 * a message and (but for invalid_json and invalid_job) details.field; an
 * accepted job is within its privilege's ranges, gets an argv, and turns
 * into JSON; over HTTP, every answer has a status line, and no route but
 * /health answers 2xx to bytes that do not hold the token.
 */
#include "back.h"

#include "../../runtime/apid/apid.h"

#include <arpa/inet.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

/* The apid test policy, its uploads under /tmp/fuzz (the harness makes
 * /tmp/fuzz/tmp, so files_id "tmp" exists). */
static const char fuzz_policy[] =
	"policy fuzz { table inet fuzz; }\n"
	"source laptop { via \"wg0\" from 10.0.0.2; }\n"
	"source containers { via user nobody; }\n"
	"source anyone { via any; }\n"
	"service api tcp 8080 on 10.0.0.1;\n"
	"service token unix \"/run/flashpods/token.sock\" owner root:root mode 0660;\n"
	"trust {\n"
	"               api    token\n"
	"    laptop     allow  -\n"
	"    containers deny   allow\n"
	"    anyone     deny   -\n"
	"}\n"
	"invariant no_spawn \"no spawn\" { containers cannot reach api; }\n"
	"trust_domain \"flashpods.local\";\n"
	"identity agent \"spiffe://flashpods.local/agent\" selector \"docker:label:t:agent\";\n"
	"identity worker \"spiffe://flashpods.local/worker\" selector \"docker:label:t:worker\";\n"
	"privilege agent { secrets GITHUB_TOKEN; mount work rw;\n"
	"    cpus 1..4 default 2; memory 1..8 GB default 4; timeout 1..120 min default 60; }\n"
	"privilege worker { secrets GITHUB_TOKEN; mount work ro;\n"
	"    cpus 1..8 default 1; memory 1..16 GB default 2; timeout 1..120 min default 30; }\n"
	"mount work \"/tmp/fuzz/{upload_id}\" at \"/work\";\n"
	"mount artifacts \"/var/lib/fuzz/artifacts/{job_id}\" at \"/artifacts\" rw;\n"
	"mount token service token ro;\n"
	"container {\n"
	"    source containers;\n"
	"    engine podman rootless user nobody;\n"
	"    userns keep-id; network slirp4netns; image \"ubuntu:22.04\";\n"
	"    cap_drop ALL; security_opt \"no-new-privileges\";\n"
	"    label \"flashpods-job\" = \"true\";\n"
	"    label \"flashpods-job-id\" = \"{job_id}\";\n"
	"}\n";

static const char fuzz_token[] =
	"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

/* The bundle of fuzz_policy (compiled once, through a temporary file and
 * the compiler's own loader). */
static const FpBundle *fuzz_bundle(void)
{
	static FpBundle *b;
	char err[BUNDLE_ERR_MAX], *path;
	Diag *d;
	Policy *p;
	Buf pb = { 0 };

	if (b)
		return b;
	mkdir("/tmp/fuzz", 0755);
	mkdir("/tmp/fuzz/tmp", 0755);
	path = write_temp_file("/tmp/fuzz_apid", fuzz_policy, sizeof fuzz_policy - 1);
	if (!path)
		BUG("cannot write a temporary policy in /tmp");
	d = diag_new();
	p = policy_load(path, d);
	unlink(path);
	free(path);
	if (!p)
		BUG("the fuzz policy does not compile");
	emit_pb(p, &pb);
	b = bundle_load(pb.data, pb.len, err, sizeof err);
	if (!b)
		BUG("the fuzz bundle does not load: %s", err);
	buf_free(&pb);
	policy_free(p);
	diag_free(d);
	return b;
}

/* An accepted job must be what the bundle allows. */
static void check_accepted(const FpBundle *b, Job *j)
{
	const FpPrivilege *p = bundle_privilege(b, j->type);
	char err[BUNDLE_ERR_MAX];
	char **argv;
	FpJob fj;

	if (!p || j->cpus < p->cpus.min || j->cpus > p->cpus.max ||
	    j->memory_gb < p->memory_gb.min || j->memory_gb > p->memory_gb.max ||
	    j->timeout_minutes < p->timeout_min.min || j->timeout_minutes > p->timeout_min.max)
		BUG("accepted a job outside its privilege");
	if ((j->kind == FP_JOB_COMMAND) != !!j->command ||
	    (j->kind == FP_JOB_AGENT) != (j->task && j->git_branch))
		BUG("accepted a job without the fields of its kind");
	j->id = strdup("0123456789abcdef");
	job_to_fpjob(j, &fj);
	argv = bundle_job_argv(b, &fj, err, sizeof err);
	if (!argv)
		BUG("accepted a job the argv builder refuses: %s", err);
	bundle_argv_free(argv);
	json_decref(job_to_json(j));
}

/* A rejection must be a complete 400. */
static void check_rejected(const ApiError *e)
{
	if (e->http != 400 || !e->code || !e->message[0])
		BUG("a rejection without status, code or message");
	if (strcmp(e->code, "invalid_json") && strcmp(e->code, "invalid_job") &&
	    !json_is_string(json_object_get(e->details, "field")))
		BUG("rejection %s names no field", e->code);
}

static char fuzz_dir[] = "/dev/shm/fuzz_apid_srvXXXXXX";

/* At exit: remove the server's temporary directory and its database. */
static void fuzz_dir_remove(void)
{
	static const char *const files[] = { "db", "db-wal", "db-shm" };
	char path[64];

	for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
		snprintf(path, sizeof path, "%s/%s", fuzz_dir, files[i]);
		unlink(path);
	}
	rmdir(fuzz_dir);
}

/* fp-apid's HTTP server on the fuzz bundle, started once: a store in a
 * temporary directory (removed at exit), an executor that may run no
 * container at all, the rate limit off. */
static Server *fuzz_server(const FpBundle *b)
{
	static Server *srv;
	static ApidConfig cfg;
	char *dir = fuzz_dir;
	char err[512], db[64];
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	Store *st;
	Executor *ex;
	int fd;

	if (srv)
		return srv;
	daemon_log_init("fuzz_apid");
	if (config_parse(&cfg, 1, (char *[]){ "fuzz_apid", NULL }) != 0 || !mkdtemp(dir))
		BUG("fuzz server set-up");
	atexit(fuzz_dir_remove);
	cfg.max_running = 0;	/* nothing ever starts */
	cfg.log_dir = dir;
	cfg.request_timeout = 1;	/* an unfinished request costs 1 s */
	snprintf(db, sizeof db, "%s/db", dir);
	if (!(st = store_open(db, err, sizeof err)))
		BUG("fuzz store: %s", err);
	ExecEnv xe = { .bundle = b, .cfg = &cfg, .store = st, .child_env = (char *[]){ NULL } };
	if (!(ex = executor_start(&xe, err, sizeof err)))
		BUG("fuzz executor: %s", err);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(fd, 8) < 0)
		BUG("fuzz listen socket");
	ServerEnv se = { .cfg = &cfg, .bundle = b, .token = auth_token_new(fuzz_token),
			 .store = st, .executor = ex, .rl = ratelimit_new(0, 1) };
	if (!(srv = api_server_start(&se, fd, err, sizeof err)))
		BUG("fuzz server: %s", err);
	return srv;
}

/* Send size bytes as one connection from the laptop (10.0.0.2) and check
 * the answers. */
static void fuzz_http(const FpBundle *b, const uint8_t *data, size_t size)
{
	struct sockaddr_in laptop = { .sin_family = AF_INET, .sin_port = htons(40000) };
	char out[65536];
	size_t got = 0;
	int sv[2];

	inet_pton(AF_INET, "10.0.0.2", &laptop.sin_addr);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		BUG("socketpair");
	if (api_server_add_connection(fuzz_server(b), sv[1], (struct sockaddr *)&laptop,
				  sizeof laptop) < 0) {
		close(sv[0]);
		return;
	}
	/* the input fits the socket buffer (libFuzzer's -max_len is small) */
	if (size && write(sv[0], data, size) < 0)
		BUG("write to the server");
	shutdown(sv[0], SHUT_WR);
	/* read until the server closes, or 2 s (the 1 s request deadline
	 * shuts a stuck connection down, but libmicrohttpd may close its end
	 * only at its next wake-up: that wait is not the server's fault) */
	for (;;) {
		struct pollfd pf = { sv[0], POLLIN, 0 };
		ssize_t n;

		if (poll(&pf, 1, 2000) <= 0)
			break;
		n = read(sv[0], out + got, sizeof out - 1 - got);
		if (n <= 0)
			break;
		got += (size_t)n;
		if (got == sizeof out - 1)
			got = 0;	/* only the status lines matter */
	}
	close(sv[0]);
	out[got] = '\0';
	if (got && strncmp(out, "HTTP/1.", 7))
		BUG("an answer that does not start with a status line");
	for (const char *p = out; (p = strstr(p, "HTTP/1.1 2")); p++)
		if (!memmem(data, size, fuzz_token, sizeof fuzz_token - 1) &&
		    !memmem(data, size, "/health", 7))
			BUG("a 2xx answer to bytes without the token");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const FpBundle *b = fuzz_bundle();
	json_error_t jerr;
	json_t *body;
	ApiError e = { 0 };
	Job j;
	char *s;

	if (size >= 4 && (!memcmp(data, "GET ", 4) || !memcmp(data, "POST", 4) ||
			  !memcmp(data, "PUT ", 4) || !memcmp(data, "DELE", 4))) {
		/* only whole header blocks: libmicrohttpd waits for the rest of
		 * a cut one until the request deadline, even after EOF */
		if (size <= 16384 && memmem(data, size, "\r\n\r\n", 4))
			fuzz_http(b, data, size);
		return 0;
	}

	body = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL,
			  &jerr);
	if (body) {
		if (validate_job(b, body, &j, &e) == 0) {
			check_accepted(b, &j);
			job_clear(&j);
		} else {
			check_rejected(&e);
		}
		api_error_clear(&e);
		json_decref(body);
	}
	s = strndup((const char *)data, size);
	if (!s)
		abort();
	if (auth_check(fuzz_token, s) == AUTH_OK &&
	    (strncasecmp(s, "Bearer ", 7) || !strstr(s, fuzz_token)))
		BUG("a header without the token passed");
	(void)job_status_parse(s);
	free(s);
	return 0;
}
