# SPDX-License-Identifier: GPL-2.0-or-later
# The API token given as a Nix path: refused (it would be copied into the
# world-readable store).
{
  services.flashpods.enable = true;
  services.flashpods.api.tokenFile = ./api-token;
}
