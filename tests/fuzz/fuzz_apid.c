/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fuzz_apid: fp-apid's request checks on arbitrary bytes. The input is
 * parsed as a POST /jobs body (as the server does, but with NUL allowed in
 * strings so validation sees them too) and validated against a bundle
 * compiled in-process from the policy below; the same bytes are also
 * judged as an Authorization header and as a ?status= value.
 *
 * Whatever the input: no crash, no leak; a rejection is a 400 with a code,
 * a message and (but for invalid_json and invalid_job) details.field; an
 * accepted job is within its privilege's ranges, gets an argv, and turns
 * into JSON.
 */
#include "back.h"

#include "../../runtime/apid/apid.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

/* The apid test policy, its uploads under / so files_id "tmp" exists. */
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
	"mount work \"/{upload_id}\" at \"/work\";\n"
	"mount artifacts \"/var/lib/flashpods/artifacts/{job_id}\" at \"/artifacts\" rw;\n"
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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const FpBundle *b = fuzz_bundle();
	json_error_t jerr;
	json_t *body;
	ApiError e = { 0 };
	Job j;
	char *s;

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
