# SPDX-License-Identifier: GPL-2.0-or-later
# An operator who asks for the whole-ruleset flush: it is theirs to make,
# with a warning.
{
  services.flashpods.enable = true;
  networking.nftables.flushRuleset = true;
}
