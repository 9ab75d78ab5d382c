# SPDX-License-Identifier: GPL-2.0-or-later
# IPv6 only: a host address and a prefix make a named set; the catch-all
# drops the API and allows DNS, over IPv6 and IPv4 alike.
policy v6 {
    table inet v6fw;
}

source laptop {
    via "wg0" from fd00::2, fd00:1::/64;
}
source anyone {
    via any;
}

service api tcp 8080;
service dns udp 53;

trust {
           api    dns
    laptop allow  allow
    anyone deny   allow
}

trust_domain "example.org";
