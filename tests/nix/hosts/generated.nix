# SPDX-License-Identifier: GPL-2.0-or-later
# The checked-in copy of fpc's output (nix/generated): evaluation reads
# source files only, no import from derivation.
{
  services.flashpods.enable = true;
  services.flashpods.generated = ../../../nix/generated;
}
