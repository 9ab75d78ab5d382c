#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# tests/cli: fpc's command line: --version, --help, usage errors (exit 2:
# what was wrong, then the usage line of that command only, did-you-mean
# for commands, options and values), unreadable files (exit 1, a clear
# message), and the good path (exit 0).
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
run unknown-option 2 "^fpc: error: unknown option '--frobnicate'" "$FPC" --frobnicate
run compile-two-policies 2 "^fpc: error: unexpected argument 'default.fp'" "$FPC" default.fp default.fp
run compile-o-without-dir 2 "^fpc: error: -o needs a value" "$FPC" default.fp -o
run check-no-file 2 '^usage: fpc check POLICY' "$FPC" check
run check-two-files 2 '^usage: fpc check POLICY' "$FPC" check default.fp default.fp
run check-option 2 '^usage: fpc check POLICY' "$FPC" check --verbose
run fmt-no-file 2 '^usage: fpc fmt \[--check \| -w\] POLICY' "$FPC" fmt
run fmt-two-files 2 '^usage: fpc fmt \[--check \| -w\] POLICY' "$FPC" fmt default.fp default.fp
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

# usage errors of every command: each case of usage.txt (ARGS...) exits 2
# and prints two lines, what was wrong and the usage line of that command,
# the same line `fpc COMMAND --help` starts with; all of them in usage.out
: >"$SCRATCH/usage.out"
bad=0 n=0
while read -r args; do
	case $args in ''|'#'*) continue ;; esac
	n=$((n + 1))
	# shellcheck disable=SC2086 # ARGS are words
	(cd "$SCRATCH" && "$FPC" $args) >"$SCRATCH/u.out" 2>&1
	rc=$?
	cmd=${args%% *}
	case $cmd in *.fp) want=$("$FPC" --help | head -1 | sed 's/^usage: //; s/^/usage: /') ;;
	*) want=$("$FPC" "$cmd" --help | head -1) ;; esac
	{ echo "\$ fpc $args"; cat "$SCRATCH/u.out"; } >>"$SCRATCH/usage.out"
	if [ "$rc" -ne 2 ] || [ "$(wc -l <"$SCRATCH/u.out")" -ne 2 ] ||
		[ "$(tail -1 "$SCRATCH/u.out")" != "$want" ] ||
		! head -1 "$SCRATCH/u.out" | grep -q '^fpc[ a-z-]*: error: '; then
		echo "fpc $args: exit $rc:"; cat "$SCRATCH/u.out"
		bad=$((bad + 1))
	fi
done <tests/cli/usage.txt
if [ "$bad" -eq 0 ]; then
	pass "cli/usage-errors ($n cases)"
else
	fail cli/usage-errors "$bad of $n cases"
fi
golden cli/usage-messages tests/cli/usage.out "$SCRATCH/usage.out"

# an unknown command: did-you-mean, the list of commands, exit 2
run unknown-command 2 "^fpc: error: unknown command 'chek'; did you mean 'check'\?" "$FPC" chek default.fp
run compile-is-not-a-command 2 "^fpc: error: 'compile' is not a command, nor a policy file" "$FPC" compile default.fp
run command-list 2 '^commands: check fmt diff report explain query verify apply verify-live dump' "$FPC" compile default.fp
run word-that-is-a-file 0 'default.fp: ok' "$FPC" check default.fp
# fpc COMMAND --help: that command's usage, exit 0
run diff-help 0 '^usage: fpc diff OLD NEW \[--format text\|json\|markdown\]$' "$FPC" diff --help
run query-help 0 '^usage: fpc query POLICY \(--iif NAME \| --uid UID\|USER\|none\)' "$FPC" query -h
# a cell value, a source and a service get a did-you-mean
printf 'policy p { table inet p; }\nsource a { via any; }\nservice s tcp 1;\ntrust {\n  s\n  a dney\n}\n' >"$SCRATCH/dney.fp"
run cell-did-you-mean 1 "^dney.fp:6:5-8: error: 'dney' is not a cell; did you mean 'deny'\?" "$FPC" check dney.fp
run explain-did-you-mean 1 "has no source 'contaners'; did you mean 'containers'\?" "$FPC" explain default.fp contaners api
run explain-service-did-you-mean 1 "has no service 'rsnyc'; did you mean 'rsync'\?" "$FPC" explain default.fp laptop rsnyc
