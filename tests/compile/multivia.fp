# SPDX-License-Identifier: GPL-2.0-or-later
# A source with several via clauses is their union: one group of rules per
# clause; two clauses with addresses get two sets (laptops_v4, laptops_v4_2).
policy multivia {
    table inet multivia;
}

source laptops {
    via "wg0" from 10.0.0.2, 10.0.0.3;
    via "wg1" from 10.9.0.2, 10.9.0.3;
    via "tailscale0";
}
source anyone {
    via any;
}

service api   tcp 8080;
service rsync tcp 873;
service syslog udp 514;

trust {
            api    rsync  syslog
    laptops allow  allow  allow
    anyone  deny   deny   deny
}

trust_domain "example.org";
