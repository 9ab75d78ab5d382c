/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * wire.c: the loader's first pass (bundle_int.h). Before protobuf-c decodes
 * a bundle, a walk over its encoding, driven by the generated descriptors,
 * finds truncation, bad wire types, unknown or repeated fields and strings
 * that are not UTF-8 or hold NUL, and names the field by its path
 * ("privileges[0].grants[1]: truncated at byte 672").
 */
#include "bundle_int.h"

#include "policy.pb-c.h"

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
		uint8_t c = p[i];
		size_t k;
		uint32_t cp;

		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			k = 1, cp = c & 0x1f;
		else if (c >= 0xe0 && c <= 0xef)
			k = 2, cp = c & 0x0f;
		else if (c >= 0xf0 && c <= 0xf4)
			k = 3, cp = c & 0x07;
		else
			return false;
		if (n - i <= k)
			return false;
		for (size_t j = 1; j <= k; j++) {
			if ((p[i + j] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (p[i + j] & 0x3f);
		}
		if ((k == 2 && cp < 0x800) || (k == 3 && cp < 0x10000) ||
		    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
			return false;
		i += k + 1;
	}
	return true;
}

static bool wire_msg(Ld *ld, const ProtobufCMessageDescriptor *d,
		     const uint8_t *p, size_t len, size_t base,
		     const char *path, int depth);

/* Check one length-delimited field body (string, bytes, message or packed
 * scalars) of field f at p[0..n). */
static bool wire_body(Ld *ld, const ProtobufCFieldDescriptor *f,
		      const uint8_t *p, size_t n, size_t base,
		      const char *fpath, int depth)
{
	switch (f->type) {
	case PROTOBUF_C_TYPE_STRING:
		if (memchr(p, '\0', n))
			return bundle_fail(ld, "%s: holds a NUL byte", fpath);
		if (!utf8_ok(p, n))
			return bundle_fail(ld, "%s: is not UTF-8", fpath);
		return true;
	case PROTOBUF_C_TYPE_BYTES:
		return true;
	case PROTOBUF_C_TYPE_MESSAGE:
		return wire_msg(ld, f->descriptor, p, n, base, fpath, depth + 1);
	default:
		if (f->label != PROTOBUF_C_LABEL_REPEATED)
			return bundle_fail(ld, "%s: wrong wire type at byte %zu", fpath, base);
		for (size_t pos = 0; pos < n;) {	/* packed scalars */
			uint64_t v;

			if (wire_type_of(f->type) == 0) {
				if (!wire_varint(p, n, &pos, &v))
					return bundle_fail(ld, "%s: truncated packed value at byte %zu",
						    fpath, base + pos);
			} else {
				size_t w = wire_type_of(f->type) == 1 ? 8 : 4;

				if (n - pos < w)
					return bundle_fail(ld, "%s: truncated packed value at byte %zu",
						    fpath, base + pos);
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
		     const char *path, int depth)
{
	unsigned seen[32] = { 0 };	/* occurrences per field index */
	const char *where = *path ? path : "bundle";	/* for messages */
	size_t pos = 0;

	if (depth > MAX_DEPTH)
		return bundle_fail(ld, "%s: nested too deeply", where);
	while (pos < len) {
		size_t at = pos;
		uint64_t tag, v;
		const ProtobufCFieldDescriptor *f;
		char fpath[256];
		unsigned idx;

		if (!wire_varint(p, len, &pos, &tag))
			return bundle_fail(ld, "%s: truncated at byte %zu", where, base + at);
		if (tag >> 3 == 0 || tag >> 3 > 536870911)
			return bundle_fail(ld, "%s: invalid field number at byte %zu", where,
				    base + at);
		f = protobuf_c_message_descriptor_get_field(d, (unsigned)(tag >> 3));
		if (!f)
			return bundle_fail(ld, "%s: unknown field %llu at byte %zu (from a newer fpc?)",
				    where, (unsigned long long)(tag >> 3), base + at);
		idx = (unsigned)(f - d->fields);
		if (idx >= 32)
			BUG("message %s has more than 32 fields", d->name);
		if (f->label == PROTOBUF_C_LABEL_REPEATED)
			snprintf(fpath, sizeof fpath, "%s%s%s[%u]", path,
				 *path ? "." : "", f->name, seen[idx]);
		else
			snprintf(fpath, sizeof fpath, "%s%s%s", path,
				 *path ? "." : "", f->name);
		if (seen[idx]++ && f->label != PROTOBUF_C_LABEL_REPEATED)
			return bundle_fail(ld, "%s: appears twice", fpath);
		switch (tag & 7) {
		case 0:
			if (wire_type_of(f->type) != 0)
				return bundle_fail(ld, "%s: wrong wire type at byte %zu", fpath,
					    base + at);
			if (!wire_varint(p, len, &pos, &v))
				return bundle_fail(ld, "%s: truncated at byte %zu", fpath,
					    base + at);
			break;
		case 1:
		case 5: {
			size_t w = (tag & 7) == 1 ? 8 : 4;

			if (wire_type_of(f->type) != (tag & 7))
				return bundle_fail(ld, "%s: wrong wire type at byte %zu", fpath,
					    base + at);
			if (len - pos < w)
				return bundle_fail(ld, "%s: truncated at byte %zu", fpath,
					    base + at);
			pos += w;
			break;
		}
		case 2:
			if (!wire_varint(p, len, &pos, &v) || v > len - pos)
				return bundle_fail(ld, "%s: truncated at byte %zu (the file ends "
					    "inside this field)", fpath, base + at);
			if (!wire_body(ld, f, p + pos, (size_t)v, base + pos, fpath,
				       depth))
				return false;
			pos += (size_t)v;
			break;
		default:
			return bundle_fail(ld, "%s: invalid wire type %u at byte %zu", fpath,
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
	return wire_msg(ld, &fp__bundle__descriptor, p, len, 0, "", 0);
}
