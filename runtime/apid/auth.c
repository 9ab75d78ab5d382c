/* SPDX-License-Identifier: GPL-2.0-or-later */
/* auth.c: the bearer token: loaded from a private file, compared in
 * constant time, replaced whole when the file is re-read (SIGHUP). */
#include "apid.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

/* see apid.h */
int auth_load_token(const char *path, char *out, char *err, size_t errlen)
{
	char buf[AUTH_TOKEN_LEN + 2];
	struct stat st;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		close(fd);
		return -1;
	}
	if (st.st_mode & 077) {
		snprintf(err, errlen, "%s: mode %04o lets others read the token; "
			 "chmod 0600 it", path, (unsigned)(st.st_mode & 07777));
		close(fd);
		return -1;
	}
	n = read(fd, buf, sizeof buf);
	close(fd);
	if (n == AUTH_TOKEN_LEN + 1 && buf[AUTH_TOKEN_LEN] == '\n')
		n--;
	if (n != AUTH_TOKEN_LEN) {
		snprintf(err, errlen, "%s: must hold exactly %d hex characters",
			 path, AUTH_TOKEN_LEN);
		return -1;
	}
	for (int i = 0; i < AUTH_TOKEN_LEN; i++) {
		char c = buf[i];
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
		      (c >= 'A' && c <= 'F'))) {
			snprintf(err, errlen, "%s: must hold exactly %d hex characters",
				 path, AUTH_TOKEN_LEN);
			return -1;
		}
	}
	memcpy(out, buf, AUTH_TOKEN_LEN);
	out[AUTH_TOKEN_LEN] = '\0';
	return 0;
}

/* Compare n bytes of a and b in time that depends only on n. */
static bool ct_equal(const char *a, const char *b, size_t n)
{
	volatile unsigned char diff = 0;

	for (size_t i = 0; i < n; i++)
		diff |= (unsigned char)a[i] ^ (unsigned char)b[i];
	return diff == 0;
}

/* see apid.h */
AuthResult auth_check(const char *token, const char *header)
{
	const char *cred;
	char cand[AUTH_TOKEN_LEN];
	size_t len;

	if (!header || !*header)
		return AUTH_MISSING;
	if (strncasecmp(header, "Bearer ", 7))
		return AUTH_MALFORMED;
	cred = header + 7;
	while (*cred == ' ')
		cred++;
	len = strlen(cred);
	while (len && cred[len - 1] == ' ')
		len--;
	if (!len)
		return AUTH_MALFORMED;
	for (size_t i = 0; i < len; i++)
		if (cred[i] <= ' ' || cred[i] > '~')
			return AUTH_MALFORMED;
	/* The length is not secret (it is fixed and documented); the
	 * comparison of equal-length values is constant-time. */
	memset(cand, 0, sizeof cand);
	memcpy(cand, cred, len < sizeof cand ? len : sizeof cand);
	if (!ct_equal(cand, token, AUTH_TOKEN_LEN) || len != AUTH_TOKEN_LEN)
		return AUTH_INVALID;
	return AUTH_OK;
}

struct AuthToken {
	pthread_rwlock_t lock;
	char token[AUTH_TOKEN_LEN + 1];
};

/* see apid.h */
AuthToken *auth_token_new(const char *token)
{
	AuthToken *t = calloc(1, sizeof *t);

	if (!t)
		return NULL;
	pthread_rwlock_init(&t->lock, NULL);
	snprintf(t->token, sizeof t->token, "%s", token);
	return t;
}

/* see apid.h */
void auth_token_free(AuthToken *t)
{
	if (!t)
		return;
	explicit_bzero(t->token, sizeof t->token);
	pthread_rwlock_destroy(&t->lock);
	free(t);
}

/* see apid.h */
int auth_token_reload(AuthToken *t, const char *path, char *err, size_t errlen)
{
	char fresh[AUTH_TOKEN_LEN + 1];

	if (auth_load_token(path, fresh, err, errlen) < 0)
		return -1;
	pthread_rwlock_wrlock(&t->lock);
	memcpy(t->token, fresh, sizeof fresh);
	pthread_rwlock_unlock(&t->lock);
	explicit_bzero(fresh, sizeof fresh);
	return 0;
}

/* see apid.h */
AuthResult auth_token_check(AuthToken *t, const char *header)
{
	AuthResult r;

	pthread_rwlock_rdlock(&t->lock);
	r = auth_check(t->token, header);
	pthread_rwlock_unlock(&t->lock);
	return r;
}
