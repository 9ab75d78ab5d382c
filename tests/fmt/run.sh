#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# tests/fmt: `fpc fmt` prints NAME.fp exactly as NAME.out; formatting that
# output changes nothing; policies/default.fp is already formatted; and for
# every policy of the tests, fmt is idempotent and keeps the meaning (fpc
# check of the formatted text gives the same result). `fmt --check` names
# the files not in normal form and writes nothing; `fmt -w` rewrites them
# in place, atomically; the one-line examples of the docs are formatted.
. "$(dirname "$0")/../lib.sh"
cd "$TOP/tests/fmt"

for f in *.fp; do
	name=${f%.fp}
	if ! "$FPC" fmt "$f" >"$SCRATCH/$name.out" 2>"$SCRATCH/$name.err"; then
		head -5 "$SCRATCH/$name.err"
		fail "fmt/$name" "fpc fmt failed"
		continue
	fi
	golden "fmt/$name" "$name.out" "$SCRATCH/$name.out"
	"$FPC" fmt "$name.out" >"$SCRATCH/$name.again" 2>&1
	if cmp -s "$SCRATCH/$name.out" "$SCRATCH/$name.again"; then
		pass "fmt/$name:idempotent"
	else
		diff -u "$SCRATCH/$name.out" "$SCRATCH/$name.again" | head -20
		fail "fmt/$name:idempotent" "fmt of the output differs"
	fi
done

cd "$TOP"
if "$FPC" fmt policies/default.fp >"$SCRATCH/default.fp" && cmp -s policies/default.fp "$SCRATCH/default.fp"; then
	pass fmt/default-is-formatted
else
	diff -u policies/default.fp "$SCRATCH/default.fp" | head -20
	fail fmt/default-is-formatted "fpc fmt policies/default.fp differs from the file"
fi

# fmt keeps the meaning: same check verdict before and after, and the
# formatted text formats to itself
n=0 bad=0
for f in policies/*.fp tests/compile/*.fp tests/fail/*.fp; do
	[ -f "$f" ] || continue
	n=$((n + 1))
	"$FPC" fmt "$f" >"$SCRATCH/x.fp" 2>/dev/null || continue
	"$FPC" fmt "$SCRATCH/x.fp" >"$SCRATCH/y.fp" 2>/dev/null
	"$FPC" check "$f" >/dev/null 2>&1; a=$?
	"$FPC" check "$SCRATCH/x.fp" >/dev/null 2>&1; b=$?
	if ! cmp -s "$SCRATCH/x.fp" "$SCRATCH/y.fp" || [ "$a" -ne "$b" ]; then
		echo "fmt changes $f (check $a -> $b, or not idempotent)"
		bad=$((bad + 1))
	fi
done
if [ "$bad" -eq 0 ]; then
	pass "fmt/keeps-meaning ($n policies)"
else
	fail fmt/keeps-meaning "$bad of $n policies"
fi

# --check: names the files not in normal form, exit 1, writes nothing;
# exit 0 when all are
mkdir -p "$SCRATCH/chk"
cp tests/fmt/messy.fp "$SCRATCH/chk/messy.fp"
cp policies/default.fp "$SCRATCH/chk/good.fp"
cp tests/fmt/comments.fp "$SCRATCH/chk/comments.fp"
sums() { (cd "$SCRATCH/chk" && ls -l --time-style=+%s && md5sum ./*); }
before=$(sums)
(cd "$SCRATCH/chk" && "$FPC" fmt --check good.fp messy.fp comments.fp) >"$SCRATCH/check.out" 2>&1
rc=$?
if [ "$rc" -eq 1 ] && [ "$(cat "$SCRATCH/check.out")" = "$(printf 'messy.fp\ncomments.fp')" ] &&
	[ "$before" = "$(sums)" ]; then
	pass fmt/check-names-files
else
	fail fmt/check-names-files "exit $rc: $(cat "$SCRATCH/check.out"), or a file changed"
fi
if (cd "$SCRATCH/chk" && "$FPC" fmt --check good.fp) >"$SCRATCH/check.out" 2>&1 && [ ! -s "$SCRATCH/check.out" ]; then
	pass fmt/check-clean
else
	fail fmt/check-clean "$(cat "$SCRATCH/check.out")"
fi

# -w: rewrites in place (the files fmt would print), keeps the mode, leaves
# a formatted file untouched (same inode and mtime), follows a symlink
# (which stays a link), names what it rewrote; then --check is clean
chmod 0640 "$SCRATCH/chk/messy.fp"
ln -s comments.fp "$SCRATCH/chk/link.fp"
"$FPC" fmt tests/fmt/messy.fp >"$SCRATCH/messy.want"
"$FPC" fmt tests/fmt/comments.fp >"$SCRATCH/comments.want"
good_before=$(stat -c '%i %Y' "$SCRATCH/chk/good.fp")
(cd "$SCRATCH/chk" && "$FPC" fmt -w good.fp messy.fp link.fp) >"$SCRATCH/w.out" 2>&1
rc=$?
if [ "$rc" -eq 0 ] && [ "$(cat "$SCRATCH/w.out")" = "$(printf 'messy.fp\nlink.fp')" ] &&
	cmp -s "$SCRATCH/chk/messy.fp" "$SCRATCH/messy.want" &&
	cmp -s "$SCRATCH/chk/comments.fp" "$SCRATCH/comments.want" &&
	[ -L "$SCRATCH/chk/link.fp" ] &&
	[ "$(stat -c %a "$SCRATCH/chk/messy.fp")" = 640 ] &&
	[ "$(stat -c '%i %Y' "$SCRATCH/chk/good.fp")" = "$good_before" ] &&
	[ -z "$(ls -A "$SCRATCH/chk" | grep -v -e '^good.fp$' -e '^messy.fp$' -e '^comments.fp$' -e '^link.fp$')" ] &&
	(cd "$SCRATCH/chk" && "$FPC" fmt --check good.fp messy.fp comments.fp >/dev/null); then
	pass fmt/write-in-place
else
	echo "exit $rc: $(cat "$SCRATCH/w.out")"; ls -la "$SCRATCH/chk"
	fail fmt/write-in-place "not rewritten as fmt prints it, mode/link lost, or leftovers"
fi

# -w is atomic: the file is replaced by rename (a new inode), so a reader
# holding the old file sees all of the old text; a directory it cannot
# write into leaves the file as it was, with a message and exit 1
cp tests/fmt/messy.fp "$SCRATCH/chk/atomic.fp"
exec 7<"$SCRATCH/chk/atomic.fp"
ino=$(stat -c %i "$SCRATCH/chk/atomic.fp")
"$FPC" fmt -w "$SCRATCH/chk/atomic.fp" >/dev/null 2>&1
if [ "$(stat -c %i "$SCRATCH/chk/atomic.fp")" != "$ino" ] && cmp -s - tests/fmt/messy.fp <&7; then
	pass fmt/write-atomic
else
	fail fmt/write-atomic "the file was rewritten in place, not replaced"
fi
exec 7<&-
mkdir "$SCRATCH/ro" && cp tests/fmt/messy.fp "$SCRATCH/ro/messy.fp" && chmod 0555 "$SCRATCH/ro"
if [ "$(id -u)" -ne 0 ]; then
	"$FPC" fmt -w "$SCRATCH/ro/messy.fp" >"$SCRATCH/ro.out" 2>&1
elif chattr +i "$SCRATCH/ro" 2>/dev/null; then
	# root writes anywhere: an immutable directory stops it
	"$FPC" fmt -w "$SCRATCH/ro/messy.fp" >"$SCRATCH/ro.out" 2>&1
else
	# or, where the file system has no such attribute, a read-only mount
	unshare -m sh -c 'mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" &&
		exec "$2" fmt -w "$1/messy.fp"' sh "$SCRATCH/ro" "$FPC" >"$SCRATCH/ro.out" 2>&1
fi
rc=$?
chattr -i "$SCRATCH/ro" 2>/dev/null; chmod 0755 "$SCRATCH/ro"
if [ "$rc" -eq 1 ] && cmp -s "$SCRATCH/ro/messy.fp" tests/fmt/messy.fp &&
	grep -q "^fpc: error: cannot write $SCRATCH/ro/messy.fp: " "$SCRATCH/ro.out" &&
	[ "$(ls -A "$SCRATCH/ro")" = messy.fp ]; then
	pass fmt/write-fails-cleanly
else
	fail fmt/write-fails-cleanly "exit $rc: $(cat "$SCRATCH/ro.out")"
fi

# usage: what was wrong, then fmt's usage line only
for args in "" "--check" "-x a.fp" "--check -w a.fp" "a.fp b.fp"; do
	# shellcheck disable=SC2086 # the words of the case
	"$FPC" fmt $args >"$SCRATCH/u.out" 2>&1
	rc=$?
	if [ "$rc" -eq 2 ] && [ "$(wc -l <"$SCRATCH/u.out")" -eq 2 ] &&
		grep -q '^fpc fmt: error: ' "$SCRATCH/u.out" &&
		[ "$(tail -1 "$SCRATCH/u.out")" = 'usage: fpc fmt [--check | -w] POLICY...' ]; then
		pass "fmt/usage '$args'"
	else
		fail "fmt/usage '$args'" "exit $rc: $(cat "$SCRATCH/u.out")"
	fi
done

# every one-line policy example in the docs is in normal form: each run
# of consecutive one-line declarations in a ``` block (a line that starts
# a declaration and ends in ';' or '}'), formatted as a whole, is itself
n=0 bad=0
awk -v out="$SCRATCH/ex." '
	/^```/ { inb = !inb; if (f) { close(f); f = "" } next }
	inb && /^(source|service|policy|identity|mount|trust_domain|invariant|privilege) .*[;}]$/ {
		if (!f) f = out (++k) ".fp"
		print > f; next
	}
	{ if (f) { close(f); f = "" } }
' README.md docs/*.md
for ex in "$SCRATCH"/ex.*.fp; do
	"$FPC" fmt "$ex" >"$ex.out" 2>/dev/null || continue
	n=$((n + 1))
	if ! cmp -s "$ex" "$ex.out"; then
		echo "not in normal form:"; cat "$ex"; echo "fmt prints:"; cat "$ex.out"
		bad=$((bad + 1))
	fi
done
if [ "$n" -ge 5 ] && [ "$bad" -eq 0 ]; then
	pass "fmt/docs-examples ($n runs of one-line examples)"
else
	fail fmt/docs-examples "$bad of $n runs of one-line examples are not in normal form"
fi
