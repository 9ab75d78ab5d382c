# SPDX-License-Identifier: GPL-2.0-or-later
# A host that turns nftables off explicitly: the policy's table would not
# be loaded.
{
  services.flashpods.enable = true;
  networking.nftables.enable = false;
}
