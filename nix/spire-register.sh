# SPDX-License-Identifier: GPL-2.0-or-later
# nix/spire-register.sh: keep SPIRE's registration entries equal to the
# ones fpc wrote (spire-entries.json), idempotently. Needs jq on PATH.
#
#   spire-register.sh plan CURRENT WANTED
#       CURRENT is `spire-server entry show -output json` (SPIFFE IDs as
#       {trust_domain, path}), WANTED is fpc's spire-entries.json. Prints
#       {"create": {"entries": [...]}, "delete": [ENTRY_ID, ...]}: the
#       wanted entries SPIRE lacks (in `entry create -data` form) and the
#       entries under one of the wanted parent IDs that fpc did not write.
#       An entry is its SPIFFE ID, parent ID and set of selectors; entries
#       under other parents are never touched (they are not fpc's).
#   spire-register.sh apply SPIRE_SERVER SOCKET WANTED
#       reads the entries from the server at SOCKET, applies the plan
#       (create, then delete), and reads them back: exit 1 unless SPIRE
#       then holds exactly the plan's result.
set -eu

# jq: one entry as a comparable key, from either form
key_fn='def id: if type == "object" then "spiffe://\(.trust_domain)\(.path)" else . end;
	def key: [(.spiffe_id | id), (.parent_id | id), ([.selectors[] | "\(.type):\(.value)"] | sort)];'

plan() {
	jq -n --slurpfile cur "$1" --slurpfile want "$2" "$key_fn"'
		($want[0].entries // []) as $w
		| ($cur[0].entries // []) as $c
		| ([$w[] | .parent_id] | unique) as $parents
		| ([$c[] | key]) as $have
		| ([$w[] | key]) as $need
		| { create: { entries: [$w[] | select(key as $k | $have | index([$k]) | not)] },
		    delete: [$c[] | select((.parent_id | id) as $p | $parents | index($p))
		                  | select(key as $k | $need | index([$k]) | not) | .id] | sort }'
}

apply() {
	local server=$1 socket=$2 wanted=$3 tmp
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	"$server" entry show -socketPath "$socket" -output json > "$tmp/current.json"
	plan "$tmp/current.json" "$wanted" > "$tmp/plan.json"
	jq '.create' "$tmp/plan.json" > "$tmp/create.json"
	if [ "$(jq '.entries | length' "$tmp/create.json")" -gt 0 ]; then
		"$server" entry create -socketPath "$socket" -data "$tmp/create.json" > /dev/null
	fi
	for id in $(jq -r '.delete[]' "$tmp/plan.json"); do
		"$server" entry delete -socketPath "$socket" -entryID "$id" > /dev/null
	done
	"$server" entry show -socketPath "$socket" -output json > "$tmp/after.json"
	plan "$tmp/after.json" "$wanted" > "$tmp/left.json"
	if [ "$(jq '(.create.entries | length) + (.delete | length)' "$tmp/left.json")" != 0 ]; then
		echo "spire-register: SPIRE still differs from $wanted after the update:" >&2
		cat "$tmp/left.json" >&2
		exit 1
	fi
	echo "spire-register: $(jq '.create.entries | length' "$tmp/plan.json") created, $(jq '.delete | length' "$tmp/plan.json") deleted"
}

usage() {
	echo "usage: spire-register.sh plan CURRENT WANTED | apply SPIRE_SERVER SOCKET WANTED" >&2
	exit 2
}

case ${1:-} in
plan) [ $# -eq 3 ] || usage; plan "$2" "$3" ;;
apply) [ $# -eq 4 ] || usage; apply "$2" "$3" "$4" ;;
*) usage ;;
esac
