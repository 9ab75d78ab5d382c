# SPDX-License-Identifier: GPL-2.0-or-later
# A host with iptables rules in the firewall's extraCommands: enabling
# nftables would break them.
{
  services.flashpods.enable = true;
  networking.firewall.extraCommands = "iptables -A nixos-fw -p tcp --dport 2222 -j nixos-fw-accept";
}
