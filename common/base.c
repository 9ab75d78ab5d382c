/* SPDX-License-Identifier: GPL-2.0-or-later */
/* base.c: BUG(), the arena, heap helpers and whole-file I/O. */
#include "base.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <stdarg.h>
#include <unistd.h>

void fpc_bug(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s:%d: BUG: ", file, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p)
		BUG("out of memory (%zu bytes)", n);
	return p;
}

void *xcalloc(size_t n, size_t m)
{
	void *p = calloc(n ? n : 1, m ? m : 1);

	if (!p)
		BUG("out of memory (%zu x %zu bytes)", n, m);
	return p;
}

char *xstrdup(const char *s)
{
	size_t n = strlen(s) + 1;

	return memcpy(xmalloc(n), s, n);
}

/* Blocks are chained; a request larger than a quarter block gets a block
 * of its own. Blocks grow with the arena (an eighth of what it holds, up
 * to ARENA_MAX_BLOCK), so a large policy takes few, large blocks. A block
 * is zeroed when made and no byte is handed out twice, so every
 * allocation is zeroed already. */
struct Block {
	struct Block *next;
	size_t used, size;
	size_t mapped;		/* bytes mmap()ed, 0: from malloc */
	max_align_t data[];
};

struct Arena {
	struct Block *head;
	size_t total;		/* bytes in all blocks */
};

enum {
	ARENA_BLOCK = 64 * 1024,
	ARENA_MAPPED = 2 << 20,		/* from here on: fresh mmap()ed pages */
	ARENA_MAX_BLOCK = 64 << 20,
};

Arena *arena_new(void)
{
	return xcalloc(1, sizeof(Arena));
}

void arena_free(Arena *a)
{
	struct Block *b, *next;

	if (!a)
		return;
	for (b = a->head; b; b = next) {
		next = b->next;
		if (b->mapped)
			munmap(b, b->mapped);
		else
			free(b);
	}
	free(a);
}

/* A zeroed block for size bytes, counted in a's total. A big one is
 * mapped: fresh pages are zero, where calloc() may have to clear reused
 * heap memory. */
static struct Block *block_new(Arena *a, size_t size)
{
	size_t len = sizeof(struct Block) + size;
	struct Block *b;

	if (size >= ARENA_MAPPED) {
		b = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			 -1, 0);
		if (b == MAP_FAILED)
			BUG("out of memory (%zu bytes)", len);
		b->mapped = len;
	} else {
		b = xcalloc(1, len);
	}
	b->size = size;
	a->total += size;
	return b;
}

void *arena_alloc(Arena *a, size_t n)
{
	const size_t align = sizeof(max_align_t);
	struct Block *b = a->head;
	void *p;

	n = (n + align - 1) / align * align;
	if (n > ARENA_BLOCK / 4) {
		/* a block of its own, behind the head so the head's free
		 * space stays in use */
		b = block_new(a, n);
		b->used = n;
		if (a->head) {
			b->next = a->head->next;
			a->head->next = b;
		} else {
			a->head = b;
		}
		return b->data;
	}
	if (!b || b->size - b->used < n) {
		size_t size = a->total / 8;

		size = size < ARENA_BLOCK ? ARENA_BLOCK :
		       size > ARENA_MAX_BLOCK ? ARENA_MAX_BLOCK : size;
		b = block_new(a, size);
		b->next = a->head;
		a->head = b;
	}
	p = (char *)b->data + b->used;
	b->used += n;
	return p;
}

char *arena_strndup(Arena *a, const char *s, size_t n)
{
	char *p = arena_alloc(a, n + 1);

	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *arena_strdup(Arena *a, const char *s)
{
	return arena_strndup(a, s, strlen(s));
}

char *arena_printf(Arena *a, const char *fmt, ...)
{
	va_list ap;
	int n;
	char *p;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		BUG("vsnprintf failed for '%s'", fmt);
	p = arena_alloc(a, (size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return p;
}

char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	size_t cap = 4096, n = 0, got;
	char *buf;

	if (!f)
		return NULL;
	buf = xmalloc(cap);
	while ((got = fread(buf + n, 1, cap - n - 1, f)) > 0) {
		n += got;
		if (cap - n - 1 == 0) {
			cap *= 2;
			buf = realloc(buf, cap);
			if (!buf)
				BUG("out of memory reading %s", path);
		}
	}
	if (ferror(f)) {
		int e = errno;

		free(buf);
		fclose(f);
		errno = e ? e : EIO;
		return NULL;
	}
	fclose(f);
	buf[n] = '\0';
	if (len)
		*len = n;
	return buf;
}

/* Write all of data to fd; 0 or -1. */
static int write_all(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len > 0) {
		ssize_t w = write(fd, p, len);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

char *write_temp_file(const char *path, const void *data, size_t len)
{
	size_t n = strlen(path) + 16;
	char *tmp = xmalloc(n);
	int fd, e;

	snprintf(tmp, n, "%s.tmpXXXXXX", path);
	fd = mkstemp(tmp);
	if (fd < 0)
		goto fail;
	if (fchmod(fd, 0644) < 0 || write_all(fd, data, len) < 0 || fsync(fd) < 0) {
		e = errno;
		close(fd);
		errno = e;
		fd = -1;
	}
	if (fd < 0 || close(fd) < 0) {
		e = errno;
		unlink(tmp);
		errno = e;
		goto fail;
	}
	return tmp;
fail:
	e = errno;
	free(tmp);
	errno = e;
	return NULL;
}

void buf_append(Buf *b, const void *data, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;

		while (cap < b->len + n + 1)
			cap *= 2;
		b->data = realloc(b->data, cap);
		if (!b->data)
			BUG("out of memory (%zu bytes)", cap);
		b->cap = cap;
	}
	memcpy(b->data + b->len, data, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void buf_puts(Buf *b, const char *s)
{
	buf_append(b, s, strlen(s));
}

void buf_printf(Buf *b, const char *fmt, ...)
{
	va_list ap;
	char small[256];
	int n;

	va_start(ap, fmt);
	n = vsnprintf(small, sizeof small, fmt, ap);
	va_end(ap);
	if (n < 0)
		BUG("vsnprintf failed for '%s'", fmt);
	if ((size_t)n < sizeof small) {
		buf_append(b, small, (size_t)n);
		return;
	}
	char *big = xmalloc((size_t)n + 1);

	va_start(ap, fmt);
	vsnprintf(big, (size_t)n + 1, fmt, ap);
	va_end(ap);
	buf_append(b, big, (size_t)n);
	free(big);
}

void buf_free(Buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

/* see base.h */
long long parse_num(const char *s, long long lo, long long hi, const char **why)
{
	char *end;
	long long v;

	*why = NULL;
	if (!s || !*s || (*s != '-' && (*s < '0' || *s > '9'))) {
		*why = "is not a number";
		return 0;
	}
	errno = 0;
	v = strtoll(s, &end, 10);
	if (*end) {
		*why = "is not a number";
		return 0;
	}
	if ((errno == ERANGE && v == LLONG_MIN) || v < lo) {
		*why = "is too small";
		return 0;
	}
	if (errno == ERANGE || v > hi) {
		*why = "is too large";
		return 0;
	}
	return v;
}

int utf8_len(const unsigned char *p, size_t n)
{
	int len = p[0] < 0x80 ? 1 : p[0] < 0xc2 ? 0 : p[0] < 0xe0 ? 2 :
		  p[0] < 0xf0 ? 3 : p[0] < 0xf5 ? 4 : 0;
	unsigned char lo = 0x80, hi = 0xbf;	/* the second byte's range */

	if (len == 0 || (size_t)len > n)
		return 0;
	if (p[0] == 0xe0)
		lo = 0xa0;		/* no overlong 3-byte forms */
	else if (p[0] == 0xed)
		hi = 0x9f;		/* no surrogates */
	else if (p[0] == 0xf0)
		lo = 0x90;		/* no overlong 4-byte forms */
	else if (p[0] == 0xf4)
		hi = 0x8f;		/* nothing past U+10FFFF */
	if (len > 1 && (p[1] < lo || p[1] > hi))
		return 0;
	for (int k = 2; k < len; k++)
		if ((p[k] & 0xc0) != 0x80)
			return 0;
	return len;
}
