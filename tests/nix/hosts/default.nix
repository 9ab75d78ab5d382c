# SPDX-License-Identifier: GPL-2.0-or-later
# A host that enables Flashpods with the default policy and nothing else.
{
  services.flashpods.enable = true;
}
