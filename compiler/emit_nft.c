/* SPDX-License-Identifier: GPL-2.0-or-later */
/* STUB: replaced by the nft text emitter (issue 2). */
#include "fpc.h"

void emit_nft(const Ruleset *rs, Buf *out)
{
	(void)rs;
	buf_puts(out, "# STUB\n");
}

void emit_nft_artifact(const Policy *p, const Ruleset *rs, Buf *out)
{
	(void)p;
	emit_nft(rs, out);
}
