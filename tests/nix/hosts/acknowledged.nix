# SPDX-License-Identifier: GPL-2.0-or-later
# A host that runs nftables already (or confirms the switch): no warning
# about the firewall backend.
{
  services.flashpods.enable = true;
  networking.nftables.enable = true;
}
