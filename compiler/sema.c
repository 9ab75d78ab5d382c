/* SPDX-License-Identifier: GPL-2.0-or-later */
/* STUB until the grammar lands */
#include "fpc.h"
Policy *sema(Arena *a, Diag *d, const Ast *ast, const char *file, const char *text, size_t len)
{ (void)a; (void)d; (void)ast; (void)file; (void)text; (void)len; return NULL; }
void fmt_policy(const Ast *ast, const char *text, Buf *out) { (void)ast; (void)text; (void)out; }
int cmd_fmt(int argc, char **argv) { (void)argc; (void)argv; return 2; }
Ast *parse_policy(Arena *a, Diag *d, const char *file, const char *text, size_t len)
{ (void)a; (void)d; (void)file; (void)text; (void)len; return NULL; }
