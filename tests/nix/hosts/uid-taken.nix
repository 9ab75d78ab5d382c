# SPDX-License-Identifier: GPL-2.0-or-later
# Another account already declared with the uid the policy pins (990).
{
  services.flashpods.enable = true;
  users.users.backup = {
    isSystemUser = true;
    uid = 990;
    group = "backup";
  };
  users.groups.backup = { };
}
