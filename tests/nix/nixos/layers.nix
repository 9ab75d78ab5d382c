# SPDX-License-Identifier: GPL-2.0-or-later
# tests/nix/nixos/layers.nix: the NixOS options nix/module.nix sets for the
# layers beside the firewall, as nixpkgs declares them (the ones used here).
#
# Rebuilt from NixOS/nixpkgs:
#   nixos/modules/services/networking/wireguard.nix
#     networking.wireguard.interfaces.<name>.{ips, listenPort, privateKeyFile,
#     peers.*.{publicKey, allowedIPs, endpoint, persistentKeepalive}}
#   nixos/modules/services/network-filesystems/rsyncd.nix
#     services.rsyncd.{enable, port, settings, socketActivated} (settings:
#     pkgs.formats.ini, sections of key = value; the module adds
#     settings.global.port, and systemd.sockets.rsync.listenStreams = [ port ])
#   nixos/lib/systemd-unit-options.nix  systemd.sockets.<name>.listenStreams
{ config, lib, ... }:
let
  inherit (lib) mkOption types;
  peer = {
    options = {
      publicKey = mkOption { type = types.nullOr types.str; default = null; };
      allowedIPs = mkOption { type = types.listOf types.str; };
      endpoint = mkOption { type = types.nullOr types.str; default = null; };
      persistentKeepalive = mkOption { type = types.nullOr types.int; default = null; };
    };
  };
  interface = {
    options = {
      ips = mkOption { type = types.listOf types.str; default = [ ]; };
      listenPort = mkOption { type = types.nullOr types.int; default = null; };
      privateKeyFile = mkOption { type = types.nullOr types.path; default = null; };
      peers = mkOption { type = types.listOf (types.submodule peer); default = [ ]; };
    };
  };
  iniAtom = types.oneOf [ types.str types.int types.bool ];
in
{
  options = {
    networking.wireguard.interfaces = mkOption {
      type = types.attrsOf (types.submodule interface);
      default = { };
    };
    services.rsyncd = {
      enable = mkOption { type = types.bool; default = false; };
      port = mkOption { type = types.port; default = 873; };
      settings = mkOption { type = types.attrsOf (types.attrsOf iniAtom); default = { }; };
      socketActivated = mkOption { type = types.bool; default = false; };
    };
    systemd.sockets = mkOption {
      type = types.attrsOf (
        types.submodule {
          options.listenStreams = mkOption { type = types.listOf types.str; default = [ ]; };
        }
      );
      default = { };
    };
  };
  config = lib.mkIf config.services.rsyncd.enable {
    services.rsyncd.settings.global.port = toString config.services.rsyncd.port;
    systemd.sockets.rsync.listenStreams = [ (toString config.services.rsyncd.port) ];
  };
}
