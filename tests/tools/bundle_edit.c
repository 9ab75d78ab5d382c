/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * bundle_edit: decode a policy.pb with protobuf-c (no validation), change
 * fields, and pack it again: how the bad-bundle tests make each kind of
 * broken bundle from a good one.
 *
 *   bundle_edit IN OUT EDIT...
 *     set PATH VALUE    a string, number, bool or enum (by number) field
 *     unset PATH        clear an optional field (string, scalar, message)
 *     append PATH VALUE add a string to a repeated string field
 *
 * PATH names fields as the loader's messages do: trust_domain,
 * identities[1].spiffe_id, container.labels[0].value. Exit 0, 1 on error.
 */
#include "policy.pb-c.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static _Noreturn void die(const char *fmt, const char *arg)
{
	fprintf(stderr, "bundle_edit: ");
	fprintf(stderr, fmt, arg);
	fputc('\n', stderr);
	exit(1);
}

static unsigned char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	unsigned char *data = NULL;
	size_t cap = 0, n;

	if (!f)
		die("cannot open %s", path);
	*len = 0;
	do {
		if (*len + 4096 > cap && !(data = realloc(data, cap = 2 * cap + 4096)))
			die("out of memory%s", "");
		n = fread(data + *len, 1, 4096, f);
		*len += n;
	} while (n > 0);
	fclose(f);
	return data;
}

/* Resolve PATH in msg down to its last field: *owner is the message that
 * holds it, the return value its descriptor. */
static const ProtobufCFieldDescriptor *resolve(ProtobufCMessage *msg, const char *path,
					      ProtobufCMessage **owner)
{
	char seg[128];
	const char *p = path;

	for (;;) {
		size_t n = strcspn(p, ".");
		char *br;
		long idx = -1;
		const ProtobufCFieldDescriptor *f;

		if (n >= sizeof seg)
			die("path segment too long in %s", path);
		memcpy(seg, p, n);
		seg[n] = '\0';
		if ((br = strchr(seg, '['))) {
			idx = strtol(br + 1, NULL, 10);
			*br = '\0';
		}
		f = protobuf_c_message_descriptor_get_field_by_name(msg->descriptor, seg);
		if (!f)
			die("no field %s", seg);
		if (!p[n]) {
			if (idx >= 0)
				die("a final [index] is not supported: %s", path);
			*owner = msg;
			return f;
		}
		if (f->type != PROTOBUF_C_TYPE_MESSAGE)
			die("%s is not a message", seg);
		if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			size_t cnt = *(size_t *)((char *)msg + f->quantifier_offset);

			if (idx < 0 || (size_t)idx >= cnt)
				die("index out of range in %s", path);
			msg = (*(ProtobufCMessage ***)((char *)msg + f->offset))[idx];
		} else {
			msg = *(ProtobufCMessage **)((char *)msg + f->offset);
			if (!msg)
				die("%s is not set", seg);
		}
		p += n + 1;
	}
}

static void set_has(ProtobufCMessage *m, const ProtobufCFieldDescriptor *f, int v)
{
	if (f->label == PROTOBUF_C_LABEL_OPTIONAL && f->quantifier_offset)
		*(protobuf_c_boolean *)((char *)m + f->quantifier_offset) = v;
}

static void edit_set(ProtobufCMessage *root, const char *path, const char *value)
{
	ProtobufCMessage *m;
	const ProtobufCFieldDescriptor *f = resolve(root, path, &m);
	void *at = (char *)m + f->offset;
	char *end;

	if (f->label == PROTOBUF_C_LABEL_REPEATED)
		die("%s is repeated (use append)", path);
	errno = 0;
	switch (f->type) {
	case PROTOBUF_C_TYPE_STRING:
		free(*(char **)at);
		*(char **)at = strdup(value);
		return;
	case PROTOBUF_C_TYPE_UINT32:
		*(uint32_t *)at = (uint32_t)strtoul(value, &end, 0);
		break;
	case PROTOBUF_C_TYPE_INT64:
		*(int64_t *)at = strtoll(value, &end, 0);
		break;
	case PROTOBUF_C_TYPE_ENUM:
		*(int *)at = (int)strtol(value, &end, 0);
		break;
	case PROTOBUF_C_TYPE_BOOL:
		*(protobuf_c_boolean *)at = (protobuf_c_boolean)strtol(value, &end, 0);
		break;
	default:
		die("cannot set a field of this type: %s", path);
	}
	if (errno || *end)
		die("not a number: %s", value);
	set_has(m, f, 1);
}

static void edit_unset(ProtobufCMessage *root, const char *path)
{
	ProtobufCMessage *m;
	const ProtobufCFieldDescriptor *f = resolve(root, path, &m);
	void *at = (char *)m + f->offset;

	if (f->label == PROTOBUF_C_LABEL_REPEATED)
		die("%s is repeated", path);
	if (f->type == PROTOBUF_C_TYPE_STRING) {
		free(*(char **)at);
		*(char **)at = NULL;
	} else if (f->type == PROTOBUF_C_TYPE_MESSAGE) {
		if (*(ProtobufCMessage **)at)
			protobuf_c_message_free_unpacked(*(ProtobufCMessage **)at, NULL);
		*(ProtobufCMessage **)at = NULL;
	} else {
		set_has(m, f, 0);
	}
}

static void edit_append(ProtobufCMessage *root, const char *path, const char *value)
{
	ProtobufCMessage *m;
	const ProtobufCFieldDescriptor *f = resolve(root, path, &m);
	size_t *n;
	char ***arr;

	if (f->label != PROTOBUF_C_LABEL_REPEATED || f->type != PROTOBUF_C_TYPE_STRING)
		die("%s is not a repeated string", path);
	n = (size_t *)((char *)m + f->quantifier_offset);
	arr = (char ***)((char *)m + f->offset);
	if (!(*arr = realloc(*arr, (*n + 1) * sizeof **arr)))
		die("out of memory%s", "");
	(*arr)[(*n)++] = strdup(value);
}

int main(int argc, char **argv)
{
	size_t len, n;
	unsigned char *data, *out;
	Fp__Bundle *b;
	FILE *f;
	int i;

	if (argc < 3) {
		fprintf(stderr, "usage: bundle_edit IN OUT [set PATH VALUE | unset PATH | "
			"append PATH VALUE]...\n");
		return 1;
	}
	data = slurp(argv[1], &len);
	if (!(b = fp__bundle__unpack(NULL, len, data)))
		die("%s does not decode", argv[1]);
	free(data);
	for (i = 3; i < argc;) {
		if (!strcmp(argv[i], "set") && i + 2 < argc) {
			edit_set(&b->base, argv[i + 1], argv[i + 2]);
			i += 3;
		} else if (!strcmp(argv[i], "append") && i + 2 < argc) {
			edit_append(&b->base, argv[i + 1], argv[i + 2]);
			i += 3;
		} else if (!strcmp(argv[i], "unset") && i + 1 < argc) {
			edit_unset(&b->base, argv[i + 1]);
			i += 2;
		} else {
			die("bad edit at \"%s\"", argv[i]);
		}
	}
	n = fp__bundle__get_packed_size(b);
	out = malloc(n ? n : 1);
	if (!out || fp__bundle__pack(b, out) != n)
		die("cannot pack%s", "");
	if (!(f = fopen(argv[2], "wb")) || fwrite(out, 1, n, f) != n || fclose(f))
		die("cannot write %s", argv[2]);
	fp__bundle__free_unpacked(b, NULL);
	free(out);
	return 0;
}
