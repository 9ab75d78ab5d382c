#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# tests/report: `fpc report POLICY [-o FILE] [--format html|svg|dot]`.
# The page of policies/default.fp is checked in a real browser: headless
# Chromium (Debian's chromium) loads it from a file:// URL with every network
# feature off and a fresh profile, takes a screenshot, and the console must
# stay silent (a script error, a console message, or a resource the page's
# Content-Security-Policy blocks would print a CONSOLE line); the DOM after
# the scripts ran must carry the mark the page's script sets last. Two
# broken copies (a script error, an external resource) prove the check
# fails. The SVG and DOT outputs are goldens, the page is checked for what it
# must show (it holds every artifact's hash, so it is no golden); a failing
# policy still gets its page, with the counterexample, and exit 1.
# REGEN=1 also rewrites docs/report.png, the screenshot the README shows.
. "$(dirname "$0")/../lib.sh"
cd "$TOP"
dir=tests/report

golden_run report/default-dot 0 $dir/default.dot "$FPC" report policies/default.fp --format dot
golden_run report/default-svg 0 $dir/default.svg "$FPC" report policies/default.fp --format svg
# a policy that fails an invariant still gets its page, with exit 1
cp tests/prove/allow_api.fp "$SCRATCH/allow_api.fp"
(cd "$SCRATCH" && "$FPC" report allow_api.fp -o fails.html) >"$SCRATCH/fails.out" 2>&1
rc=$?
if [ "$rc" -eq 1 ] && grep -qx 'wrote fails.html ([0-9]* bytes)' "$SCRATCH/fails.out" &&
	grep -q '^invariant no_recursive_spawn: FAILS$' "$SCRATCH/fails.out" &&
	[ "$(tail -1 "$SCRATCH/fails.out")" = "fpc: error: allow_api.fp does not prove; the report shows why" ]; then
	pass report/fails-write
else
	cat "$SCRATCH/fails.out" | head -5
	fail report/fails-write "exit $rc, want 1, the page written and why it fails"
fi
golden_run report/usage-format 2 $dir/usage-format.out "$FPC" report policies/default.fp --format png
golden_run report/usage-missing 2 $dir/usage-missing.out "$FPC" report
golden_run report/missing-file 1 $dir/missing-file.out "$FPC" report no-such.fp

# the page: written atomically (stdout and -o agree), deterministic
if "$FPC" report policies/default.fp -o "$SCRATCH/default.html" >"$SCRATCH/w.out" &&
	"$FPC" report policies/default.fp >"$SCRATCH/stdout.html" &&
	cmp -s "$SCRATCH/default.html" "$SCRATCH/stdout.html" &&
	grep -qx "wrote $SCRATCH/default.html ([0-9]* bytes)" "$SCRATCH/w.out" &&
	! ls "$SCRATCH" | grep -q tmp; then
	pass report/write
else
	fail report/write "-o and stdout differ, no 'wrote' line, or a temporary file left"
fi
# (the page itself is not a golden: it holds every artifact's hash; what it
# must show is checked below, and the two runs above give the same bytes)

# what the page must hold: a coloured cell per cell, the graph's edges, the
# invariant proved, the rules of a cell with its policy line, every artifact
# has () PATTERN FILE: PATTERN (an ERE) is in FILE, else say which is missing
has() {
	grep -qE -- "$1" "$2" || { echo "missing /$1/ in $2"; return 1; }
}
page=$SCRATCH/default.html
# the cells of the trust table of policies/default.fp, counted from its text
cells() { awk '/^trust \{/ { t = 1; next } t && /^\}/ { t = 0 } t && h++ { for (i = 2; i <= NF && $i != "#"; i++) print $i }' policies/default.fp | grep -cx -- "$1"; }
allow=$(cells allow) deny=$(cells deny) none=$(cells -)
if [ "$allow" -gt 0 ] && [ "$deny" -gt 0 ] &&
	[ "$(grep -o '<td class="allow">' "$page" | wc -l)" -eq "$allow" ] &&
	[ "$(grep -o '<td class="deny">' "$page" | wc -l)" -eq "$deny" ] &&
	[ "$(grep -o '<td class="none">' "$page" | wc -l)" -eq "$none" ] &&
	[ "$(grep -o '<path data-src=' "$page" | wc -l)" -eq "$allow" ] &&
	has 'no_recursive_spawn <span class="badge ok">proved</span>' "$page" &&
	has 'inet flashpods output rule [0-9]+: meta skuid 990 oifname "lo" tcp dport [{] 873, 8080 [}] reject with tcp reset' "$page" &&
	has 'policies/default.fp:[0-9]+: <code>containers deny   deny' "$page" &&
	has '<td><code>policy.pb</code></td>' "$page" &&
	has '<td><code>privileges.json</code></td>' "$page" &&
	has "a unix socket\): the mount lists give privilege agent.s containers /run/flashpods/token.sock" "$page" &&
	has "laptop. reaches through unix socket /run/flashpods/token.sock: its owner and mode" "$page"; then
	pass report/content
else
	fail report/content "the page lacks a part (see above)"
fi
fails=$SCRATCH/fails.html
if has 'no_recursive_spawn <span class="badge bad">FAILS</span>' "$fails" &&
	has 'counterexample: tcp 192.0.2.1:40000 -&gt; 10.0.0.1:8080' "$fails" &&
	has '<span class="badge bad">FAILS</span> 1 of [0-9]+ invariant clauses' "$fails"; then
	pass report/fails-content
else
	fail report/fails-content "the failing policy's page does not show the counterexample"
fi
# text from the policy is escaped: an invariant's text and a path cannot
# become markup
sed -e 's|"Job containers can never call POST /jobs or access rsync"|"<script>alert(1)</script> \&amp; <b>"|' \
	-e 's|^service token *unix "[^"]*"|service token unix "/run/a<b>\&c.sock"|' \
	policies/default.fp >"$SCRATCH/markup.fp"
"$FPC" report "$SCRATCH/markup.fp" -o "$SCRATCH/markup.html" >/dev/null 2>&1
if grep -q '&lt;script&gt;alert(1)&lt;/script&gt; &amp;amp; &lt;b&gt;' "$SCRATCH/markup.html" &&
	grep -q 'unix /run/a&lt;b&gt;&amp;c.sock' "$SCRATCH/markup.html" &&
	! grep -q '<script>alert' "$SCRATCH/markup.html" && ! grep -q '<b>' "$SCRATCH/markup.html"; then
	pass report/escaped
else
	fail report/escaped "policy text reached the page unescaped (or the policy did not load)"
fi

# self-contained: no URL but the SVG namespace
if grep -oE '(https?|ftp)://[^"'"'"' )<]*' "$page" | grep -vx 'http://www.w3.org/2000/svg' | grep -q .; then
	fail report/self-contained "$(grep -oE 'https?://[^" ]*' "$page" | sort -u | tr '\n' ' ')"
else
	pass report/self-contained
fi

# browser FILE NAME: load FILE in headless Chromium, screenshot into
# $SCRATCH/NAME.png, the browser's log in NAME.log, the DOM in NAME.dom
browser() {
	local file=$1 name=$2
	rm -rf "$SCRATCH/profile-$name"
	timeout 90 chromium --headless --no-sandbox --disable-gpu --disable-quic \
		--no-first-run --disable-background-networking --disable-component-update \
		--disable-sync --user-data-dir="$SCRATCH/profile-$name" \
		--enable-logging=stderr --v=0 --hide-scrollbars --window-size=1280,1000 \
		--screenshot="$SCRATCH/$name.png" "file://$file" \
		>/dev/null 2>"$SCRATCH/$name.log" || return 1
	rm -rf "$SCRATCH/profile-$name"
	timeout 90 chromium --headless --no-sandbox --disable-gpu --disable-quic \
		--no-first-run --disable-background-networking --disable-component-update \
		--disable-sync --user-data-dir="$SCRATCH/profile-$name" \
		--dump-dom "file://$file" >"$SCRATCH/$name.dom" 2>/dev/null
}

# png_size FILE: "WIDTHxHEIGHT" from a PNG's IHDR, or nothing if not a PNG
png_size() {
	[ "$(head -c 8 "$1" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] || return 1
	echo "$((16#$(od -An -tx1 -j16 -N4 "$1" | tr -d ' \n')))x$((16#$(od -An -tx1 -j20 -N4 "$1" | tr -d ' \n')))"
}

if ! command -v chromium >/dev/null; then
	fail report/chromium "chromium is not installed (apt-get install chromium)"
	exit 1
fi
if ! browser "$page" page; then
	tail -5 "$SCRATCH/page.log"
	fail report/chromium "chromium failed"
elif grep -q ':CONSOLE' "$SCRATCH/page.log"; then
	grep ':CONSOLE' "$SCRATCH/page.log" | head -5
	fail report/chromium "the page logged to the console"
elif [ "$(png_size "$SCRATCH/page.png")" != 1280x1000 ]; then
	fail report/chromium "no 1280x1000 screenshot: $(png_size "$SCRATCH/page.png")"
elif ! grep -q 'data-ready="yes"' "$SCRATCH/page.dom"; then
	fail report/chromium "the page's script did not run to its end"
else
	pass report/chromium
fi
# the failing policy's page and the one with markup load cleanly too
for extra in fails markup; do
	if browser "$SCRATCH/$extra.html" "$extra" && ! grep -q ':CONSOLE' "$SCRATCH/$extra.log" &&
		grep -q 'data-ready="yes"' "$SCRATCH/$extra.dom"; then
		pass "report/chromium-$extra"
	else
		grep ':CONSOLE' "$SCRATCH/$extra.log" | head -3
		fail "report/chromium-$extra" "the page did not load cleanly"
	fi
done
# the check fails on a script error and on an external resource
sed 's|</body>|<script>console.error("x"); no_such_function();</script></body>|' "$page" >"$SCRATCH/bad-js.html"
sed 's|</body>|<img src="http://192.0.2.1/x.png"></body>|' "$page" >"$SCRATCH/bad-net.html"
for bad in bad-js bad-net; do
	browser "$SCRATCH/$bad.html" "$bad"
	if grep -q ':CONSOLE' "$SCRATCH/$bad.log"; then
		pass "report/chromium-catches-$bad"
	else
		fail "report/chromium-catches-$bad" "no console line for a broken page"
	fi
done
if [ -n "${REGEN:-}" ] && [ -s "$SCRATCH/page.png" ]; then
	cp "$SCRATCH/page.png" docs/report.png
fi
if [ "$(png_size docs/report.png)" = 1280x1000 ]; then
	pass report/readme-screenshot
else
	fail report/readme-screenshot "docs/report.png is missing (REGEN=1 bash tests/report/run.sh)"
fi
