#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# tests/oracle: the kernel as the prover's oracle (oracle.py says how).
#   1. every saved case (cases/*.fp: a policy that once made the kernel and
#      fpc disagree, shrunk, with its packets) is replayed;
#   2. the issue-11 reproducers (repro/*.fp, with their packets) are run
#      the same way: each packet must get the verdict fpc gives, fpc's
#      verdict must be the one its `=> new V, reply V` states, and the
#      `# check:`, `# verify:` and `# expect:` lines must hold
#      (oracle.py read_case); reproducers 4 and 5 also as goldens;
#   3. a fixed-seed batch of $ORACLE_N (80) random policies (about 50 of
#      them pass fpc and are loaded; the rest it refuses, also checked),
#      with packets made from each policy's atoms;
#   4. a batch of $ORACLE_CLASSES_N (12) with a packet in every class of
#      the prover's partition that the topology can send (--classes).
# ORACLE_SEED and ORACLE_N change the batch; `make oracle N=...` runs a
# longer campaign with a random seed.
set -u
. "$(dirname "$0")/../lib.sh"
need_root oracle
HERE=$(cd "$(dirname "$0")" && pwd)
TOP=${TOP:-$(cd "$HERE/../.." && pwd)}
B=${B:-$TOP/build}
FPC=${FPC:-$B/fpc}
PY=${PYTHON:-python3}

command -v "$PY" >/dev/null || { fail oracle "python3 is not installed"; exit 1; }
ensure_flashpods_user || { fail oracle-user "cannot create the flashpods user"; exit 1; }

# reproducers 4 and 5 as fpc prints them: query walks the forward hook
# (the input hook alone would accept this packet), and the built-in
# invariant refuses the mutated default policy with a counterexample
cd "$TOP"
golden_run oracle/query-forward 0 "$HERE/repro/query_forward.out" "$FPC" query \
	tests/oracle/repro/forge_row.fp --iif podman0 --oif eth0 --daddr 203.0.113.5 --tcp 443
golden_run oracle/builtin-invariant 1 "$HERE/repro/mutated_default.err" "$FPC" check \
	tests/oracle/repro/mutated_default.fp

cases=$(ls "$HERE"/cases/*.fp 2>/dev/null)
repros=$(ls "$HERE"/repro/*.fp 2>/dev/null)
if [ -n "$cases$repros" ]; then
	# shellcheck disable=SC2086
	"$PY" "$HERE/oracle.py" case --fpc "$FPC" $cases $repros
fi
"$PY" "$HERE/oracle.py" run --fpc "$FPC" --seed "${ORACLE_SEED:-20261206}" \
	--n "${ORACLE_N:-80}"
"$PY" "$HERE/oracle.py" run --fpc "$FPC" --seed "${ORACLE_SEED:-20261206}" \
	--n "${ORACLE_CLASSES_N:-12}" --classes
