/* SPDX-License-Identifier: GPL-2.0-or-later */
/* STUB: replaced by lowering (issue 2). */
#include "fpc.h"

Ruleset *lower(const Policy *p)
{
	Ruleset *rs = arena_alloc(p->arena, sizeof *rs);

	rs->arena = p->arena;
	return rs;
}
