#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# tests/cli: fpc's command line: --version, --help, usage errors (exit 2),
# unreadable files (exit 1, a clear message), and the good path (exit 0).
. "$(dirname "$0")/../lib.sh"
cd "$TOP"

# run NAME STATUS PATTERN COMMAND...: want exit STATUS and PATTERN (an ERE)
# somewhere in stdout+stderr.
run() {
	local name=$1 want=$2 pat=$3 rc
	shift 3
	(cd "$SCRATCH" && timeout 60 "$@") >"$SCRATCH/out" 2>&1
	rc=$?
	if [ "$rc" -ne "$want" ]; then
		head -5 "$SCRATCH/out"
		fail "cli/$name" "exit status $rc, want $want"
	elif ! grep -qE -- "$pat" "$SCRATCH/out"; then
		head -5 "$SCRATCH/out"
		fail "cli/$name" "output lacks /$pat/"
	else
		pass "cli/$name"
	fi
}

cp policies/default.fp "$SCRATCH/default.fp"
mkdir "$SCRATCH/dir.fp"
printf 'policy x {\n' >"$SCRATCH/bad.fp"

run version 0 '^fpc [0-9]+\.[0-9]+\.[0-9]+$' "$FPC" --version
run help 0 '^usage: fpc POLICY' "$FPC" --help
run help-short 0 'fpc check POLICY' "$FPC" -h
run no-arguments 2 '^usage: fpc' "$FPC"
run unknown-option 2 "unexpected argument '--frobnicate'" "$FPC" --frobnicate
run compile-two-policies 2 "unexpected argument" "$FPC" default.fp default.fp
run compile-o-without-dir 2 "unexpected argument '-o'" "$FPC" default.fp -o
run check-no-file 2 '^usage: fpc check POLICY' "$FPC" check
run check-two-files 2 '^usage: fpc check POLICY' "$FPC" check default.fp default.fp
run check-option 2 '^usage: fpc check POLICY' "$FPC" check --verbose
run fmt-no-file 2 '^usage: fpc fmt POLICY' "$FPC" fmt
run fmt-two-files 2 '^usage: fpc fmt POLICY' "$FPC" fmt default.fp default.fp
run check-missing 1 '^fpc: error: cannot read no-such\.fp: No such file or directory$' "$FPC" check no-such.fp
run fmt-missing 1 '^fpc: error: cannot read no-such\.fp: No such file or directory$' "$FPC" fmt no-such.fp
run compile-missing 1 '^fpc: error: cannot read no-such\.fp: No such file or directory$' "$FPC" no-such.fp -o out
run check-directory 1 'cannot read dir\.fp: Is a directory' "$FPC" check dir.fp
run check-syntax-error 1 '^bad\.fp:2:1: error: unexpected end of file' "$FPC" check bad.fp
run fmt-syntax-error 1 '^bad\.fp:2:1: error: unexpected end of file' "$FPC" fmt bad.fp
run check-default 0 '^default\.fp: ok' "$FPC" check default.fp
run fmt-default 0 '^policy flashpods \{$' "$FPC" fmt default.fp

# the good path prints exactly what it wrote, the rule count and the proof
golden_run cli/compile-default 0 tests/cli/compile-default.out \
	env -C "$SCRATCH" "$FPC" default.fp -o compiled

# a write that fails (a directory where privileges.json goes) exits 1 and
# leaves no temporary file behind
rm "$SCRATCH/compiled/privileges.json" && mkdir "$SCRATCH/compiled/privileges.json"
if (cd "$SCRATCH" && "$FPC" default.fp -o compiled) >"$SCRATCH/write-fail.out" 2>&1; then
	fail cli/compile-write-fails "exit 0: $(cat "$SCRATCH/write-fail.out")"
elif ls "$SCRATCH/compiled" | grep -q tmp; then
	fail cli/compile-write-fails "left behind: $(ls "$SCRATCH/compiled" | tr '\n' ' ')"
elif ! grep -q '^fpc: error: cannot write compiled/privileges.json: Is a directory$' "$SCRATCH/write-fail.out"; then
	fail cli/compile-write-fails "$(cat "$SCRATCH/write-fail.out")"
else
	pass cli/compile-write-fails
fi

# an error leaves nothing behind in the output directory
"$FPC" "$SCRATCH/bad.fp" -o "$SCRATCH/outdir" >/dev/null 2>&1
if [ -e "$SCRATCH/outdir" ] && [ -n "$(ls -A "$SCRATCH/outdir")" ]; then
	fail cli/compile-error-writes-nothing "$(ls "$SCRATCH/outdir")"
else
	pass cli/compile-error-writes-nothing
fi

# check and fmt write nothing: not into the working directory, not the policy
mkdir "$SCRATCH/quiet"
cp policies/default.fp "$SCRATCH/quiet/default.fp"
before=$(cd "$SCRATCH/quiet" && ls -lA --time-style=+%s && md5sum default.fp)
(cd "$SCRATCH/quiet" && "$FPC" check default.fp && "$FPC" fmt default.fp) >/dev/null 2>&1
after=$(cd "$SCRATCH/quiet" && ls -lA --time-style=+%s && md5sum default.fp)
if [ "$before" = "$after" ]; then
	pass cli/check-and-fmt-write-nothing
else
	fail cli/check-and-fmt-write-nothing "the directory changed: $(ls -A "$SCRATCH/quiet" | tr '\n' ' ')"
fi
