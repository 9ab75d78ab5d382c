/* SPDX-License-Identifier: GPL-2.0-or-later */
/* main.c: fp-tokend, the token service (everything else is libtokend.a). */
#include "tokend.h"

int main(int argc, char **argv)
{
	return tokend_main(argc, argv);
}
