# SPDX-License-Identifier: GPL-2.0-or-later
# A configuration that forces another uid on the container user: the
# firewall would still match the policy's 990.
{ lib, ... }:
{
  services.flashpods.enable = true;
  users.users.flashpods.uid = lib.mkForce 1234;
}
