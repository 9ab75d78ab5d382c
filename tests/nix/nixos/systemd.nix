# SPDX-License-Identifier: GPL-2.0-or-later
# tests/nix/nixos/systemd.nix: systemd.services, systemd.tmpfiles.rules and
# system.activationScripts as nixpkgs declares them.
#
# Rebuilt from NixOS/nixpkgs
#   nixos/lib/systemd-unit-options.nix  01f31c2ee7d045a337dff0f858c0ed61dd0f4ddb
#     (unitOption: lists concatenate, anything else must be equal; the
#     unit-name type of nixos/lib/systemd-lib.nix; the service options a
#     unit here uses: dependencies, environment, path, serviceConfig with
#     its Type/Restart check, unitConfig, script, reload/restart switches)
#   nixos/modules/system/boot/systemd/tmpfiles.nix (rules: list of strings)
#   nixos/modules/system/activation/activation-script.nix (a snippet is a
#     string or { deps, text, supportsDryActivation })
{ lib, ... }:
let
  inherit (lib) mkOption types;

  unitOption = lib.mkOptionType {
    name = "systemd option";
    merge =
      loc: defs:
      let
        defs' = lib.filterOverrides defs;
      in
      if lib.isList (lib.head defs').value then
        lib.concatMap (
          def:
          if builtins.typeOf def.value == "list" then
            def.value
          else
            throw "The definitions for systemd unit options should be either all lists, representing repeatable options, or all non-lists, but for the option ${lib.showOption loc}, the definitions are a mix of list and non-list"
        ) defs'
      else
        lib.mergeEqualOption loc defs';
  };

  unitNameType = types.strMatching "[a-zA-Z0-9@%:_.\\-]+[.](service|socket|device|mount|automount|swap|target|path|timer|scope|slice)";
  units = mkOption {
    default = [ ];
    type = types.listOf unitNameType;
  };

  # checkUnitConfig "Service" [ assertValueOneOf Type ...; Restart ... ]
  valueOneOf =
    name: values: group:
    !(group ? ${name}) || lib.elem group.${name} values;
  checkService =
    group:
    valueOneOf "Type" [ "exec" "simple" "forking" "oneshot" "dbus" "notify" "notify-reload" "idle" ] group
    && valueOneOf "Restart" [ "no" "on-success" "on-failure" "on-abnormal" "on-abort" "always" ] group;

  serviceOpts = {
    options = {
      enable = mkOption {
        default = true;
        type = types.bool;
      };
      description = mkOption {
        default = "";
        type = types.singleLineStr;
      };
      requiredBy = units;
      wantedBy = units;
      requires = units;
      wants = units;
      after = units;
      before = units;
      bindsTo = units;
      partOf = units;
      conflicts = units;
      unitConfig = mkOption {
        default = { };
        type = types.attrsOf unitOption;
      };
      environment = mkOption {
        default = { };
        type = with types; attrsOf (nullOr (oneOf [ str path package ]));
      };
      path = mkOption {
        default = [ ];
        type = with types; listOf (oneOf [ package str ]);
      };
      serviceConfig = mkOption {
        default = { };
        type = types.addCheck (types.attrsOf unitOption) checkService;
      };
      script = mkOption {
        type = types.lines;
        default = "";
      };
      restartTriggers = mkOption {
        default = [ ];
        type = types.listOf types.unspecified;
      };
      restartIfChanged = mkOption {
        type = types.bool;
        default = true;
      };
      reloadIfChanged = mkOption {
        type = types.bool;
        default = false;
      };
    };
  };

  scriptType = types.either types.str (
    types.submodule {
      options = {
        deps = mkOption {
          type = types.listOf types.str;
          default = [ ];
        };
        text = mkOption { type = types.lines; };
        supportsDryActivation = mkOption {
          type = types.bool;
          default = false;
        };
      };
    }
  );
in
{
  options.systemd.services = mkOption {
    default = { };
    type = types.attrsOf (types.submodule serviceOpts);
  };
  options.systemd.tmpfiles.rules = mkOption {
    type = types.listOf types.str;
    default = [ ];
  };
  options.system.activationScripts = mkOption {
    default = { };
    type = types.attrsOf scriptType;
  };
}
