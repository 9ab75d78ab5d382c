# SPDX-License-Identifier: GPL-2.0-or-later
# The secrets file given as a string inside /nix/store: refused too.
{
  services.flashpods.enable = true;
  services.flashpods.tokenService.secretsFile = "/nix/store/00000000000000000000000000000000-secrets.json";
}
