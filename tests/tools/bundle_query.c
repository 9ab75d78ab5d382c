/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * bundle_query: ask a bundle the daemons' look-ups, one answer per line.
 *
 *   bundle_query BUNDLE spiffe ID...        PRIVILEGE SECRET... | unknown
 *   bundle_query BUNDLE peer SERVICE ADDR... allow | deny
 *   bundle_query BUNDLE secrets             NAME KEY (every secret, sorted)
 *   bundle_query BUNDLE service NAME...     KIND PORTS|PATH ... | unknown
 *
 * Exit 0, 1 if the bundle does not load, 2 on a usage error.
 */
#include "bundle.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

/* "allow"/"deny" for a peer given as text (IPv4 or IPv6). */
static const char *peer(const FpBundle *b, const char *svc, const char *addr)
{
	struct sockaddr_in in4 = { .sin_family = AF_INET };
	struct sockaddr_in6 in6 = { .sin6_family = AF_INET6 };

	if (inet_pton(AF_INET, addr, &in4.sin_addr) == 1)
		return bundle_peer_allowed(b, svc, (struct sockaddr *)&in4) ? "allow" : "deny";
	if (inet_pton(AF_INET6, addr, &in6.sin6_addr) == 1)
		return bundle_peer_allowed(b, svc, (struct sockaddr *)&in6) ? "allow" : "deny";
	return "bad-address";
}

static void service(const FpBundle *b, const char *name)
{
	const FpService *s = bundle_service(b, name);

	if (!s) {
		printf("unknown\n");
		return;
	}
	switch (s->kind) {
	case FP_SVC_TCP:
	case FP_SVC_UDP:
		printf("%s %d-%d listen %s\n", s->kind == FP_SVC_TCP ? "tcp" : "udp",
		       s->port_lo, s->port_hi, s->listen ? s->listen : "any");
		break;
	case FP_SVC_UNIX:
		printf("unix %s %s:%s %04o\n", s->path, s->owner, s->group, s->mode);
		break;
	case FP_SVC_EGRESS:
		printf("egress %d destinations\n", s->n_dests);
		break;
	}
}

int main(int argc, char **argv)
{
	char err[BUNDLE_ERR_MAX];
	FpBundle *b;

	if (argc < 3) {
		fprintf(stderr, "usage: bundle_query BUNDLE spiffe|peer|secrets|service ...\n");
		return 2;
	}
	if (!(b = bundle_load_file(argv[1], err, sizeof err))) {
		fprintf(stderr, "bundle_query: %s\n", err);
		return 1;
	}
	if (!strcmp(argv[2], "spiffe")) {
		for (int i = 3; i < argc; i++) {
			const FpPrivilege *p = bundle_privilege_for_spiffe(b, argv[i]);

			if (!p) {
				printf("unknown\n");
				continue;
			}
			printf("%s", p->name);
			for (int k = 0; k < p->n_secrets; k++)
				printf(" %s", p->secrets[k]->name);
			printf("\n");
		}
	} else if (!strcmp(argv[2], "peer") && argc >= 4) {
		for (int i = 4; i < argc; i++)
			printf("%s %s %s\n", argv[3], argv[i], peer(b, argv[3], argv[i]));
	} else if (!strcmp(argv[2], "secrets")) {
		int n;
		const FpSecret *s = bundle_secrets(b, &n);

		for (int i = 0; i < n; i++)
			printf("%s %s\n", s[i].name, s[i].key);
	} else if (!strcmp(argv[2], "service")) {
		for (int i = 3; i < argc; i++)
			service(b, argv[i]);
	} else {
		fprintf(stderr, "bundle_query: unknown query \"%s\"\n", argv[2]);
		bundle_free(b);
		return 2;
	}
	bundle_free(b);
	return 0;
}
