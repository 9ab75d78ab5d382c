# SPDX-License-Identifier: GPL-2.0-or-later
# A host with a raw networking.nftables.ruleset: without the flush its
# rules would pile up at every reload, so the module refuses to turn the
# flush off silently.
{
  services.flashpods.enable = true;
  networking.nftables.ruleset = ''
    table inet mine {
      chain input { type filter hook input priority 10; }
    }
  '';
}
