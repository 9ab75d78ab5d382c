# SPDX-License-Identifier: GPL-2.0-or-later
# tests/nix/nixos/firewall.nix: networking.firewall as nixpkgs declares it,
# with the backend switch and the nftables backend's assertions and table.
#
# Rebuilt from NixOS/nixpkgs
#   nixos/modules/services/networking/firewall.nix           0192bb844360b5b42ebaf7f575f84d79910a5927
#   nixos/modules/services/networking/firewall-nftables.nix  040b4eb6c33439c14b2ed3ff0660131bee4ef852
#   nixos/modules/services/networking/firewall-iptables.nix  0d953321a18cf484b637b9932f8b3040bbfb11e3
# The options the module sets or the backend reads, with nixpkgs' types,
# defaults and apply functions; `backend` defaulting from
# services.firewalld.enable and networking.nftables.enable; the assertions
# of firewall.nix and firewall-nftables.nix; and the `nixos-fw` table the
# nftables backend adds to networking.nftables.tables (the same statements,
# for the options declared here; filterOutput is reduced to `enabled`, which
# this test never turns on, so its chains are not rebuilt).
{ config, lib, ... }:
let
  cfg = config.networking.firewall;

  canonicalizePortList = ports: lib.unique (builtins.sort builtins.lessThan ports);

  commonOptions = direction: {
    allowedTCPPorts = lib.mkOption {
      type = lib.types.listOf lib.types.port;
      default = [ ];
      apply = canonicalizePortList;
      description = "tcp ports open to ${direction} connections (stand-in).";
    };
    allowedTCPPortRanges = lib.mkOption {
      type = lib.types.listOf (lib.types.attrsOf lib.types.port);
      default = [ ];
      description = "tcp port ranges open to ${direction} connections (stand-in).";
    };
    allowedUDPPorts = lib.mkOption {
      type = lib.types.listOf lib.types.port;
      default = [ ];
      apply = canonicalizePortList;
      description = "udp ports open to ${direction} packets (stand-in).";
    };
    allowedUDPPortRanges = lib.mkOption {
      type = lib.types.listOf (lib.types.attrsOf lib.types.port);
      default = [ ];
      description = "udp port ranges open to ${direction} packets (stand-in).";
    };
  };
  commonOptionsIncoming = commonOptions "incoming";

  lines = lib.types.lines;
  str = lib.types.str;
  bool = lib.types.bool;
  opt = type: default: lib.mkOption { inherit type default; };

  portsToNftSet =
    ports: ranges:
    lib.concatStringsSep ", " (
      map toString ports ++ map (r: "${toString r.from}-${toString r.to}") ranges
    );
  trusted = lib.concatStringsSep ", " (map (x: ''"${x}"'') cfg.trustedInterfaces);
in
{
  options.services.firewalld.enable = lib.mkEnableOption "firewalld";

  options.networking.firewall = {
    enable = opt bool true;
    backend = lib.mkOption {
      type = lib.types.enum [ "iptables" "nftables" "firewalld" ];
      default =
        if config.services.firewalld.enable then
          "firewalld"
        else if config.networking.nftables.enable then
          "nftables"
        else
          "iptables";
    };
    logRefusedConnections = opt bool false;
    logRefusedPackets = opt bool false;
    logRefusedUnicastsOnly = opt bool true;
    rejectPackets = opt bool false;
    trustedInterfaces = opt (lib.types.listOf str) [ ];
    allowPing = opt bool true;
    pingLimit = opt (lib.types.nullOr (lib.types.separatedString " ")) null;
    checkReversePath = opt (lib.types.either bool (lib.types.enum [ "strict" "loose" ])) true;
    logReversePathDrops = opt bool false;
    filterOutput = lib.mkOption {
      type = lib.types.submodule { options.enabled = lib.mkEnableOption "filtering for outgoing traffic"; };
      default = { };
    };
    filterForward = opt bool false;
    interfaces = lib.mkOption {
      default = { };
      type = lib.types.attrsOf (lib.types.submodule [ { options = commonOptionsIncoming; } ]);
    };
    allInterfaces = lib.mkOption {
      internal = true;
      visible = false;
      default = {
        default = lib.mapAttrs (name: _: cfg.${name}) commonOptionsIncoming;
      }
      // cfg.interfaces;
      type = lib.types.attrsOf (lib.types.submodule [ { options = commonOptionsIncoming; } ]);
    };
    # firewall-iptables.nix
    extraCommands = opt lines "";
    extraStopCommands = opt lines "";
    # firewall-nftables.nix
    extraInputRules = opt lines "";
    extraForwardRules = opt lines "";
    extraReversePathFilterRules = opt lines "";
  }
  // commonOptionsIncoming;

  config = lib.mkMerge [
    (lib.mkIf cfg.enable {
      assertions = [
        {
          assertion = cfg.filterForward -> config.networking.nftables.enable;
          message = "stand-in: filterForward needs the nftables backend";
        }
        {
          assertion = cfg.filterOutput.enabled -> config.networking.nftables.enable;
          message = "stand-in: filterOutput.enabled needs the nftables backend";
        }
      ];
      networking.firewall.trustedInterfaces = [ "lo" ];
    })

    (lib.mkIf (cfg.enable && cfg.backend == "nftables") {
      assertions = [
        {
          assertion = cfg.extraCommands == "";
          message = "stand-in: the nftables backend runs no extraCommands (${cfg.extraCommands})";
        }
        {
          assertion = cfg.extraStopCommands == "";
          message = "stand-in: the nftables backend runs no extraStopCommands (${cfg.extraStopCommands})";
        }
        {
          assertion = cfg.pingLimit == null || !(lib.hasPrefix "--" cfg.pingLimit);
          message = "stand-in: pingLimit takes nftables syntax (2/second)";
        }
        {
          assertion = config.networking.nftables.rulesetFile == null;
          message = "stand-in: the firewall and networking.nftables.rulesetFile exclude each other";
        }
      ];

      networking.nftables.tables."nixos-fw".family = "inet";
      networking.nftables.tables."nixos-fw".content = ''
        set temp-ports {
          comment "Temporarily opened ports"
          type inet_proto . inet_service
          flags interval
          auto-merge
        }

        ${lib.optionalString (cfg.checkReversePath != false) ''
          chain rpfilter {
            type filter hook prerouting priority mangle + 10; policy drop;
            meta nfproto ipv4 udp sport . udp dport { 67 . 68, 68 . 67 } accept comment "DHCPv4 client/server"
            fib saddr . mark ${lib.optionalString (cfg.checkReversePath != "loose") ". iif"} oif exists accept
            jump rpfilter-allow
            ${lib.optionalString cfg.logReversePathDrops ''log level info prefix "rpfilter drop: "''}
          }
        ''}

        chain rpfilter-allow {
          ${cfg.extraReversePathFilterRules}
        }

        chain input {
          type filter hook input priority filter; policy drop;
          ${lib.optionalString (trusted != "") ''iifname { ${trusted} } accept comment "trusted interfaces"''}
          ct state vmap {
            invalid : drop,
            established : accept,
            related : accept,
            new : jump input-allow,
            untracked: jump input-allow,
          }
          ${lib.optionalString cfg.logRefusedConnections ''tcp flags syn / fin,syn,rst,ack log level info prefix "refused connection: "''}
          ${lib.optionalString cfg.rejectPackets ''
            meta l4proto tcp reject with tcp reset
            reject
          ''}
        }

        chain input-allow {
          ${lib.concatStrings (
            lib.mapAttrsToList (
              iface: c:
              let
                ifaceExpr = lib.optionalString (iface != "default") "iifname ${iface}";
                tcpSet = portsToNftSet c.allowedTCPPorts c.allowedTCPPortRanges;
                udpSet = portsToNftSet c.allowedUDPPorts c.allowedUDPPortRanges;
              in
              ''
                ${lib.optionalString (tcpSet != "") "${ifaceExpr} tcp dport { ${tcpSet} } accept"}
                ${lib.optionalString (udpSet != "") "${ifaceExpr} udp dport { ${udpSet} } accept"}
              ''
            ) cfg.allInterfaces
          )}
          meta l4proto . th dport @temp-ports accept
          ${lib.optionalString cfg.allowPing ''
            icmp type echo-request ${
              lib.optionalString (cfg.pingLimit != null) "limit rate ${cfg.pingLimit}"
            } accept comment "allow ping"
          ''}
          icmpv6 type != { nd-redirect, 139 } accept comment "icmpv6 but redirects and node information (139): RFC 4890 4.4"
          ip6 daddr fe80::/64 udp dport 546 accept comment "DHCPv6 client"
          ${cfg.extraInputRules}
        }

        ${lib.optionalString cfg.filterForward ''
          chain forward {
            type filter hook forward priority filter; policy drop;
            ct state vmap {
              invalid : drop,
              established : accept,
              related : accept,
              new : jump forward-allow,
              untracked : jump forward-allow,
            }
          }
          chain forward-allow {
            icmpv6 type != { router-renumbering, 139 } accept comment "icmpv6 but renumbering and node information (139): RFC 4890 4.3"
            ct status dnat accept comment "allow port forward"
            ${cfg.extraForwardRules}
          }
        ''}
      '';
    })
  ];
}
