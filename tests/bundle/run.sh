#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The bundle: policy.pb, mounts.json and privileges.json of the default
# policy (golden), fpc dump, the loader's look-ups, the podman argv of a
# worker and an agent job (golden, element for element), determinism, and
# broken bundles that must each be refused with their own message.
. "$(dirname "$0")/../lib.sh"
cd "$TOP"
D=tests/bundle
T=$B/tools

for tool in bundle_edit bundle_argv bundle_query; do
	if [ ! -x "$T/$tool" ]; then
		fail "bundle-tools" "$T/$tool is not built (make tools)"
		exit 1
	fi
done

# ---- the default policy ------------------------------------------------
out=$SCRATCH/out
if ! "$FPC" policies/default.fp -o "$out" >"$SCRATCH/compile.log" 2>&1; then
	cat "$SCRATCH/compile.log"
	fail "bundle-compile" "fpc policies/default.fp failed"
	exit 1
fi
pass "bundle-compile"
PB=$out/policy.pb

golden "bundle-pb-bytes" $D/default.pb "$PB"
golden "bundle-mounts-json" $D/mounts.json "$out/mounts.json"
golden "bundle-privileges-json" $D/privileges.json "$out/privileges.json"
if "$FPC" dump "$PB" >"$SCRATCH/dump.json" 2>"$SCRATCH/dump.err"; then
	golden "bundle-dump" $D/default.json "$SCRATCH/dump.json"
else
	fail "bundle-dump" "fpc dump failed: $(cat "$SCRATCH/dump.err")"
fi

# the JSON files are valid JSON with sorted keys and a final newline
for f in mounts.json privileges.json; do
	if jq -S . "$out/$f" >"$SCRATCH/sorted.json" 2>/dev/null &&
		jq . "$out/$f" >"$SCRATCH/plain.json" && cmp -s "$SCRATCH/sorted.json" "$SCRATCH/plain.json" &&
		[ "$(tail -c1 "$out/$f" | od -An -c | tr -d ' ')" = '\n' ]; then
		pass "bundle-json-layout-$f"
	else
		fail "bundle-json-layout-$f" "not JSON with sorted keys and a trailing newline"
	fi
done

# ---- determinism: a second compile gives the same bytes ------------------
out2=$SCRATCH/out2
"$FPC" policies/default.fp -o "$out2" >/dev/null 2>&1
same=1
for f in policy.pb mounts.json privileges.json; do
	cmp -s "$out/$f" "$out2/$f" || { same=0; echo "differs: $f"; }
done
[ $same = 1 ] && pass "bundle-deterministic" || fail "bundle-deterministic" "two compiles differ"

# ... and from another file name, working directory, locale and time zone
mkdir -p "$SCRATCH/elsewhere"
cp policies/default.fp "$SCRATCH/elsewhere/other-name.fp"
(cd "$SCRATCH/elsewhere" && LC_ALL=C TZ=Pacific/Chatham "$FPC" other-name.fp -o out4 >/dev/null 2>&1)
same=1
for f in policy.pb mounts.json privileges.json; do
	cmp -s "$out/$f" "$SCRATCH/elsewhere/out4/$f" || { same=0; echo "differs: $f"; }
done
[ $same = 1 ] && pass "bundle-deterministic-elsewhere" ||
	fail "bundle-deterministic-elsewhere" "another path, cwd, locale or TZ changed the bytes"

# the hash in the bundle is the SHA-256 of the policy text
sha=$(sha256sum policies/default.fp | cut -d' ' -f1)
if jq -e --arg s "$sha" '.policy_sha256 == $s' "$SCRATCH/dump.json" >/dev/null; then
	pass "bundle-sha256"
else
	fail "bundle-sha256" "policy_sha256 is not sha256sum of policies/default.fp ($sha)"
fi

# a comment changes the hash but no mount or privilege
sed 's/^# What can be reached.$/# What can be reached (edited)./' policies/default.fp >"$SCRATCH/edited.fp"
"$FPC" "$SCRATCH/edited.fp" -o "$SCRATCH/out3" >/dev/null 2>&1
if ! cmp -s "$PB" "$SCRATCH/out3/policy.pb" &&
	cmp -s "$out/mounts.json" "$SCRATCH/out3/mounts.json" &&
	cmp -s "$out/privileges.json" "$SCRATCH/out3/privileges.json"; then
	pass "bundle-comment-edit"
else
	fail "bundle-comment-edit" "a comment must change policy.pb (hash) and nothing in the JSON files"
fi

# fpc loads every bundle it emits with the daemons' loader: a policy whose
# bundle a daemon would refuse (':' splits podman's -v) fails, writes nothing
sed 's|"/tmp/flashpods/uploads/{upload_id}"|"/tmp/flash:pods/{upload_id}"|' policies/default.fp >"$SCRATCH/colon.fp"
if "$FPC" "$SCRATCH/colon.fp" -o "$SCRATCH/out-colon" >"$SCRATCH/colon.log" 2>&1; then
	fail "bundle-self-check" "a mount host with ':' compiled"
elif [ -e "$SCRATCH/out-colon/policy.pb" ] || [ -e "$SCRATCH/out-colon/flashpods.nft" ]; then
	fail "bundle-self-check" "files were written for a refused policy"
elif grep -q 'flash:pods' "$SCRATCH/colon.log"; then
	pass "bundle-self-check"
else
	fail "bundle-self-check" "the message does not quote the path: $(head -3 "$SCRATCH/colon.log")"
fi

# ---- the argv of a job (CONTEXT.md "Containers"), element for element ----
argv_case() {	# NAME ARGS...: golden argv
	local name=$1; shift
	if "$T/bundle_argv" "$PB" "$@" >"$SCRATCH/$name.argv" 2>"$SCRATCH/$name.err"; then
		golden "bundle-argv-$name" $D/$name.argv "$SCRATCH/$name.argv"
	else
		fail "bundle-argv-$name" "$(cat "$SCRATCH/$name.err")"
	fi
}
argv_case worker --privilege worker --job-id 7f3a9c --upload-id u42 --cpus 4 --memory 8 \
	--command 'make test && echo "done; $(id -u)" > /artifacts/log'
argv_case agent --privilege agent --agent --job-id 7f3a9d --upload-id u43 \
	--task 'Fix the failing test
and open a PR' --context 'repo: flashpods' --git-branch 'feature/x'
argv_case defaults --privilege worker --job-id j1 --upload-id u1 --image 'registry.example.org:5000/team/img:v1.2@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef' --command true

# the worker argv has exactly the flags of CONTEXT.md, each once
w=$SCRATCH/worker.argv
ok=1
for flag in --userns=keep-id --network=slirp4netns --security-opt --cap-drop --cpus --memory --rm --name; do
	[ "$(grep -cx -- "$flag" "$w")" = 1 ] || { ok=0; echo "flag $flag not exactly once"; }
done
grep -qx -- '-d' "$w" && { ok=0; echo "-d present"; }
[ "$(head -1 "$w")" = podman ] && [ "$(sed -n 2p "$w")" = run ] || ok=0
[ $ok = 1 ] && pass "bundle-argv-flags" || fail "bundle-argv-flags" "worker argv lacks a CONTEXT.md flag"

# values a request may not smuggle in: each refused with a message naming the field
argv_bad() {	# NAME EXPECTED-FIELD ARGS...
	local name=$1 field=$2; shift 2
	if "$T/bundle_argv" "$PB" "$@" >/dev/null 2>"$SCRATCH/bad.err"; then
		fail "bundle-argv-refuses-$name" "accepted"
	elif grep -q "^bundle_argv: $field: " "$SCRATCH/bad.err"; then
		pass "bundle-argv-refuses-$name"
	else
		fail "bundle-argv-refuses-$name" "message does not name $field: $(cat "$SCRATCH/bad.err")"
	fi
	cat "$SCRATCH/bad.err" >>"$SCRATCH/argv-errors.txt"
}
: >"$SCRATCH/argv-errors.txt"
argv_bad job-id-dotdot job_id --job-id ../x --command true
argv_bad job-id-dash job_id --job-id -x --command true
argv_bad job-id-empty job_id --job-id '' --command true
argv_bad job-id-long job_id --job-id "$(printf 'a%.0s' {1..65})" --command true
argv_bad upload-id-slash upload_id --upload-id a/b --command true
argv_bad upload-id-missing upload_id --upload-id '' --command true
argv_bad image-uppercase image --image UBUNTU --command true
argv_bad image-option image --image --privileged --command true
argv_bad image-space image --image 'ubuntu latest' --command true
argv_bad image-digest image --image 'ubuntu@sha256:xyz' --command true
argv_bad cpus-high cpus --cpus 9 --command true
argv_bad cpus-negative cpus --cpus -1 --command true
argv_bad agent-cpus cpus --privilege agent --agent --cpus 5
argv_bad memory-high memory_gb --memory 17 --command true
argv_bad no-command command
argv_bad agent-with-command command --privilege agent --agent --command true
argv_bad worker-with-task task --task x --command true
argv_bad unknown-privilege privilege --privilege root --command true
argv_bad command-nul command --command true --nul command
argv_bad task-nul task --privilege agent --agent --task t --nul task
argv_bad context-nul context --privilege agent --agent --nul context
argv_bad git-branch-nul git_branch --privilege agent --agent --git-branch main --nul git_branch
golden "bundle-argv-errors" $D/argv-errors.txt "$SCRATCH/argv-errors.txt"

# ---- look-ups ------------------------------------------------------------
{
	echo "# spiffe: exact and case-sensitive"
	"$T/bundle_query" "$PB" spiffe spiffe://flashpods.local/agent spiffe://flashpods.local/worker \
		spiffe://flashpods.local/Agent spiffe://flashpods.local/agent/ spiffe://FLASHPODS.local/agent \
		spiffe://flashpods.local/host ''
	echo "# peers: as the firewall decides, by address"
	"$T/bundle_query" "$PB" peer api 10.0.0.2 10.0.0.3 10.0.0.1 127.0.0.1 ::1 ::ffff:10.0.0.2 fd00::2
	"$T/bundle_query" "$PB" peer rsync 10.0.0.2 192.168.1.5
	"$T/bundle_query" "$PB" peer wireguard 203.0.113.9 10.0.0.2
	"$T/bundle_query" "$PB" peer token 10.0.0.2
	"$T/bundle_query" "$PB" peer internet 10.0.0.2
	"$T/bundle_query" "$PB" peer nosuch 10.0.0.2
	echo "# secrets, sorted, with their secrets.json keys"
	"$T/bundle_query" "$PB" secrets
	echo "# services"
	"$T/bundle_query" "$PB" service api rsync wireguard token spire internet nosuch
} >"$SCRATCH/lookups.txt" 2>&1
golden "bundle-lookups" $D/lookups.txt "$SCRATCH/lookups.txt"

# a firewall-only policy (no container, no identities) with overlapping
# address rows, interface-only and user rows: the peer walk of bundle.h
if "$FPC" $D/peers.fp -o "$SCRATCH/peers" >"$SCRATCH/peers.log" 2>&1; then
	P=$SCRATCH/peers/policy.pb
	{
		"$T/bundle_query" "$P" peer api 10.0.0.2 10.0.0.5 10.1.0.1 192.168.3.3 \
			fd00::2 fd00::3 1.1.1.1 ::ffff:10.0.0.2 ::ffff:10.0.0.5
		"$T/bundle_query" "$P" peer dns 10.0.0.2 10.0.0.9 10.1.0.1 1.1.1.1 fd00::2
		"$T/bundle_argv" "$P" --command true
		"$FPC" dump "$P" | jq -c '{container, trust_domain, identities, trust}'
	} >"$SCRATCH/peers.txt" 2>&1
	golden "bundle-peers" $D/peers.txt "$SCRATCH/peers.txt"
else
	cat "$SCRATCH/peers.log"
	fail "bundle-peers" "fpc $D/peers.fp failed"
fi

# more than 4096 sources, and a via with more than 4096 addresses: within
# the caps, so fpc writes the bundle and the loader takes it whole
big=$SCRATCH/big.fp
{
	printf 'policy big {\n    table inet big;\n}\n'
	printf 'source wide { via "wg0" from 10.0.0.0/24'
	for i in $(seq 1 4999); do
		printf ', 10.%d.%d.0/24' $((i / 256)) $((i % 256))
	done
	printf '; }\n'
	for i in $(seq 1 4999); do
		printf 'source s%d { via "wg1" from 172.%d.%d.1; }\n' "$i" $((16 + i / 256)) $((i % 256))
	done
	printf 'source anyone { via any; }\nservice api tcp 8080;\ntrust {\n api\n wide allow\n'
	for i in $(seq 1 4999); do
		printf ' s%d deny\n' "$i"
	done
	printf ' anyone deny\n}\n'
} >"$big"
if "$FPC" "$big" -o "$SCRATCH/big" >"$SCRATCH/big.log" 2>&1 &&
	"$FPC" dump "$SCRATCH/big/policy.pb" >"$SCRATCH/big.json" 2>>"$SCRATCH/big.log" &&
	[ "$(jq '.sources | length' "$SCRATCH/big.json")" = 5001 ] &&
	[ "$(jq '.sources[0].vias[0].addrs | length' "$SCRATCH/big.json")" = 5000 ]; then
	pass "bundle-big-policy"
else
	fail "bundle-big-policy" "5001 sources / 5000 addresses not written and loaded: $(head -3 "$SCRATCH/big.log")"
fi

# ---- broken bundles: each refused (exit 1) with its own message ---------
bad_case() {	# NAME: $SCRATCH/bad/NAME.pb was made; fpc dump must refuse it
	local name=$1 rc
	(cd "$SCRATCH/bad" && "$FPC" dump "$name.pb" >/dev/null 2>"$name.err")
	rc=$?
	if [ $rc -ne 1 ]; then
		fail "bundle-bad-$name" "fpc dump exited $rc, expected 1"
		return
	fi
	golden "bundle-bad-$name" $D/bad/$name.err "$SCRATCH/bad/$name.err"
}
edit() {	# NAME EDIT...: a copy of the good bundle with fields changed
	local name=$1; shift
	"$T/bundle_edit" "$PB" "$SCRATCH/bad/$name.pb" "$@" || echo "bundle_edit failed for $name"
}
mkdir -p "$SCRATCH/bad"
size=$(stat -c %s "$PB")
head -c $((size / 2)) "$PB" >"$SCRATCH/bad/truncated.pb"
head -c $((size - 1)) "$PB" >"$SCRATCH/bad/truncated-last-byte.pb"
: >"$SCRATCH/bad/empty.pb"
# 512 fixed pseudo-random bytes (AES-CTR keystream of a zero key)
head -c 512 /dev/zero | openssl enc -aes-128-ctr -K 00000000000000000000000000000000 \
	-iv 00000000000000000000000000000000 >"$SCRATCH/bad/random.pb"
edit wrong-version set format_version 2
edit missing-trust-domain unset trust_domain
edit missing-container unset container
edit missing-range-default unset privileges[1].memory_gb.default
edit foreign-identity set identities[0].spiffe_id spiffe://evil.example/agent
edit bad-spiffe set identities[1].spiffe_id spiffe://flashpods.local/../agent
edit dotdot-path set mounts[0].host '/tmp/flashpods/uploads/../../etc/{upload_id}'
edit relative-path set mounts[1].target artifacts
edit unknown-placeholder set mounts[1].host '/var/lib/flashpods/artifacts/{jobid}'
edit unknown-label-placeholder set container.labels[2].value '{user}'
edit port-zero set services[0].port_lo 0
edit mode-too-big set services[3].mode 010000
edit range-inverted set privileges[0].cpus.min 5
edit default-outside set privileges[1].timeout_min.default 121
edit unknown-privilege set identities[1].privilege root
edit duplicate-identity set identities[1].spiffe_id spiffe://flashpods.local/agent
edit secret-key-clash append privileges[0].secrets github_token
edit bad-image set container.image 'ubuntu;rm -rf /'
edit engine-docker set container.engine docker
edit bad-via-kind set sources[0].vias[0].kind 9
edit bad-listen set services[1].listen 10.0.0.0/8
edit missing-engine unset container.engine
edit container-source set container.source nobody
edit placeholder-in-target set mounts[1].target '/artifacts/{job_id}'
edit unclosed-placeholder set mounts[0].host '/tmp/flashpods/uploads/{upload_id'
# bytes the decoder alone would accept
cp "$PB" "$SCRATCH/bad/unknown-field.pb" && printf '\x98\x06\x01' >>"$SCRATCH/bad/unknown-field.pb"
cp "$PB" "$SCRATCH/bad/repeated-field.pb" && printf '\x08\x01' >>"$SCRATCH/bad/repeated-field.pb"
edit nul-string unset trust_domain && printf '\x52\x10flashpods\x00.local' >>"$SCRATCH/bad/nul-string.pb"
# the size caps (docs/artifacts.md): 65537 sources (empty ones appended;
# the count is checked first), a via with 65537 addresses
varint() {	# N: N as a protobuf varint, as printf escapes
	local n=$1 out=
	while [ "$n" -ge 128 ]; do
		out+=$(printf '\\x%02x' $(((n & 127) | 128)))
		n=$((n >> 7))
	done
	printf '%s\\x%02x' "$out" "$n"
}
nsrc=$(jq '.sources | length' "$SCRATCH/dump.json")
cp "$PB" "$SCRATCH/bad/too-many-sources.pb"
yes $'\x3a' | head -n $((65537 - nsrc)) | tr '\n' '\0' >>"$SCRATCH/bad/too-many-sources.pb"
# sources entry { name "zz" vias { kind VIA_NET addrs "" x 65537 } }
addrs=$((2 * 65537))
via=$((2 + addrs))
vialen=$(printf "$(varint $via)" | wc -c)
src=$((4 + 1 + vialen + via))	# name field, vias tag, its length, the via
cp "$PB" "$SCRATCH/bad/too-many-addrs.pb"
{
	printf "\\x3a$(varint $src)\\x0a\\x02zz\\x12$(varint $via)\\x08\\x00"
	yes $'\x1a' | head -n 65537 | tr '\n' '\0'
} >>"$SCRATCH/bad/too-many-addrs.pb"
# 2^20 + 1 empty invariants: refused by the wire pass, before decoding
cp "$PB" "$SCRATCH/bad/too-many-entries.pb"
yes $'\x7a' | head -n $((1048576 + 1)) | tr '\n' '\0' >>"$SCRATCH/bad/too-many-entries.pb"
for f in "$SCRATCH"/bad/*.pb; do
	bad_case "$(basename "$f" .pb)"
done
# every message names a different problem
if [ "$(cat "$SCRATCH"/bad/*.err | sort | uniq -d | wc -l)" = 0 ]; then
	pass "bundle-bad-distinct"
else
	fail "bundle-bad-distinct" "two broken bundles gave the same message"
fi

