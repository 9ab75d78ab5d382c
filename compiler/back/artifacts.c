/* SPDX-License-Identifier: GPL-2.0-or-later */
/* artifacts.c: the files a compile writes, each with its emitter (back.h). */
#include "back.h"

const Artifact artifacts[] = {
	{ "flashpods.nft", "the ruleset: `nft -f` replaces the table in one transaction",
	  emit_nft_artifact },
	{ "flashpods.body.nft", "the table's content, for networking.nftables on NixOS",
	  emit_nft_body_artifact },
	{ "nixos.json", "what the NixOS module reads: ports, user, sockets, directories",
	  emit_nix_artifact },
	{ "policy.pb", "the bundle fp-apid and fp-tokend load", emit_pb_artifact },
	{ "mounts.json", "the job containers' mounts, for review", emit_json_mounts_artifact },
	{ "privileges.json", "the job types' secrets, mounts and limits, for review",
	  emit_json_privileges_artifact },
	{ "wireguard.conf", "the WireGuard peers for `wg setconf` (the private key is the operator's)",
	  emit_wg_conf_artifact },
	{ "wireguard.json", "the WireGuard peers for networking.wireguard on NixOS",
	  emit_wg_json_artifact },
	{ "rsyncd.conf", "the rsync daemon: the upload module and its address allowlist",
	  emit_rsyncd_artifact },
	{ "rsyncd.json", "the same rsyncd parameters for services.rsyncd on NixOS",
	  emit_rsyncd_json_artifact },
	{ "spire-entries.json", "SPIRE registration entries (`spire-server entry create -data`)",
	  emit_spire_artifact },
};
const int n_artifacts = sizeof artifacts / sizeof *artifacts;
