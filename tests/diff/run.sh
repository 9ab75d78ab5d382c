#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# tests/diff: `fpc diff OLD NEW [--format text|json|markdown]`: trust cells
# as the rulesets decide them, entities added/removed/changed, artifacts and
# a unified diff of the rules, all without provenance. Exit 0 nothing of
# meaning changed (a rename, comments, white space), 1 changed, 2 error or a
# NEW policy that fails an invariant (said first, with its counterexample).
# Each case in cases.txt (NAME STATUS ARGS...) has its output in NAME.out;
# then the CI step of docs/ci.md runs in a git repository.
. "$(dirname "$0")/../lib.sh"
cd "$TOP"
dir=tests/diff

golden_cases diff

# the JSON is valid, its keys sorted, and says what the text says
for name in widened-json changes-json reordered-json fails-json; do
	grep -v '^fpc: error:' "$dir/$name.out" >"$SCRATCH/$name.json"
	if jq -e '.changed == true and (.rules_diff | type) == "string" and
		(.artifacts | type) == "array"' "$SCRATCH/$name.json" >/dev/null &&
		jq -S . "$SCRATCH/$name.json" | cmp -s - <(jq . "$SCRATCH/$name.json"); then
		pass "diff/$name-valid"
	else
		fail "diff/$name-valid" "not JSON with sorted keys and changed=true"
	fi
done
# a widened via shows as a changed cell although the table text did not change
if grep -q '^  laptop -> api: partial -> allow (table: allow)' "$dir/widened.out"; then
	pass diff/widened-cell
else
	fail diff/widened-cell "the widened laptop row is not a changed cell"
fi
# the ruleset diff is a real unified diff: patch turns old into new
"$FPC" $dir/base.fp -o "$SCRATCH/old" >/dev/null && "$FPC" $dir/changes.fp -o "$SCRATCH/new" >/dev/null
# (on the rules without provenance: comments keep only their "a->b")
strip() { grep -v '^#' "$1" | sed -E 's/comment "[^" :]*:[0-9]+ /comment "/g'; }
sed -n '/^--- /,$p' "$dir/changes.out" >"$SCRATCH/changes.patch"
strip "$SCRATCH/old/flashpods.nft" >"$SCRATCH/patched.nft"
strip "$SCRATCH/new/flashpods.nft" >"$SCRATCH/new.nft"
if patch -s "$SCRATCH/patched.nft" <"$SCRATCH/changes.patch" &&
	cmp -s "$SCRATCH/patched.nft" "$SCRATCH/new.nft"; then
	pass diff/unified-applies
else
	fail diff/unified-applies "the unified diff does not turn the old ruleset into the new"
fi

# a renamed copy is no change, in every format (a name with a blank and a
# colon too: the rules' comments say "renamed policy: v2.fp:31 ...")
cp $dir/base.fp "$SCRATCH/old.fp" && cp $dir/base.fp "$SCRATCH/renamed policy: v2.fp"
bad=""
for f in text json markdown; do
	(cd "$SCRATCH" && "$FPC" diff old.fp "renamed policy: v2.fp" --format $f) >"$SCRATCH/renamed.$f" 2>&1 ||
		bad="$bad $f:$?"
done
if [ -z "$bad" ] && grep -q ': no change of meaning' "$SCRATCH/renamed.text" &&
	jq -e '.changed == false and .rules_diff == "" and .artifacts == []' "$SCRATCH/renamed.json" >/dev/null; then
	pass diff/renamed
else
	fail diff/renamed "exit statuses:$bad"
fi

# the new policy's failure comes first, before any diff
if [ "$(sed -n 2p $dir/fails.out | cut -d: -f1)" = tests/diff/fails.fp ] &&
	[ "$(tail -1 $dir/fails.out)" = 'fpc: error: tests/diff/fails.fp fails an invariant (the counterexample is above)' ] &&
	grep -q '^fpc: note: counterexample: tcp 10.0.0.2:40000 -> 10.0.0.1:8080' $dir/fails.out &&
	[ "$(sed -n 3p $dir/fails-markdown.out)" = '**The new policy fails an invariant**: this is what the prover found.' ]; then
	pass diff/fails-first
else
	fail diff/fails-first "the failure is not the first thing said"
fi

# markdown: every table row has as many cells as the header
if awk -F'|' '/^\|/ { if (!n) n = NF; else if (NF != n) bad = 1 } END { exit bad }' \
	$dir/changes-markdown.out $dir/widened-markdown.out &&
	grep -q '^<details><summary>rule diff' $dir/changes-markdown.out &&
	grep -q '^</details>$' $dir/changes-markdown.out; then
	pass diff/markdown-shape
else
	fail diff/markdown-shape "a table row with another number of cells, or no collapsed rule diff"
fi

# the plain shell step of docs/ci.md, in a git repository: a comment is no
# change (exit 0), a changed cell is reported (exit 0, "the policy
# changes"), an unformatted file or a failing invariant fails the step
sed -n '/^## A plain shell step/,/^```$/p' docs/ci.md | sed -n '/^```sh$/,/^```$/p' |
	sed '1d;$d' >"$SCRATCH/policy-gate.sh"
repo=$SCRATCH/repo
mkdir -p "$repo/policies" && cp $dir/base.fp "$repo/policies/default.fp"
"$FPC" fmt -w "$repo/policies/default.fp" >/dev/null
git_q() { git -C "$repo" -c user.name=t -c user.email=t@t "$@" >/dev/null 2>&1; }
git_q init -q -b main && git_q add -A && git_q commit -q -m base
# gate NAME WANT PATTERN: run the step on the working tree as it is
gate() {
	local rc
	(cd "$repo" && PATH="$B:$PATH" BASE_REF=main sh "$SCRATCH/policy-gate.sh") >"$SCRATCH/gate.out" 2>&1
	rc=$?
	if [ "$rc" -eq "$2" ] && grep -q -- "$3" "$SCRATCH/gate.out"; then
		pass "diff/ci-step-$1"
	else
		head -20 "$SCRATCH/gate.out"
		fail "diff/ci-step-$1" "exit $rc, want $2 and /$3/"
	fi
}
printf '# reviewed 2026-12-06\n' >>"$repo/policies/default.fp"
gate comment 0 'policy-gate: no change of meaning'
"$FPC" fmt "$dir/widened.fp" >"$repo/policies/default.fp"
gate changed-cell 0 'laptop -> api: partial -> allow'
sed 's/^    laptop     allow/    laptop   allow/' "$repo/policies/default.fp" >"$SCRATCH/x" && cp "$SCRATCH/x" "$repo/policies/default.fp"
gate unformatted 1 'policies/default.fp'
"$FPC" fmt "$dir/fails.fp" >"$repo/policies/default.fp"
gate fails 1 'invariant laptop_read_only fails'

# the GitHub Actions job of docs/ci.md: valid YAML whose steps are valid
# shell; its fmt, check and diff steps run in the repository (a comment-only
# change: nothing to post, the step passes and the summary says so). The
# `gh pr comment` of a real change needs GitHub and is not run here.
sed -n '/^## GitHub Actions/,/^## A plain shell step/p' docs/ci.md |
	sed -n '/^```yaml$/,/^```$/p' | sed '1d;$d' >"$SCRATCH/policy.yml"
if ! python3 -c 'import yaml' 2>/dev/null; then
	fail diff/ci-job-yaml "python3-yaml is not installed"
elif python3 - "$SCRATCH/policy.yml" "$SCRATCH/step" <<'PY'; then
import sys, yaml
job = yaml.safe_load(open(sys.argv[1]))["jobs"]["policy"]
runs = [s for s in job["steps"] if "run" in s]
assert [s["name"] for s in runs] == ["Build fpc", "Formatted", "Proves", "What changes"], runs
for i, s in enumerate(runs):
    open(f"{sys.argv[2]}{i}.sh", "w").write(s["run"])
PY
	bad=0
	for i in 0 1 2 3; do bash -n "$SCRATCH/step$i.sh" || bad=1; done
	[ "$bad" -eq 0 ] && pass diff/ci-job-yaml || fail diff/ci-job-yaml "a step is not valid shell"
else
	fail diff/ci-job-yaml "docs/ci.md's job is not the YAML the test expects"
fi
git_q checkout -q -- . && git_q update-ref refs/remotes/origin/main main
printf '# reviewed again\n' >>"$repo/policies/default.fp"
mkdir -p "$repo/build" && ln -sf "$FPC" "$repo/build/fpc"
: >"$SCRATCH/summary.md"
ok=0
for i in 1 2 3; do
	(cd "$repo" && GITHUB_BASE_REF=main RUNNER_TEMP="$SCRATCH" GITHUB_STEP_SUMMARY="$SCRATCH/summary.md" \
		PR=0 GH_TOKEN= bash -e "$SCRATCH/step$i.sh") >"$SCRATCH/step$i.out" 2>&1 || break
	ok=$i
done
if [ "$ok" -eq 3 ] && grep -q '^### fpc diff .*: no change of meaning$' "$SCRATCH/summary.md"; then
	pass diff/ci-job-runs
else
	cat "$SCRATCH/step$i.out" 2>/dev/null | head -10
	fail diff/ci-job-runs "step $i of the job failed, or the summary lacks the verdict"
fi
