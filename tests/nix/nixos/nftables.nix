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
          description = "Whether the table goes into the ruleset (stand-in).";
        };
        name = lib.mkOption {
          type = lib.types.str;
          description = "The name of the table (stand-in).";
        };
        content = lib.mkOption {
          type = lib.types.lines;
          description = "The body of the table (stand-in).";
        };
        family = lib.mkOption {
          description = "The address family of the table (stand-in).";
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
      description = "nftables on, and the firewall on nftables (stand-in).";
    };
    checkRuleset = lib.mkOption {
      type = lib.types.bool;
      default = true;
      description = "Check the ruleset with nft at build time (stand-in).";
    };
    preCheckRuleset = lib.mkOption {
      type = lib.types.lines;
      default = "";
      description = "Shell run ahead of the build-time check (stand-in).";
    };
    flushRuleset = lib.mkEnableOption "flushing the entire ruleset on each reload";
    extraDeletions = lib.mkOption {
      type = lib.types.lines;
      default = "";
      description = "More `delete` lines for each start, reload and stop (stand-in).";
    };
    ruleset = lib.mkOption {
      type = lib.types.lines;
      default = "";
      description = "Ruleset text (stand-in).";
    };
    rulesetFile = lib.mkOption {
      type = lib.types.nullOr lib.types.path;
      default = null;
      description = "Ruleset file (stand-in).";
    };
    flattenRulesetFile = lib.mkOption {
      type = lib.types.bool;
      default = false;
      description = "Inline rulesetFile instead of including it (stand-in).";
    };
    tables = lib.mkOption {
      type = lib.types.attrsOf (lib.types.submodule tableSubmodule);
      default = { };
      description = "Tables of the ruleset, by attribute name (stand-in).";
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
