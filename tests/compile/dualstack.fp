# SPDX-License-Identifier: GPL-2.0-or-later
# A row with IPv4 and IPv6 addresses: one rule per family (ip saddr and
# ip6 saddr cannot share a match), each family its own set.
policy dual {
    table inet dual;
}

source laptop {
    via "wg0" from 10.0.0.2, fd00::2, 10.0.0.3, fd00::3;
}
source anyone {
    via any;
}

service api tcp 8080;
service ssh tcp 22;

trust {
           api    ssh
    laptop allow  allow
    anyone deny   deny
}

trust_domain "example.org";
