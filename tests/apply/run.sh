#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# tests/apply: fpc's netlink writer and reader against the kernel, in
# namespaces this suite makes (never the host's own ruleset).
#
#   - every hand-built Ruleset IR case (tests/tools/nlcase.c) loaded with the
#     netlink writer lists exactly as its nft text loaded with `nft -f`
#     (`nft list ruleset` and the expressions of `nft --debug=netlink`), and
#     reads back to the IR in CASE.read (golden);
#   - `fpc apply` of policies/default.fp and `nft -f flashpods.nft` list the
#     same; applying twice never duplicates and never touches other tables;
#   - a batch the kernel refuses leaves the old table and names the rule and
#     its policy line;
#   - --confirm-timeout restores the previous table verbatim (sets and all),
#     or removes a table that was not there; --confirm keeps the new one,
#     and so does "yes" at the prompt on a terminal;
#   - verify-live: clean, drift, expressions it cannot decode.
set -u
. "$(dirname "$0")/../lib.sh"
need_root apply
HERE=$(cd "$(dirname "$0")" && pwd)
TOP=${TOP:-$(cd "$HERE/../.." && pwd)}
B=${B:-$TOP/build}
FPC=${FPC:-$B/fpc}
NLCASE=$B/tools/nlcase
POLICY=$TOP/policies/default.fp

[ -x "$NLCASE" ] || { fail apply-tools "$NLCASE not built (make tools)"; exit 1; }

# nlnorm: `nft --debug=netlink list ruleset` without rule handles and with
# each set's elements sorted (a hash set dumps in a random-seeded order).
nlnorm() {
	awk '
	function flush() { if (n) { close("sort"); n = 0 } }
	/^\telement / { if (!n) fflush(); print | "sort"; n++; next }
	{ flush() }
	/^[a-z0-9]+ [^ ]+ [^ ]+ [0-9]+( [0-9]+)?$/ { print $1, $2, $3; next }
	{ print }
	END { flush() }'
}

# same NAME NS1 NS2: both namespaces list the same, in both forms.
same() {
	local name=$1 a=$2 b=$3
	ip netns exec "$a" nft list ruleset > "$SCRATCH/$name.a"
	ip netns exec "$b" nft list ruleset > "$SCRATCH/$name.b"
	if [ ! -s "$SCRATCH/$name.a" ] || ! cmp -s "$SCRATCH/$name.a" "$SCRATCH/$name.b"; then
		diff -u "$SCRATCH/$name.b" "$SCRATCH/$name.a" | head -20
		fail "$name-list" "nft list differs between netlink and nft -f"
		return 1
	fi
	pass "$name-list"
	ip netns exec "$a" nft --debug=netlink list ruleset | nlnorm > "$SCRATCH/$name.na"
	ip netns exec "$b" nft --debug=netlink list ruleset | nlnorm > "$SCRATCH/$name.nb"
	if [ ! -s "$SCRATCH/$name.na" ] || ! cmp -s "$SCRATCH/$name.na" "$SCRATCH/$name.nb"; then
		diff -u "$SCRATCH/$name.nb" "$SCRATCH/$name.na" | head -20
		fail "$name-netlink" "expressions differ between netlink and nft -f"
		return 1
	fi
	pass "$name-netlink"
}

# 1. the IR cases
for c in $("$NLCASE" list); do
	A=$(ns_add "$c-a") && Bn=$(ns_add "$c-b") || { fail "case-$c" "netns"; continue; }
	"$NLCASE" nft "$c" > "$SCRATCH/$c.nft"
	if ! "$NLCASE" apply "$c" "$A" 2> "$SCRATCH/$c.err"; then
		fail "case-$c-apply" "$(head -3 "$SCRATCH/$c.err")"
		continue
	fi
	if ! ip netns exec "$Bn" nft -f "$SCRATCH/$c.nft"; then
		fail "case-$c-nft" "nft -f refused the case's text"
		continue
	fi
	same "case-$c" "$A" "$Bn"
	"$NLCASE" read "$A" > "$SCRATCH/$c.read.a"
	"$NLCASE" read "$Bn" > "$SCRATCH/$c.read.b"
	if cmp -s "$SCRATCH/$c.read.a" "$SCRATCH/$c.read.b"; then
		pass "case-$c-read-same"
	else
		fail "case-$c-read-same" "the reader decodes nft's and fpc's tables differently"
	fi
	golden "case-$c-read" "$HERE/$c.read" "$SCRATCH/$c.read.a"
done

# 2. fpc apply vs nft -f of the compiled policy
A=$(ns_add pol-a) && Bn=$(ns_add pol-b) || { fail policy "netns"; exit 1; }
OUT=$SCRATCH/out
"$FPC" "$POLICY" -o "$OUT" > /dev/null || { fail policy-compile "fpc $POLICY failed"; exit 1; }
ip netns exec "$A" nft add table ip keep
ip netns exec "$A" nft add chain ip keep c
ip netns exec "$A" nft add rule ip keep c counter comment '"untouched"'
if "$FPC" apply "$POLICY" --netns "$A" > "$SCRATCH/apply.out" 2>&1 &&
   grep -q "one batch" "$SCRATCH/apply.out"; then
	pass policy-apply
else
	fail policy-apply "$(cat "$SCRATCH/apply.out")"
fi
ip netns exec "$Bn" nft add table ip keep
ip netns exec "$Bn" nft add chain ip keep c
ip netns exec "$Bn" nft add rule ip keep c counter comment '"untouched"'
ip netns exec "$Bn" nft -f "$OUT/flashpods.nft" || fail policy-nft "nft -f flashpods.nft failed"
same policy "$A" "$Bn"
"$FPC" apply "$POLICY" --netns "$A" > /dev/null 2>&1
"$FPC" apply "$POLICY" --netns "$A" > /dev/null 2>&1
ip netns exec "$A" nft list ruleset > "$SCRATCH/again"
if cmp -s "$SCRATCH/again" "$SCRATCH/policy.a"; then
	pass apply-idempotent
else
	diff -u "$SCRATCH/policy.a" "$SCRATCH/again" | head
	fail apply-idempotent "applying again changed the ruleset"
fi
grep -q untouched "$SCRATCH/again" && pass apply-other-tables ||
	fail apply-other-tables "table ip keep was touched"
out=$("$FPC" apply "$POLICY" --netns no-such-ns-$$ 2>&1)
[ $? -ne 0 ] && echo "$out" | grep -q "no-such-ns" && pass apply-bad-netns ||
	fail apply-bad-netns "$out"
# DIR: the one policy file in it; two are refused, naming the count
mkdir -p "$SCRATCH/dir1" "$SCRATCH/dir2"
cp "$POLICY" "$SCRATCH/dir1/"
cp "$POLICY" "$SCRATCH/dir2/a.fp"
cp "$POLICY" "$SCRATCH/dir2/b.fp"
"$FPC" apply "$SCRATCH/dir1" --netns "$A" > /dev/null 2>&1 &&
	ip netns exec "$A" nft list ruleset | cmp -s - "$SCRATCH/policy.a" && pass apply-dir ||
	fail apply-dir "fpc apply DIR did not load the policy in it"
out=$("$FPC" apply "$SCRATCH/dir2" --netns "$A" 2>&1)
[ $? -eq 1 ] && echo "$out" | grep -q "holds 2 policy files" && pass apply-dir-ambiguous ||
	fail apply-dir-ambiguous "$out"
# a policy that does not prove is never applied
NP=$(ns_add noprove) || exit 1
out=$("$FPC" apply "$TOP/tests/prove/allow_api.fp" --netns "$NP" 2>&1); rc=$?
[ $rc -eq 1 ] && echo "$out" | grep -q "does not prove; nothing applied" &&
	[ -z "$(ip netns exec "$NP" nft list ruleset)" ] && pass apply-unproved-refused ||
	fail apply-unproved-refused "rc=$rc: $out"

# 3. a refused batch
R=$(ns_add refuse) || exit 1
"$NLCASE" apply basic "$R"
ip netns exec "$R" nft list ruleset > "$SCRATCH/refuse.before"
out=$("$NLCASE" refuse "$R" 2>&1); rc=$?
ip netns exec "$R" nft list ruleset > "$SCRATCH/refuse.after"
if [ $rc -ne 0 ] && echo "$out" | grep -q '^policies/test.fp:42:5-12: error: the kernel refused rule 2 of chain input for stranger->api' &&
   echo "$out" | grep -qx '        stranger   allow  -' && echo "$out" | grep -qx '        ^^^^^^^^'; then
	pass refuse-names-rule
else
	fail refuse-names-rule "rc=$rc: $out"
fi
cmp -s "$SCRATCH/refuse.before" "$SCRATCH/refuse.after" && pass refuse-keeps-old ||
	fail refuse-keeps-old "the refused batch changed the ruleset"

# 4. --confirm-timeout
C=$(ns_add confirm) || exit 1
"$NLCASE" nft forms | sed 's/^table inet t /table inet flashpods /' > "$SCRATCH/old.nft"
ip netns exec "$C" nft -f "$SCRATCH/old.nft"
ip netns exec "$C" nft list ruleset > "$SCRATCH/c.before"
ip netns exec "$C" nft --debug=netlink list ruleset | nlnorm > "$SCRATCH/c.before.nl"
out=$("$FPC" apply "$POLICY" --netns "$C" --confirm-timeout 2 < /dev/null 2>&1); rc=$?
ip netns exec "$C" nft list ruleset > "$SCRATCH/c.after"
ip netns exec "$C" nft --debug=netlink list ruleset | nlnorm > "$SCRATCH/c.after.nl"
if [ $rc -eq 1 ] && echo "$out" | grep -q "restored the previous table" &&
   cmp -s "$SCRATCH/c.before" "$SCRATCH/c.after" && cmp -s "$SCRATCH/c.before.nl" "$SCRATCH/c.after.nl"; then
	pass confirm-timeout-restores
else
	diff -u "$SCRATCH/c.before" "$SCRATCH/c.after" | head
	fail confirm-timeout-restores "rc=$rc: $out"
fi
"$FPC" apply "$POLICY" --netns "$C" --confirm-timeout 10 < /dev/null > "$SCRATCH/c.wait" 2>&1 &
wpid=$!
for _ in $(seq 50); do grep -q waiting "$SCRATCH/c.wait" && break; sleep 0.1; done
ip netns exec "$C" nft list ruleset > "$SCRATCH/c.pending"
out=$("$FPC" apply "$POLICY" --netns "$C" 2>&1); rc=$?
[ $rc -eq 1 ] && echo "$out" | grep -q "another apply is waiting for confirmation" &&
	pass apply-while-waiting-refused || fail apply-while-waiting-refused "rc=$rc: $out"
cout=$("$FPC" apply --confirm --netns "$C" 2>&1); crc=$?
wait $wpid; rc=$?
ip netns exec "$C" nft list ruleset > "$SCRATCH/c.kept"
if [ $crc -eq 0 ] && [ $rc -eq 0 ] && cmp -s "$SCRATCH/c.kept" "$SCRATCH/c.pending" &&
   grep -q 'default.fp:' "$SCRATCH/c.kept"; then
	pass confirm-keeps
else
	fail confirm-keeps "confirm rc=$crc ($cout), apply rc=$rc: $(cat "$SCRATCH/c.wait")"
fi
N=$(ns_add fresh) || exit 1
"$FPC" apply "$POLICY" --netns "$N" --confirm-timeout 1 < /dev/null > /dev/null 2>&1
[ -z "$(ip netns exec "$N" nft list ruleset)" ] && pass confirm-timeout-removes-new ||
	fail confirm-timeout-removes-new "the new table stayed though none was there before"
out=$("$FPC" apply --confirm --netns "$N" 2>&1)
[ $? -eq 1 ] && echo "$out" | grep -q "no apply is waiting" && pass confirm-nobody-waiting ||
	fail confirm-nobody-waiting "$out"
# a previous table holding what a snapshot cannot copy (a named counter):
# --confirm-timeout refuses up front rather than promise a restore
ip netns exec "$N" nft -f - <<'EOF'
table inet flashpods {
	counter hits { }
	chain input {
		type filter hook input priority 0; policy accept;
		counter name "hits"
	}
}
EOF
ip netns exec "$N" nft list ruleset > "$SCRATCH/obj.before"
out=$("$FPC" apply "$POLICY" --netns "$N" --confirm-timeout 1 < /dev/null 2>&1); rc=$?
ip netns exec "$N" nft list ruleset > "$SCRATCH/obj.after"
[ $rc -eq 1 ] && echo "$out" | grep -q "table inet flashpods holds 1 object besides its chains and sets" &&
	cmp -s "$SCRATCH/obj.before" "$SCRATCH/obj.after" && pass confirm-uncopyable-refused ||
	fail confirm-uncopyable-refused "rc=$rc: $out"
# the prompt, on a terminal (script(1) gives apply a pty): "yes" keeps the
# new table, anything else restores the old one at once
if command -v script > /dev/null; then
	P=$(ns_add prompt) || exit 1
	ip netns exec "$P" nft -f "$SCRATCH/old.nft"
	ip netns exec "$P" nft list ruleset > "$SCRATCH/p.before"
	out=$( (sleep 1; echo no) | script -qec "'$FPC' apply '$POLICY' --netns '$P' --confirm-timeout 30" /dev/null 2>&1); rc=$?
	ip netns exec "$P" nft list ruleset > "$SCRATCH/p.after"
	[ $rc -eq 1 ] && echo "$out" | grep -q "Keep the new ruleset? Type 'yes' within 30 s" &&
		echo "$out" | grep -q "not confirmed at the prompt: restoring" &&
		cmp -s "$SCRATCH/p.before" "$SCRATCH/p.after" && pass confirm-prompt-no-restores ||
		fail confirm-prompt-no-restores "rc=$rc: $out"
	out=$( (sleep 1; echo yes) | script -qec "'$FPC' apply '$POLICY' --netns '$P' --confirm-timeout 30" /dev/null 2>&1); rc=$?
	[ $rc -eq 0 ] && echo "$out" | grep -q "confirmed: keeping the new ruleset" &&
		ip netns exec "$P" nft list ruleset | grep -q 'default.fp:' && pass confirm-prompt-yes-keeps ||
		fail confirm-prompt-yes-keeps "rc=$rc: $out"
fi

# 5. verify-live
out=$("$FPC" verify-live "$POLICY" --netns "$A" 2>&1); rc=$?
[ $rc -eq 0 ] && echo "$out" | grep -q "0 drift findings" && pass verify-live-clean ||
	fail verify-live-clean "rc=$rc: $out"
ip netns exec "$A" nft add rule inet flashpods input counter
out=$("$FPC" verify-live "$POLICY" --netns "$A" 2>&1); rc=$?
[ $rc -eq 1 ] && echo "$out" | grep -q "drift: rule handle [0-9]* in chain input .*: counter$" &&
	pass verify-live-drift || fail verify-live-drift "rc=$rc: $out"
# expressions the Ruleset IR has no key for, in another table: each is one
# undecodable match that may match, so the laptop's allow cells it could
# drop cannot be proved, and our own table is still exactly the policy's
U=$(ns_add undecodable) || exit 1
"$FPC" apply "$POLICY" --netns "$U" > /dev/null 2>&1
ip netns exec "$U" nft -f - <<'EOF'
table ip other {
	chain input {
		type filter hook input priority -10; policy accept;
		socket transparent 1 tcp dport 8080 drop
		meta mark 0x1 tcp dport 873 drop
		fib saddr . iif oif missing drop
	}
}
EOF
out=$("$FPC" verify-live "$POLICY" --netns "$U" 2>&1); rc=$?
if [ $rc -eq 1 ] && echo "$out" | grep -q "3 undecodable expressions; 0 drift findings$" &&
   echo "$out" | grep -q 'ip other input rule 1: `cmp on socket transparent`' &&
   echo "$out" | grep -q 'ip other input rule 2: `cmp on meta mark`' &&
   echo "$out" | grep -q 'ip other input rule 3: `cmp on fib`' &&
   echo "$out" | grep -q 'laptop  *api  *allow CANNOT BE PROVED' &&
   echo "$out" | grep -q 'laptop  *rsync  *allow CANNOT BE PROVED'; then
	pass verify-live-undecodable
else
	fail verify-live-undecodable "rc=$rc: $out"
fi
exit 0
