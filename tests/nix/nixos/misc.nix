# SPDX-License-Identifier: GPL-2.0-or-later
# tests/nix/nixos/misc.nix: the remaining NixOS options nix/module.nix sets
# or reads, as nixpkgs declares them.
#
# Rebuilt from NixOS/nixpkgs (master, 2025-2026):
#   nixos/modules/misc/assertions.nix        assertions (list of unspecified), warnings (list of str)
#   nixos/modules/misc/version.nix           system.stateVersion (str; here defaulting to the
#                                            release the flake follows, 26.05, as a fresh install's)
#   nixos/modules/system/activation/top-level.nix  system.build (freeform lazy attrs, each unique)
#   nixos/modules/config/system-path.nix     environment.systemPackages (list of packages)
#   nixos/modules/system/etc/etc.nix         environment.etc.<name>.{enable,target,source,text,mode}
#   nixos/modules/system/boot/modprobe.nix   boot.blacklistedKernelModules (list of str)
#   nixos/modules/virtualisation/podman/default.nix  virtualisation.podman.enable (bool)
{ config, lib, ... }:
let
  inherit (lib) mkOption types;
in
{
  options = {
    assertions = mkOption {
      type = types.listOf types.unspecified;
      internal = true;
      default = [ ];
    };
    warnings = mkOption {
      internal = true;
      default = [ ];
      type = types.listOf types.str;
    };
    system.stateVersion = mkOption {
      type = types.str;
      default = "26.05";
    };
    system.build = mkOption {
      internal = true;
      default = { };
      type = types.submoduleWith {
        modules = [ { freeformType = with types; lazyAttrsOf (uniq unspecified); } ];
      };
    };
    environment.systemPackages = mkOption {
      type = types.listOf types.package;
      default = [ ];
    };
    environment.etc = mkOption {
      default = { };
      type = types.attrsOf (
        types.submodule (
          { name, config, ... }:
          {
            options = {
              enable = mkOption {
                type = types.bool;
                default = true;
              };
              target = mkOption { type = types.str; };
              text = mkOption {
                default = null;
                type = types.nullOr types.lines;
              };
              source = mkOption { type = types.path; };
              mode = mkOption {
                type = types.str;
                default = "symlink";
              };
            };
            config.target = lib.mkDefault name;
          }
        )
      );
    };
    boot.blacklistedKernelModules = mkOption {
      type = types.listOf types.str;
      default = [ ];
    };
    virtualisation.podman.enable = mkOption {
      type = types.bool;
      default = false;
    };
  };
}
