# SPDX-License-Identifier: GPL-2.0-or-later
# tests/nix/nixos/nftables.nix: the networking.nftables options as nixpkgs
# declares them, for evaluating nix/module.nix with lib.evalModules offline.
#
# Rebuilt from NixOS/nixpkgs nixos/modules/services/networking/nftables.nix,
# the nixfmt-formatted revision on master in 2025-2026 (the one with
# flattenRulesetFile and checkRulesetRedirects; the search index that served
# it does not record its commit). Kept as nixpkgs has them: every option the
# module or the tests read, with its type and default; the flushRuleset
# default (stateVersion older than 23.11, or a raw ruleset); the ip_tables
# blacklist; and the text nftables.service loads (deletions, then each
# enabled table, then `ruleset`), which nixpkgs writes to two store files
# and here is system.build.nftables.{deletions,rules} (the rules include the
# deletions as "@DELETIONS@", the path the test substitutes).
# checkRulesetRedirects is left out: its default reads environment.etc
# entries (hosts, protocols) that only the full NixOS defines.
{ config, lib, ... }:
let
  cfg = config.networking.nftables;

  tableSubmodule =
    { name, ... }:
    {
      options = {
        enable = lib.mkOption {
          type = lib.types.bool;
          default = true;
          description = "Enable this table.";
        };
        name = lib.mkOption {
          type = lib.types.str;
          description = "Table name.";
        };
        content = lib.mkOption {
          type = lib.types.lines;
          description = "The table content.";
        };
        family = lib.mkOption {
          description = "Table family.";
          type = lib.types.enum [ "ip" "ip6" "inet" "arp" "bridge" "netdev" ];
        };
      };
      config.name = lib.mkDefault name;
    };

  enabledTables = lib.filterAttrs (_: t: t.enable) cfg.tables;
in
{
  options.networking.nftables = {
    enable = lib.mkOption {
      type = lib.types.bool;
      default = false;
      description = "Whether to enable nftables and use nftables based firewall if enabled.";
    };
    checkRuleset = lib.mkOption {
      type = lib.types.bool;
      default = true;
      description = "Run `nft check` on the ruleset to spot syntax errors during build.";
    };
    preCheckRuleset = lib.mkOption {
      type = lib.types.lines;
      default = "";
      description = "This script gets run before the ruleset is checked.";
    };
    flushRuleset = lib.mkEnableOption "flushing the entire ruleset on each reload";
    extraDeletions = lib.mkOption {
      type = lib.types.lines;
      default = "";
      description = "Extra deletion commands to be run on every firewall start, reload and after stopping the firewall.";
    };
    ruleset = lib.mkOption {
      type = lib.types.lines;
      default = "";
      description = "The ruleset to be used with nftables.";
    };
    rulesetFile = lib.mkOption {
      type = lib.types.nullOr lib.types.path;
      default = null;
      description = "The ruleset file to be used with nftables.";
    };
    flattenRulesetFile = lib.mkOption {
      type = lib.types.bool;
      default = false;
      description = "Use `builtins.readFile` rather than `include` to handle rulesetFile.";
    };
    tables = lib.mkOption {
      type = lib.types.attrsOf (lib.types.submodule tableSubmodule);
      default = { };
      description = "Tables to be added to ruleset.";
    };
  };

  config = lib.mkIf cfg.enable {
    boot.blacklistedKernelModules = [ "ip_tables" ];
    networking.nftables.flushRuleset = lib.mkDefault (
      lib.versionOlder config.system.stateVersion "23.11"
      || (cfg.rulesetFile != null || cfg.ruleset != "")
    );
    system.build.nftables = {
      deletions = ''
        ${
          if cfg.flushRuleset then
            "flush ruleset"
          else
            lib.concatStringsSep "\n" (
              lib.mapAttrsToList (_: t: ''
                table ${t.family} ${t.name}
                delete table ${t.family} ${t.name}
              '') enabledTables
            )
        }
        ${cfg.extraDeletions}
      '';
      rules = ''
        include "@DELETIONS@"
        ${lib.concatStringsSep "\n" (
          lib.mapAttrsToList (_: t: ''
            table ${t.family} ${t.name} {
              ${t.content}
            }
          '') enabledTables
        )}
        ${cfg.ruleset}
        ${
          if cfg.rulesetFile != null then
            (if cfg.flattenRulesetFile then builtins.readFile cfg.rulesetFile else ''include "${cfg.rulesetFile}"'')
          else
            ""
        }
      '';
      inherit (cfg) preCheckRuleset checkRuleset;
    };
  };
}
