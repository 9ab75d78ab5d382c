/* SPDX-License-Identifier: GPL-2.0-or-later */
/* load.c: from a policy file name to a checked Policy. */
#include "front.h"

#include <errno.h>
#include <string.h>

Ast *policy_parse_file(const char *path, Arena *a, Diag *d, const char **text,
		       size_t *len)
{
	char *heap = read_file(path, len);
	char *copy;

	*text = NULL;
	if (!heap) {
		diag_error(d, (Loc){ 0 }, "cannot read %s: %s", path,
			   strerror(errno));
		return NULL;
	}
	copy = arena_strndup(a, heap, *len);
	free(heap);
	*text = copy;
	diag_add_source(d, path, copy, *len);
	if (memchr(copy, '\0', *len)) {
		diag_error(d, ((Loc){ path, 1, 1, 1, 1 }),
			   "%s is not a text file (it holds a NUL byte)", path);
		return NULL;
	}
	return parse_policy(a, d, path, copy, *len);
}

Policy *policy_load(const char *path, Diag *d)
{
	Arena *a = arena_new();
	const char *text;
	size_t len;
	Ast *ast = policy_parse_file(path, a, d, &text, &len);
	Policy *p = NULL;

	if (ast && !diag_errors(d))
		p = sema(a, d, ast, arena_strdup(a, path), text, len);
	diag_flush(d, stderr);	/* before the text they quote is freed */
	if (!p)
		arena_free(a);
	return p;
}

void policy_free(Policy *p)
{
	if (p)
		arena_free(p->arena);
}
