/* SPDX-License-Identifier: GPL-2.0-or-later */
/* b64url.c: strict base64url (RFC 4648 section 5, unpadded, canonical). */
#include "tokend.h"

#include <stdlib.h>
#include <string.h>

static const char b64url_alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* The 6-bit value of c, or -1 if c is not in the base64url alphabet. */
static int b64url_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '-')
		return 62;
	if (c == '_')
		return 63;
	return -1;
}

unsigned char *b64url_decode(const char *in, size_t len, size_t *outlen)
{
	size_t rem = len % 4, n = 0;
	unsigned char *out;
	uint32_t acc = 0;
	int bits = 0;

	*outlen = 0;
	if (len == 0 || rem == 1)
		return NULL;
	out = malloc(len / 4 * 3 + 3);
	if (!out)
		return NULL;
	for (size_t i = 0; i < len; i++) {
		int v = b64url_value((unsigned char)in[i]);

		if (v < 0) {
			free(out);
			return NULL;
		}
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[n++] = (unsigned char)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	/* the bits left over must be zero, or two texts decode alike */
	if (acc != 0) {
		free(out);
		return NULL;
	}
	out[n] = '\0';
	*outlen = n;
	return out;
}

char *b64url_encode(const unsigned char *in, size_t len)
{
	char *out = malloc(len / 3 * 4 + 5);
	size_t n = 0, i;

	if (!out)
		return NULL;
	for (i = 0; i + 2 < len; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];

		out[n++] = b64url_alphabet[v >> 18];
		out[n++] = b64url_alphabet[(v >> 12) & 63];
		out[n++] = b64url_alphabet[(v >> 6) & 63];
		out[n++] = b64url_alphabet[v & 63];
	}
	if (len - i == 1) {
		out[n++] = b64url_alphabet[in[i] >> 2];
		out[n++] = b64url_alphabet[(in[i] & 3) << 4];
	} else if (len - i == 2) {
		uint32_t v = (uint32_t)in[i] << 8 | in[i + 1];

		out[n++] = b64url_alphabet[v >> 10];
		out[n++] = b64url_alphabet[(v >> 4) & 63];
		out[n++] = b64url_alphabet[(v & 15) << 2];
	}
	out[n] = '\0';
	return out;
}
