# SPDX-License-Identifier: GPL-2.0-or-later
# enable = false, and a policy that does not exist (nor does the compiled
# output, in the test): nothing may be read, built or defined.
{
  services.flashpods.enable = false;
  services.flashpods.policy = /nonexistent/flashpods.fp;
}
