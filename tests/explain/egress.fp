# SPDX-License-Identifier: GPL-2.0-or-later
# tests/explain: egress cells by user and by address-only clause, and a
# reject that decides (query names it, not a plain drop).
policy egress_cells {
    table inet flashpods;
}
source builders { via from 10.87.0.0/16; }
source jobs     { via user flashpods; }
source batch    { via user nobody; }
source anyone   { via any; }
service api      tcp 8080;
service forge    egress tcp 443 to 198.51.100.0/24;
service internet egress;
trust {
            api    forge  internet
  builders  -      allow  deny
  jobs      deny   -      allow
  batch     deny   deny   deny
  anyone    deny   -      deny
}
