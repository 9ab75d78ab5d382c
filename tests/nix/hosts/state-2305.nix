# SPDX-License-Identifier: GPL-2.0-or-later
# A host installed with NixOS 23.05: nixpkgs would flush the whole ruleset
# on every nftables reload; the module makes the reload per table.
{
  services.flashpods.enable = true;
  system.stateVersion = "23.05";
}
