#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# tests/man: the manual pages. `make install` into a scratch DESTDIR puts
# fpc(1), fpc(5), fp-apid(8) and fp-tokend(8) under share/man; each
# installed page renders with `man --warnings -l` without one warning (a
# broken copy shows that the check can fail); man finds them by MANPATH;
# fpc(1) names every command and option `fpc --help` lists, the daemons'
# pages every option their --help lists; and the required sections are there.
. "$(dirname "$0")/../lib.sh"
cd "$TOP"

dest=$SCRATCH/dest
man_dir=$dest/usr/share/man
pages="man1/fpc.1 man5/fpc.5 man8/fp-apid.8 man8/fp-tokend.8"

# render FILE OUT ERR: the page as man shows it at 80 columns
render() {
	LC_ALL=C.UTF-8 MANWIDTH=80 MAN_KEEP_FORMATTING= man --warnings -l "$1" >"$2" 2>"$3"
}

# -o all: install what $B holds as it is (an ASan build stays one)
if make -s -o all B="$B" DESTDIR="$dest" PREFIX=/usr install >"$SCRATCH/install.log" 2>&1; then
	pass man/make-install
else
	tail -5 "$SCRATCH/install.log"
	fail man/make-install "make install failed"
fi

for p in $pages; do
	f=$man_dir/$p name=${p#*/}
	if [ ! -f "$f" ]; then
		fail "man/$name-installed" "$f is missing"
		continue
	fi
	if [ "$(stat -c %a "$f")" = 644 ] && cmp -s "$f" "docs/man/$name"; then
		pass "man/$name-installed"
	else
		fail "man/$name-installed" "mode $(stat -c %a "$f") or content differs from docs/man/$name"
	fi
	render "$f" "$SCRATCH/$name.txt" "$SCRATCH/$name.err"
	if [ -s "$SCRATCH/$name.err" ]; then
		head -10 "$SCRATCH/$name.err"
		fail "man/$name-warnings" "man --warnings complains"
	elif ! grep -q '^NAME' "$SCRATCH/$name.txt" || [ "$(wc -l <"$SCRATCH/$name.txt")" -lt 40 ]; then
		fail "man/$name-warnings" "the page did not render: $(head -3 "$SCRATCH/$name.txt")"
	else
		pass "man/$name-warnings"
	fi
done

# the check can fail: a list left open and an unknown macro are warned about
sed -e '0,/^\.El$/{/^\.El$/d}' -e 's/^\.Pp$/.Pq/' docs/man/fpc.1 >"$SCRATCH/broken.1"
render "$SCRATCH/broken.1" "$SCRATCH/broken.txt" "$SCRATCH/broken.err"
if [ -s "$SCRATCH/broken.err" ]; then
	pass man/broken-page-warns
else
	fail man/broken-page-warns "man --warnings said nothing about a broken page"
fi

# man finds the installed pages by section
for q in "1 fpc" "5 fpc" "8 fp-apid" "8 fp-tokend"; do
	set -- $q
	got=$(MANPATH=$man_dir man -w "$1" "$2" 2>&1)
	if [ "$got" = "$man_dir/man$1/$2.$1" ]; then
		pass "man/find-$2.$1"
	else
		fail "man/find-$2.$1" "man -w $1 $2: $got"
	fi
done

# sections PAGE SECTION...: each section heading is in the rendered page
sections() {
	local name=$1 s missing=""
	shift
	for s in "$@"; do
		grep -qx "$s" "$SCRATCH/$name.txt" || missing="$missing '$s'"
	done
	if [ -z "$missing" ]; then
		pass "man/$name-sections"
	else
		fail "man/$name-sections" "missing:$missing"
	fi
}
sections fpc.1 NAME SYNOPSIS DESCRIPTION FILES SIGNALS "EXIT STATUS" EXAMPLES "SEE ALSO"
sections fpc.5 NAME SYNOPSIS DESCRIPTION FILES EXAMPLES DIAGNOSTICS "SEE ALSO"
sections fp-apid.8 NAME SYNOPSIS DESCRIPTION FILES SIGNALS "EXIT STATUS" EXAMPLES "SEE ALSO"
sections fp-tokend.8 NAME SYNOPSIS DESCRIPTION FILES SIGNALS "EXIT STATUS" EXAMPLES "SEE ALSO"

# documented PAGE WORD...: each word (a command, an option) is in the page's
# source as a macro argument (.Cm WORD, Fl -WORD)
documented() {
	local name=$1 w missing=""
	shift
	for w in "$@"; do
		case $w in
		--*) grep -qE "Fl -${w#--}( |$)" "docs/man/$name" || missing="$missing $w" ;;
		-*) grep -qE "Fl ${w#-}( |$)" "docs/man/$name" || missing="$missing $w" ;;
		*) grep -qE "Cm $w( |$)" "docs/man/$name" || missing="$missing $w" ;;
		esac
	done
	if [ -z "$missing" ]; then
		pass "man/$name-complete"
	else
		fail "man/$name-complete" "not documented:$missing"
	fi
}
# the commands are the second word of each usage line of fpc --help, the
# options every -x / --xyz on those lines
"$FPC" --help >"$SCRATCH/fpc.help" 2>&1
cmds=$(sed -n 's/^\(usage:\)\{0,1\} *fpc \([a-z][a-z-]*\).*/\2/p' "$SCRATCH/fpc.help" | sort -u)
opts=$(grep -E '^(usage:)? *fpc ' "$SCRATCH/fpc.help" |
	grep -oE '(^| |\[|\()--?[a-z][a-z-]*' | tr -d ' [(' | sort -u)
if [ "$(echo "$cmds" | wc -w)" -ge 10 ]; then
	documented fpc.1 $cmds $opts
else
	fail man/fpc.1-complete "fpc --help lists too few commands: $cmds"
fi
for d in fp-apid fp-tokend; do
	"$B/$d" --help >"$SCRATCH/$d.help" 2>&1
	documented "$d.8" $(grep -oE '(^| |\[|,)--?[a-zA-Z][a-z-]*' "$SCRATCH/$d.help" |
		tr -d ' [,' | grep -vx -- '--help' | sort -u)
done

# every file a compile writes is in fpc(1)'s FILES
"$FPC" policies/default.fp -o "$SCRATCH/compiled" >"$SCRATCH/compiled.out" 2>&1
missing=""
for f in $(sed -n 's|^wrote .*/\([^/ ]*\) ([0-9]* bytes)$|\1|p' "$SCRATCH/compiled.out"); do
	sed -n '/^\.Sh FILES/,/^\.Sh /p' docs/man/fpc.1 | grep -qE "^\.It Pa ([^ ]* , )*$f( |$)" ||
		missing="$missing $f"
done
if [ -z "$missing" ] && grep -q '^wrote ' "$SCRATCH/compiled.out"; then
	pass man/fpc.1-files
else
	fail man/fpc.1-files "not in FILES:$missing"
fi

# every `$ fpc` example of fpc(1) whose files exist here runs (0, or 1 for
# a diff that finds a change), from a scratch copy of the tree's policies
mkdir -p "$SCRATCH/ex" && cp -r policies "$SCRATCH/ex/"
n=0 bad=0
while IFS= read -r line; do
	cmd=${line#\$ } prev=
	for w in $cmd; do	# skip an example naming a file that is not here
		case $prev:$w in -o:*) ;; *:*/*|*:*.fp) [ -e "$SCRATCH/ex/$w" ] || continue 2 ;; esac
		prev=$w
	done
	n=$((n + 1))
	# shellcheck disable=SC2086 # the example's words
	(cd "$SCRATCH/ex" && PATH=$B:$PATH timeout 60 $cmd) >"$SCRATCH/ex.out" 2>&1
	rc=$?
	if [ "$rc" -gt 1 ]; then
		echo "example exits $rc: $cmd"; head -3 "$SCRATCH/ex.out"
		bad=$((bad + 1))
	fi
done < <(sed -n '/^\.Sh EXAMPLES/,/^\.Sh /p' docs/man/fpc.1 | grep '^\$ fpc ')
if [ "$n" -ge 4 ] && [ "$bad" -eq 0 ]; then
	pass "man/fpc.1-examples-run ($n)"
else
	fail man/fpc.1-examples-run "$bad of $n examples failed"
fi
