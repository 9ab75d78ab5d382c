# SPDX-License-Identifier: GPL-2.0-or-later
# The layers beside the firewall deployed: the WireGuard peers with the
# host's private key (refused while default.fp's laptop key is the
# placeholder) and SPIRE registration on the SPIRE server's host.
{
  services.flashpods.enable = true;
  services.flashpods.wireguard.privateKeyFile = "/etc/wireguard/wg0.key";
  services.flashpods.spire.register = true;
}
