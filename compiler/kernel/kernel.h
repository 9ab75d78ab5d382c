/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * kernel.h: the Ruleset IR to and from the kernel, through libnftnl and
 * libmnl, and the commands that talk to it.
 *
 *   nl_write.c  RsTable -> one atomic netlink batch (the same messages
 *               `nft -f` sends for the text emit_nft prints), commit, and
 *               map a refused message back to the rule and its policy line
 *   nl_read.c   every table, chain, set and rule of a network namespace
 *               -> raw snapshots (to restore a table verbatim) and the
 *               Ruleset IR (expressions nothing decodes become KEY_UNKNOWN)
 *   apply.c     `fpc apply`: one batch replacing the policy's table, with
 *               an optional confirmation window
 *   verify_live.c `fpc verify-live`: prove_report on what the kernel holds,
 *               plus a drift check against lower()
 *
 * May use: prove/, back/, front/, common/. Used by: the driver.
 *
 * Ownership: NlSock, NlBatch and NlSnap are heap objects freed by their
 * *_free/close function; Ruleset values a reader makes live in the arena
 * passed in; strings in error Bufs belong to the caller's Buf.
 */
#ifndef FPC_KERNEL_H
#define FPC_KERNEL_H

#include "prove.h"

/* A netlink socket to nf_tables, in the namespace it was opened in. */
typedef struct NlSock NlSock;

/* Enter /run/netns/NAME (NULL: stay) with setns; 0, or -1 with err filled. */
int nl_enter_netns(const char *netns, Buf *err);
/* Open the socket in the current namespace; NULL with err filled. */
NlSock *nl_open(Buf *err);
void nl_close(NlSock *s);

/* A batch under construction. Every message records what it makes, so a
 * refusal names the object (and, for a rule, its policy line). */
typedef struct NlBatch NlBatch;

NlBatch *nl_batch_new(void);
void nl_batch_free(NlBatch *b);
/* Messages that delete table (family, name) if it exists: add, then delete. */
void nl_batch_drop_table(NlBatch *b, RsFamily fam, const char *name);
/* Messages that add t and everything in it (chains, sets, rules). Returns
 * 0, or -1 with a message in err when t holds what cannot be written
 * (KEY_UNKNOWN, a user name that does not resolve, ...). */
int nl_batch_add_table(NlBatch *b, const RsTable *t, Buf *err);
/* Refusals of messages that carry a policy location go to d as errors
 * (diag_flush quotes the policy line) instead of into nl_commit's err. */
void nl_batch_set_diag(NlBatch *b, Diag *d);
/* Number of messages (without the batch begin/end). */
int nl_batch_len(const NlBatch *b);

/* Send the batch as one transaction and wait for the kernel's answer.
 * 0: committed. -1: nothing changed; one error per refused message
 * ("FILE:LINE:COL: error: the kernel refused rule 2 of chain input for
 * laptop->api: Invalid argument"), on the batch's Diag when it has one and
 * the message a location, else a line in err. */
int nl_commit(NlSock *s, NlBatch *b, Buf *err);

/* A verbatim copy of one table as the kernel holds it (objects read back
 * through libnftnl), to put it back exactly. */
typedef struct NlSnap NlSnap;

/* Read table (family, name): 1 found, 0 absent (*snap NULL), -1 error,
 * also when the table holds objects a snapshot cannot copy (stateful
 * objects, flowtables), since it could not be put back. */
int nl_snap_table(NlSock *s, RsFamily fam, const char *name, NlSnap **snap,
		  Buf *err);
void nl_snap_free(NlSnap *snap);
/* Messages that add the snapshot's table back, contents and all. */
void nl_batch_add_snap(NlBatch *b, const NlSnap *snap);

/* Read every table of the namespace into a Ruleset in arena a (tables in
 * kernel order; rules carry their kernel handle). NULL with err filled. */
Ruleset *nl_read_ruleset(NlSock *s, Arena *a, Buf *err);

/* One rule / one set as nft-like text for reports, deterministic. */
void nl_rule_text(const RsRule *r, Buf *out);
void nl_value_text(const RsValue *v, RsKey key, Buf *out);
/* "inet" -> RS_INET; -1 when unknown. */
int nl_family_parse(const char *s);

/* Commands: both need CAP_NET_ADMIN; --netns NAME enters /run/netns/NAME
 * first. Each returns its exit status. */
int cmd_apply(int argc, char **argv);
int cmd_verify_live(int argc, char **argv);

#endif
