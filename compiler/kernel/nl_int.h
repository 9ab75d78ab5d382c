/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * nl_int.h: what nl_write.c and nl_read.c share and nobody else needs.
 * Ownership as in nl.h.
 */
#ifndef FPC_NL_INT_H
#define FPC_NL_INT_H

#include <libmnl/libmnl.h>

struct NlSock {
	struct mnl_socket *nl;
	uint32_t portid;
	uint32_t seq;
};

/* What one message of a batch makes: for reports when it is refused. */
typedef struct NlNote {
	const char *what;	/* "rule 3 of chain input for laptop->api" */
	Loc loc;		/* the policy text behind it, if any */
} NlNote;

struct NlBatch {
	Buf msgs;		/* the messages, back to back, NLMSG_ALIGNed */
	NlNote *notes;		/* one per message, in order */
	int n_notes, cap_notes;
	uint32_t set_id;	/* last NFTA_SET_ID handed out */
	Arena *arena;		/* the notes' strings */
	Diag *diag;		/* where located refusals go, or NULL */
	char page[1 << 17];	/* scratch for the message being built */
};

struct nlmsghdr *nlb_begin(NlBatch *b, uint16_t type, uint16_t fam,
			   uint16_t flags);
void nlb_end(NlBatch *b, struct nlmsghdr *nlh, NlNote note);
/* strerror(errnum), with what to do when it is EPERM. */
const char *nl_strerror(int errnum);
/* The named set name of t, or NULL. */
const RsSet *rs_set_find(const RsTable *t, const char *name);

#endif
