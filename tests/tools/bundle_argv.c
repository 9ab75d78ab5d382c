/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * bundle_argv: print the podman argv bundle_job_argv() builds for a job,
 * one element per line (an element's own newlines are shown as "\n").
 *
 *   bundle_argv BUNDLE [--privilege P] [--agent] [--job-id ID]
 *       [--upload-id ID] [--image IMG] [--cpus N] [--memory N]
 *       [--command CMD] [--task T] [--context C] [--git-branch B]
 *       [--nul FIELD]
 *
 * A job is worker-style (--command) unless --agent is given. --nul gives
 * FIELD (command, task, context, git_branch) a NUL and more bytes after its
 * value, within its length, as a JSON "\u0000" would. Exit 0, or 1 with
 * the loader's or the builder's message on stderr.
 */
#include "bundle.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Parse a whole decimal number or exit 2. */
static long number(const char *s)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (!*s || *end) {
		fprintf(stderr, "bundle_argv: \"%s\" is not a number\n", s);
		exit(2);
	}
	return v;
}

/* Make *v (NULL: "") hold a NUL then "x" inside its length *len. */
static void add_nul(const char **v, size_t *len)
{
	static char buf[4096];
	const char *s = *v ? *v : "";
	size_t n = strlen(s);

	if (n + 3 > sizeof buf) {
		fprintf(stderr, "bundle_argv: --nul: value too long\n");
		exit(2);
	}
	memcpy(buf, s, n);
	memcpy(buf + n, "\0x", 3);
	*v = buf;
	*len = n + 2;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "privilege", required_argument, NULL, 'p' },
		{ "agent", no_argument, NULL, 'a' },
		{ "job-id", required_argument, NULL, 'j' },
		{ "upload-id", required_argument, NULL, 'u' },
		{ "image", required_argument, NULL, 'i' },
		{ "cpus", required_argument, NULL, 'c' },
		{ "memory", required_argument, NULL, 'm' },
		{ "command", required_argument, NULL, 'x' },
		{ "task", required_argument, NULL, 't' },
		{ "context", required_argument, NULL, 'o' },
		{ "git-branch", required_argument, NULL, 'g' },
		{ "nul", required_argument, NULL, 'n' },
		{ NULL, 0, NULL, 0 },
	};
	FpJob job = { .kind = FP_JOB_COMMAND, .privilege = "worker",
		      .job_id = "job1", .upload_id = "upload1" };
	char err[BUNDLE_ERR_MAX];
	const char *nul = NULL;
	FpBundle *b;
	char **av;
	int c;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'p': job.privilege = optarg; break;
		case 'a': job.kind = FP_JOB_AGENT; break;
		case 'j': job.job_id = optarg; break;
		case 'u': job.upload_id = *optarg ? optarg : NULL; break;
		case 'i': job.image = optarg; break;
		case 'c': job.cpus = number(optarg); break;
		case 'm': job.memory_gb = number(optarg); break;
		case 'x': job.command = optarg; break;
		case 't': job.task = optarg; break;
		case 'o': job.context = optarg; break;
		case 'g': job.git_branch = optarg; break;
		case 'n': nul = optarg; break;
		default: return 2;
		}
	}
	if (optind + 1 != argc) {
		fprintf(stderr, "usage: bundle_argv BUNDLE [options]\n");
		return 2;
	}
	if (nul && !strcmp(nul, "command"))
		add_nul(&job.command, &job.command_len);
	else if (nul && !strcmp(nul, "task"))
		add_nul(&job.task, &job.task_len);
	else if (nul && !strcmp(nul, "context"))
		add_nul(&job.context, &job.context_len);
	else if (nul && !strcmp(nul, "git_branch"))
		add_nul(&job.git_branch, &job.git_branch_len);
	else if (nul) {
		fprintf(stderr, "bundle_argv: --nul %s: not a field\n", nul);
		return 2;
	}
	if (!(b = bundle_load_file(argv[optind], err, sizeof err))) {
		fprintf(stderr, "bundle_argv: %s\n", err);
		return 1;
	}
	av = bundle_job_argv(b, &job, err, sizeof err);
	if (!av) {
		fprintf(stderr, "bundle_argv: %s\n", err);
		bundle_free(b);
		return 1;
	}
	for (char **p = av; *p; p++) {
		for (const char *s = *p; *s; s++)
			if (*s == '\n')
				fputs("\\n", stdout);
			else
				putchar(*s);
		putchar('\n');
	}
	bundle_argv_free(av);
	bundle_free(b);
	return 0;
}
