/* SPDX-License-Identifier: GPL-2.0-or-later */
/* main.c: fp-apid, the Flashpods job API: parse the command line, run. */
#include "apid.h"

int main(int argc, char **argv)
{
	ApidConfig cfg;
	int rc;

	daemon_log_init("fp-apid");
	rc = config_parse(&cfg, argc, argv);
	if (rc < 0)
		return DAEMON_EXIT_OK;
	if (rc)
		return rc;
	return apid_run(&cfg);
}
