/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * wire.c: the loader's first pass (bundle_int.h). Before protobuf-c decodes
 * a bundle, a walk over its encoding, driven by the generated descriptors,
 * finds truncation, bad wire types, unknown or repeated fields and strings
 * that are not UTF-8 or hold NUL, and names the field by its path
 * ("privileges[0].grants[1]: truncated at byte 672"). It also counts the
 * list entries the decoder would allocate one by one (MAX_ENTRIES). The
 * path is built into text only when there is an error to report.
 */
#include "bundle_int.h"

#include "policy.pb-c.h"

#include <stdarg.h>

/* Read a varint at *pos (< len); false if it runs past len or 10 bytes. */
static bool wire_varint(const uint8_t *p, size_t len, size_t *pos, uint64_t *v)
{
	*v = 0;
	for (int shift = 0; shift < 70 && *pos < len; shift += 7) {
		uint8_t c = p[(*pos)++];

		*v |= (uint64_t)(c & 0x7f) << shift;
		if (!(c & 0x80))
			return true;
	}
	return false;
}

static bool wire_is_varint_type(ProtobufCType t)
{
	switch (t) {
	case PROTOBUF_C_TYPE_INT32: case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_INT64: case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_UINT32: case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_BOOL: case PROTOBUF_C_TYPE_ENUM:
		return true;
	default:
		return false;
	}
}

/* The wire type a field of type t is written with (0, 1, 2 or 5). */
static unsigned wire_type_of(ProtobufCType t)
{
	if (wire_is_varint_type(t))
		return 0;
	switch (t) {
	case PROTOBUF_C_TYPE_FIXED64: case PROTOBUF_C_TYPE_SFIXED64:
	case PROTOBUF_C_TYPE_DOUBLE:
		return 1;
	case PROTOBUF_C_TYPE_FIXED32: case PROTOBUF_C_TYPE_SFIXED32:
	case PROTOBUF_C_TYPE_FLOAT:
		return 5;
	default:
		return 2;
	}
}

/* Whether p[0..n) is well-formed UTF-8 (no overlongs, no surrogates,
 * nothing above U+10FFFF), as protobuf strings must be. */
static bool utf8_ok(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n;) {
		int len = utf8_len(p + i, n - i);

		if (!len)
			return false;
		i += (size_t)len;
	}
	return true;
}

/* Where a field sits: its name, its index if repeated, and its message's
 * place (NULL: the bundle). Kept on the stack while walking; turned into
 * text ("privileges[0].grants[1]") only for an error message. */
typedef struct WPath {
	const struct WPath *up;
	const char *name;
	unsigned ix;
	bool rep;
} WPath;

/* The text of w into out[WPATH_MAX] ("" for the bundle itself), each
 * level cut at WPATH_MAX - 1 bytes. */
enum { WPATH_MAX = 256 };

static const char *wpath_text(const WPath *w, char *out)
{
	char up[WPATH_MAX];
	const char *u;

	if (!w) {
		out[0] = '\0';
		return out;
	}
	u = wpath_text(w->up, up);
	if (w->rep)
		snprintf(out, WPATH_MAX, "%s%s%s[%u]", u, *u ? "." : "", w->name, w->ix);
	else
		snprintf(out, WPATH_MAX, "%s%s%s", u, *u ? "." : "", w->name);
	return out;
}

/* Fail the load with "PATH: message"; a NULL path is the bundle itself,
 * named "bundle". Always false. */
static bool wire_fail(Ld *ld, const WPath *w, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static bool wire_fail(Ld *ld, const WPath *w, const char *fmt, ...)
{
	char path[WPATH_MAX], msg[BUNDLE_ERR_MAX];
	va_list ap;

	if (ld->failed)
		return false;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	return bundle_fail(ld, "%s: %s", w ? wpath_text(w, path) : "bundle", msg);
}

static bool wire_msg(Ld *ld, const ProtobufCMessageDescriptor *d,
		     const uint8_t *p, size_t len, size_t base,
		     const WPath *path, int depth);

/* Check one length-delimited field body (string, bytes, message or packed
 * scalars) of field f at p[0..n), whose place is fpath. */
static bool wire_body(Ld *ld, const ProtobufCFieldDescriptor *f,
		      const uint8_t *p, size_t n, size_t base,
		      const WPath *fpath, int depth)
{
	switch (f->type) {
	case PROTOBUF_C_TYPE_STRING:
		if (memchr(p, '\0', n))
			return wire_fail(ld, fpath, "holds a NUL byte");
		if (!utf8_ok(p, n))
			return wire_fail(ld, fpath, "is not UTF-8");
		return true;
	case PROTOBUF_C_TYPE_BYTES:
		return true;
	case PROTOBUF_C_TYPE_MESSAGE:
		return wire_msg(ld, f->descriptor, p, n, base, fpath, depth + 1);
	default:
		if (f->label != PROTOBUF_C_LABEL_REPEATED)
			return wire_fail(ld, fpath, "wrong wire type at byte %zu", base);
		for (size_t pos = 0; pos < n;) {	/* packed scalars */
			uint64_t v;

			if (wire_type_of(f->type) == 0) {
				if (!wire_varint(p, n, &pos, &v))
					return wire_fail(ld, fpath, "truncated packed value at byte %zu",
							 base + pos);
			} else {
				size_t w = wire_type_of(f->type) == 1 ? 8 : 4;

				if (n - pos < w)
					return wire_fail(ld, fpath, "truncated packed value at byte %zu",
							 base + pos);
				pos += w;
			}
		}
		return true;
	}
}

/* Walk message d encoded at p[0..len) (file offset base): every field
 * known, of its wire type, in bounds, a non-repeated field at most once. */
static bool wire_msg(Ld *ld, const ProtobufCMessageDescriptor *d,
		     const uint8_t *p, size_t len, size_t base,
		     const WPath *path, int depth)
{
	unsigned seen[32] = { 0 };	/* occurrences per field index */
	const ProtobufCFieldDescriptor *f = NULL;	/* of the last tag */
	uint64_t last = 0;	/* the last field number, 0: none yet */
	unsigned idx = 0;
	size_t pos = 0;

	if (depth > MAX_DEPTH)
		return wire_fail(ld, path, "nested too deeply");
	while (pos < len) {
		size_t at = pos;
		uint64_t tag, v;
		WPath fpath;

		if (!wire_varint(p, len, &pos, &tag))
			return wire_fail(ld, path, "truncated at byte %zu", base + at);
		if (tag >> 3 == 0 || tag >> 3 > 536870911)
			return wire_fail(ld, path, "invalid field number at byte %zu", base + at);
		if (tag >> 3 != last) {	/* repeated fields come in runs */
			f = protobuf_c_message_descriptor_get_field(d, (unsigned)(tag >> 3));
			if (!f)
				return wire_fail(ld, path, "unknown field %llu at byte %zu (from a newer fpc?)",
						 (unsigned long long)(tag >> 3), base + at);
			idx = (unsigned)(f - d->fields);
			if (idx >= 32)
				BUG("message %s has more than 32 fields", d->name);
			last = tag >> 3;
		}
		fpath = (WPath){ path, f->name, seen[idx],
				 f->label == PROTOBUF_C_LABEL_REPEATED };
		if (seen[idx]++ && !fpath.rep)
			return wire_fail(ld, &fpath, "appears twice");
		if (fpath.rep && (tag & 7) == 2 && (f->type == PROTOBUF_C_TYPE_MESSAGE ||
		    f->type == PROTOBUF_C_TYPE_STRING) && ++ld->entries > MAX_ENTRIES)
			return wire_fail(ld, NULL, "more than %d list entries in all",
					 MAX_ENTRIES);
		switch (tag & 7) {
		case 0:
			if (wire_type_of(f->type) != 0)
				return wire_fail(ld, &fpath, "wrong wire type at byte %zu", base + at);
			if (!wire_varint(p, len, &pos, &v))
				return wire_fail(ld, &fpath, "truncated at byte %zu", base + at);
			break;
		case 1:
		case 5: {
			size_t w = (tag & 7) == 1 ? 8 : 4;

			if (wire_type_of(f->type) != (tag & 7))
				return wire_fail(ld, &fpath, "wrong wire type at byte %zu", base + at);
			if (len - pos < w)
				return wire_fail(ld, &fpath, "truncated at byte %zu", base + at);
			pos += w;
			break;
		}
		case 2:
			if (!wire_varint(p, len, &pos, &v) || v > len - pos)
				return wire_fail(ld, &fpath, "truncated at byte %zu (the file ends "
						 "inside this field)", base + at);
			if (!wire_body(ld, f, p + pos, (size_t)v, base + pos, &fpath,
				       depth))
				return false;
			pos += (size_t)v;
			break;
		default:
			return wire_fail(ld, &fpath, "invalid wire type %u at byte %zu",
					 (unsigned)(tag & 7), base + at);
		}
	}
	return true;
}

bool bundle_wire_check(Ld *ld, const uint8_t *p, size_t len)
{
	size_t pos = 1;
	uint64_t v;

	if (len == 0)
		return bundle_fail(ld, "empty, not a policy bundle");
	if (p[0] != 0x08)	/* field 1, varint: what fpc writes first */
		return bundle_fail(ld, "not a policy bundle (it does not begin with "
			    "format_version; first byte 0x%02x)", p[0]);
	if (!wire_varint(p, len, &pos, &v))
		return bundle_fail(ld, "format_version: truncated at byte 1");
	if (v != BUNDLE_FORMAT_VERSION)
		return bundle_fail(ld, "format_version: the bundle has format %llu, this "
			    "loader reads format %d (recompile the policy with a "
			    "matching fpc)", (unsigned long long)v,
			    BUNDLE_FORMAT_VERSION);
	return wire_msg(ld, &fp__bundle__descriptor, p, len, 0, NULL, 0);
}
