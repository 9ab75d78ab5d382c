/* SPDX-License-Identifier: GPL-2.0-or-later */
/* config.c: fp-apid's command line, with range-checked numbers (parse_num). */
#include "apid.h"
#include "base.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *f)
{
	fprintf(f,
		"usage: fp-apid [-n] [-b POLICY.pb] [-t TOKENFILE] [--db PATH] [--log-dir DIR]\n"
		"               [--listen ADDR:PORT] [--service NAME] [--rate N] [--burst N]\n"
		"               [--threads N] [--max-body BYTES] [--max-headers BYTES]\n"
		"               [--request-timeout S] [--max-running N] [--access-log]\n"
		"               [--test-minute-seconds S]\n"
		"  -n                    load and check everything, print a summary, exit\n"
		"  -b, --bundle PATH     compiled policy (default /etc/flashpods/policy.pb)\n"
		"  -t, --token PATH      bearer token file (default /etc/flashpods/api-token)\n"
		"  --db PATH             job database (default /var/lib/flashpods/db/flashpods.db)\n"
		"  --log-dir DIR         job output logs (default /var/log/flashpods)\n"
		"  --listen ADDR:PORT    override the bundle's address and port (tests)\n"
		"  --service NAME        the bundle service this daemon is (default api)\n"
		"  --rate N, --burst N   requests/s and burst per peer (default 100, 10; rate 0: off)\n"
		"  --threads N           HTTP thread pool (default 4)\n"
		"  --max-body BYTES      largest request body (default 1048576)\n"
		"  --max-headers BYTES   largest header block (default 8192)\n"
		"  --request-timeout S   a request must arrive whole within S s (default 10)\n"
		"  --max-running N       containers running at once (default 16)\n"
		"  --access-log          log every request on stderr\n"
		"  --test-minute-seconds S  TEST ONLY: one timeout_minutes minute lasts S s (default 60)\n"
		"  --version             print the version and exit\n"
		"  -h, --help            this text\n");
}

/* see apid.h */
int parse_long(const char *s, long min, long max, long *out)
{
	const char *why;
	long long v = parse_num(s, min, max, &why);

	if (why)
		return -1;
	*out = (long)v;
	return 0;
}

static void config_defaults(ApidConfig *cfg)
{
	memset(cfg, 0, sizeof *cfg);
	cfg->bundle_path = "/etc/flashpods/policy.pb";
	cfg->token_path = "/etc/flashpods/api-token";
	cfg->db_path = "/var/lib/flashpods/db/flashpods.db";
	cfg->log_dir = "/var/log/flashpods";
	cfg->service = "api";
	cfg->rate = 100;
	cfg->burst = 10;
	cfg->threads = 4;
	cfg->max_body = 1 << 20;
	cfg->max_headers = 8192;
	cfg->request_timeout = 10;
	cfg->max_running = 16;
	cfg->minute_seconds = 60;
	cfg->cancel_grace = 10;
}

enum {
	OPT_DB = 256, OPT_LOGDIR, OPT_LISTEN, OPT_SERVICE, OPT_RATE, OPT_BURST,
	OPT_THREADS, OPT_MAXBODY, OPT_MAXHDR, OPT_REQTIMEOUT, OPT_MAXRUN,
	OPT_MINUTE, OPT_ACCESSLOG, OPT_VERSION,
};

static const struct option long_opts[] = {
	{ "bundle", required_argument, NULL, 'b' },
	{ "token", required_argument, NULL, 't' },
	{ "db", required_argument, NULL, OPT_DB },
	{ "log-dir", required_argument, NULL, OPT_LOGDIR },
	{ "listen", required_argument, NULL, OPT_LISTEN },
	{ "service", required_argument, NULL, OPT_SERVICE },
	{ "rate", required_argument, NULL, OPT_RATE },
	{ "burst", required_argument, NULL, OPT_BURST },
	{ "threads", required_argument, NULL, OPT_THREADS },
	{ "max-body", required_argument, NULL, OPT_MAXBODY },
	{ "max-headers", required_argument, NULL, OPT_MAXHDR },
	{ "request-timeout", required_argument, NULL, OPT_REQTIMEOUT },
	{ "max-running", required_argument, NULL, OPT_MAXRUN },
	{ "test-minute-seconds", required_argument, NULL, OPT_MINUTE },
	{ "access-log", no_argument, NULL, OPT_ACCESSLOG },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ "help", no_argument, NULL, 'h' },
	{ 0, 0, 0, 0 },
};

/* A numeric option: name for the message, bounds, destination. */
static int num_opt(const char *name, const char *arg, long min, long max,
		   long *dst)
{
	const char *why;
	long long v = parse_num(arg, min, max, &why);

	if (!why) {
		*dst = (long)v;
		return 0;
	}
	daemon_log("--%s: '%s' %s (%ld..%ld)", name, arg, why, min, max);
	return -1;
}

/* see apid.h */
int config_parse(ApidConfig *cfg, int argc, char **argv)
{
	int c, bad = 0;

	config_defaults(cfg);
	optind = 1;
	while ((c = getopt_long(argc, argv, "nb:t:h", long_opts, NULL)) != -1) {
		switch (c) {
		case 'n': cfg->check_only = true; break;
		case 'b': cfg->bundle_path = optarg; break;
		case 't': cfg->token_path = optarg; break;
		case OPT_DB: cfg->db_path = optarg; break;
		case OPT_LOGDIR: cfg->log_dir = optarg; break;
		case OPT_LISTEN: cfg->listen = optarg; break;
		case OPT_SERVICE: cfg->service = optarg; break;
		case OPT_RATE: bad |= num_opt("rate", optarg, 0, 1000000, &cfg->rate); break;
		case OPT_BURST: bad |= num_opt("burst", optarg, 1, 1000000, &cfg->burst); break;
		case OPT_THREADS: bad |= num_opt("threads", optarg, 1, 64, &cfg->threads); break;
		case OPT_MAXBODY: bad |= num_opt("max-body", optarg, 1024, 64 << 20, &cfg->max_body); break;
		case OPT_MAXHDR: bad |= num_opt("max-headers", optarg, 1024, 1 << 20, &cfg->max_headers); break;
		case OPT_REQTIMEOUT: bad |= num_opt("request-timeout", optarg, 1, 3600, &cfg->request_timeout); break;
		case OPT_MAXRUN: bad |= num_opt("max-running", optarg, 1, 1024, &cfg->max_running); break;
		case OPT_MINUTE: bad |= num_opt("test-minute-seconds", optarg, 1, 60, &cfg->minute_seconds); break;
		case OPT_ACCESSLOG: cfg->access_log = true; break;
		case OPT_VERSION:
			printf("fp-apid %s (bundle format %d)\n", APID_VERSION, BUNDLE_FORMAT_VERSION);
			return -1;
		case 'h':
			usage(stdout);
			return -1;
		default:
			usage(stderr);
			return DAEMON_EXIT_USAGE;
		}
	}
	if (optind < argc) {
		daemon_log("unexpected argument '%s'", argv[optind]);
		usage(stderr);
		return DAEMON_EXIT_USAGE;
	}
	return bad ? DAEMON_EXIT_USAGE : 0;
}
