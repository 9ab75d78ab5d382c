/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fuzz_bundle: the bundle loader on arbitrary bytes. A bundle that loads
 * is then dumped as JSON, asked every look-up, and given to the argv
 * builder for a worker and an agent job of each privilege, so everything a
 * daemon does with a loaded bundle runs on what the fuzzer makes.
 */
#include "back.h"

#include "bundle.h"

#include <netinet/in.h>

/* Every look-up and an argv of each kind for every privilege of b. */
static void exercise(const FpBundle *b)
{
	struct sockaddr_in peer4 = { .sin_family = AF_INET,
				     .sin_addr.s_addr = htonl(0x0a000002) };
	struct sockaddr_in6 peer6 = { .sin6_family = AF_INET6 };
	char err[BUNDLE_ERR_MAX];
	int n, ni, np;
	const FpService *svc = bundle_services(b, &n);
	const FpIdentity *ids = bundle_identities(b, &ni);
	const FpPrivilege *pv = bundle_privileges(b, &np);

	peer6.sin6_addr.s6_addr[15] = 1;
	for (int i = 0; i < n; i++) {
		(void)bundle_peer_allowed(b, svc[i].name, (struct sockaddr *)&peer4);
		(void)bundle_peer_allowed(b, svc[i].name, (struct sockaddr *)&peer6);
	}
	for (int i = 0; i < ni; i++)
		if (bundle_privilege_for_spiffe(b, ids[i].spiffe_id) != ids[i].privilege)
			__builtin_trap();
	for (int i = 0; i < np; i++) {
		FpJob w = { .kind = FP_JOB_COMMAND, .privilege = pv[i].name,
			    .job_id = "j1", .upload_id = "u1", .command = "true" };
		FpJob a = { .kind = FP_JOB_AGENT, .privilege = pv[i].name,
			    .job_id = "j2", .upload_id = "u2", .task = "t",
			    .image = "ubuntu:22.04" };
		char **av = bundle_job_argv(b, &w, err, sizeof err);

		bundle_argv_free(av);
		av = bundle_job_argv(b, &a, err, sizeof err);
		if (!av)
			__builtin_trap();	/* nothing in a valid bundle refuses it */
		bundle_argv_free(av);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[BUNDLE_ERR_MAX];
	FpBundle *b = bundle_load(data, size, err, sizeof err);
	Buf out = { 0 };

	if (!b) {
		if (!err[0])
			__builtin_trap();	/* every refusal says why */
		return 0;
	}
	dump_bundle(b, &out);
	buf_free(&out);
	exercise(b);
	bundle_free(b);
	return 0;
}
