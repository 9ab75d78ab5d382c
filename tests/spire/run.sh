#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# tests/spire: spire-entries.json, the registration entries fpc writes for
# `spire-server entry create -data`, for policies/default.fp, for
# selectors.fp (every selector form fpc accepts) and noparent.fp (no
# spire_parent: no entries). Each must equal its golden NAME.json, read
# back unchanged through jq (sorted keys, 2-space indent: a round trip),
# and pass entries.schema.json (JSON Schema 2020-12, checked by Debian's
# python3-jsonschema). The schema must refuse the broken copies made by
# jq edits below (expected verdicts: mutations.out). Last, the plan of the
# NixOS module's registration script (sync/plan.out).
set -u
. "$(dirname "$0")/../lib.sh"
HERE=$TOP/tests/spire
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
if ! "$PY" -c 'import jsonschema' 2>/dev/null; then
	fail spire-jsonschema "python3-jsonschema is needed (Debian: python3-jsonschema)"
	exit 1
fi

# entries NAME POLICY: compile POLICY, golden, round trip, schema.
entries() {
	local name=$1 pol=$2 out=$SCRATCH/$1
	if ! "$FPC" "$pol" -o "$out" > "$SCRATCH/$name.log" 2>&1; then
		fail "spire/$name" "$(head -5 "$SCRATCH/$name.log")"
		return
	fi
	golden "spire/$name" "$HERE/$name.json" "$out/spire-entries.json"
	if jq -S --indent 2 . "$out/spire-entries.json" | cmp -s - "$out/spire-entries.json"; then
		pass "spire/$name round trip"
	else
		fail "spire/$name round trip" "jq -S does not give the same bytes back"
	fi
	if "$PY" "$HERE/validate.py" "$HERE/entries.schema.json" "$out/spire-entries.json" > "$SCRATCH/$name.schema" 2>&1; then
		pass "spire/$name schema"
	else
		fail "spire/$name schema" "$(cat "$SCRATCH/$name.schema")"
	fi
}

entries default "$TOP/policies/default.fp"
entries selectors "$HERE/selectors.fp"
entries noparent "$HERE/noparent.fp"

# The schema can fail: each broken copy of default's entries is refused.
d=$SCRATCH/default/spire-entries.json
m=$SCRATCH/mut
mkdir -p "$m"
jq 'del(.entries[0].parent_id)' "$d" > "$m/no-parent.json"
jq '.entries[0].selectors[0].type = "podman"' "$d" > "$m/podman-type.json"
jq '.entries[0].selectors[0] = {"type": "unix", "value": "uid:abc"}' "$d" > "$m/unix-uid-word.json"
jq '.entries[1].selectors[0].value = "label:flashpods-job-type"' "$d" > "$m/label-no-value.json"
jq '.entries[0].spiffe_id = "https://flashpods.local/agent"' "$d" > "$m/not-spiffe.json"
jq '.entries[0].selectors = []' "$d" > "$m/no-selectors.json"
jq '.entries[0].ttl = 60' "$d" > "$m/unknown-field.json"
(cd "$m" && "$PY" "$HERE/validate.py" "$HERE/entries.schema.json" \
	no-parent.json podman-type.json unix-uid-word.json label-no-value.json \
	not-spiffe.json no-selectors.json unknown-field.json) > "$SCRATCH/mutations.out" 2>&1
golden spire/mutations "$HERE/mutations.out" "$SCRATCH/mutations.out"

# The NixOS module's registration (nix/spire-register.sh) plans from what
# `spire-server entry show -output json` prints (sync/*.json: SPIFFE IDs as
# {trust_domain, path}) and fpc's entries: create what SPIRE lacks, delete
# only entries under fpc's parent that fpc did not write; after the update
# the plan is empty; with no entries from fpc, nothing is deleted.
reg=$TOP/nix/spire-register.sh
{
	echo "# current -> default.json"
	bash "$reg" plan "$HERE/sync/current.json" "$HERE/default.json" | jq -c .
	echo "# after -> default.json"
	bash "$reg" plan "$HERE/sync/after.json" "$HERE/default.json" | jq -c .
	echo "# current -> noparent.json"
	bash "$reg" plan "$HERE/sync/current.json" "$HERE/noparent.json" | jq -c .
	echo "# empty -> default.json"
	bash "$reg" plan "$HERE/sync/empty.json" "$HERE/default.json" | jq -c .
} > "$SCRATCH/sync.out" 2>&1
golden spire/sync-plan "$HERE/sync/plan.out" "$SCRATCH/sync.out"
