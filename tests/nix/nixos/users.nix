# SPDX-License-Identifier: GPL-2.0-or-later
# tests/nix/nixos/users.nix: users.users and users.groups as nixpkgs
# declares them.
#
# Rebuilt from NixOS/nixpkgs nixos/modules/config/users-groups.nix at
# 005ab72f9cf5a75cdcd9ff672fb4a3b03391619f: the user and group options the
# module sets or a host sets in these tests (types and defaults as there;
# the password, shell and initrd options are left out), root and nobody
# with their fixed ids (nixos/modules/misc/ids.nix: 0 and 65534, groups
# root 0 and nogroup 65534), and the assertions on them: unique uids and
# gids, an existing primary group, exactly one of isSystemUser and
# isNormalUser, a non-empty group, a valid name, no normal user below 1000.
{ config, lib, ... }:
let
  cfg = config.users;
  inherit (lib) mkOption types;

  userOpts =
    { name, config, ... }:
    {
      options = {
        enable = mkOption {
          type = types.bool;
          default = true;
        };
        name = mkOption { type = types.passwdEntry types.str; };
        description = mkOption {
          type = types.passwdEntry types.str;
          default = "";
        };
        uid = mkOption {
          type = with types; nullOr int;
          default = null;
        };
        isSystemUser = mkOption {
          type = types.bool;
          default = false;
        };
        isNormalUser = mkOption {
          type = types.bool;
          default = false;
        };
        group = mkOption {
          type = types.str;
          default = "";
        };
        extraGroups = mkOption {
          type = types.listOf types.str;
          default = [ ];
        };
        home = mkOption {
          type = types.passwdEntry types.path;
          default = "/var/empty";
        };
        homeMode = mkOption {
          type = types.strMatching "[0-7]{1,5}";
          default = "700";
        };
        createHome = mkOption {
          type = types.bool;
          default = false;
        };
        autoSubUidGidRange = mkOption {
          type = types.bool;
          default = false;
        };
      };
      config = lib.mkMerge [
        { name = lib.mkDefault name; }
        (lib.mkIf config.isNormalUser {
          group = lib.mkDefault "users";
          createHome = lib.mkDefault true;
          home = lib.mkDefault "/home/${config.name}";
          autoSubUidGidRange = lib.mkDefault true;
        })
      ];
    };

  groupOpts =
    { name, ... }:
    {
      options = {
        name = mkOption { type = types.passwdEntry types.str; };
        gid = mkOption {
          type = with types; nullOr int;
          default = null;
        };
        members = mkOption {
          type = with types; listOf (passwdEntry str);
          default = [ ];
        };
      };
      config.name = lib.mkDefault name;
    };

  # true when no two entries of set (with a non-null idAttr) share it
  idsAreUnique =
    set: idAttr:
    let
      ids = map (v: toString v.${idAttr}) (lib.attrValues set);
    in
    lib.length (lib.unique ids) == lib.length ids;
  uidsAreUnique = idsAreUnique (lib.filterAttrs (_: u: u.uid != null) cfg.users) "uid";
  gidsAreUnique = idsAreUnique (lib.filterAttrs (_: g: g.gid != null) cfg.groups) "gid";
  groupNames = lib.mapAttrsToList (_: g: g.name) cfg.groups;
  usersWithoutExistingGroup = lib.filterAttrs (
    _: u: u.group != "" && !lib.elem u.group groupNames
  ) cfg.users;
in
{
  options.users = {
    mutableUsers = mkOption {
      type = types.bool;
      default = true;
    };
    enforceIdUniqueness = mkOption {
      type = types.bool;
      default = true;
    };
    users = mkOption {
      default = { };
      type = types.attrsOf (types.submodule userOpts);
    };
    groups = mkOption {
      default = { };
      type = types.attrsOf (types.submodule groupOpts);
    };
  };

  config = {
    users.users.root = {
      uid = 0;
      description = "root (stand-in)";
      home = "/root";
      group = "root";
    };
    users.users.nobody = {
      uid = 65534;
      isSystemUser = true;
      description = "nobody (stand-in)";
      group = "nogroup";
    };
    users.groups.root.gid = 0;
    users.groups.nogroup.gid = 65534;

    assertions = [
      {
        assertion = !cfg.enforceIdUniqueness || (uidsAreUnique && gidsAreUnique);
        message = "stand-in: two users or two groups share an id";
      }
      {
        assertion = usersWithoutExistingGroup == { };
        message = "stand-in: users whose group is not declared: ${lib.concatStringsSep " " (lib.attrNames usersWithoutExistingGroup)}";
      }
    ]
    ++ lib.concatLists (
      lib.mapAttrsToList (name: user: [
        {
          assertion = builtins.match "[a-zA-Z0-9_.][a-zA-Z0-9_.-]*" user.name != null;
          message = "stand-in: user name \"${user.name}\" is not [a-zA-Z0-9_.][a-zA-Z0-9_.-]*";
        }
        {
          assertion = user.isNormalUser && user.uid != null -> user.uid >= 1000;
          message = "stand-in: users.users.${user.name} is a normal user with a uid below 1000";
        }
        {
          assertion =
            let
              isEffectivelySystemUser =
                user.isSystemUser || (user.uid != null && user.uid < 1000 && !user.isNormalUser);
            in
            lib.xor isEffectivelySystemUser user.isNormalUser;
          message = "stand-in: users.users.${user.name} needs one of isSystemUser and isNormalUser";
        }
        {
          assertion = user.group != "";
          message = "stand-in: users.users.${user.name} has no group";
        }
      ]) cfg.users
    );
  };
}
