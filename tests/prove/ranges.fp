# SPDX-License-Identifier: GPL-2.0-or-later
# Classes from atoms: IPv4 and IPv6 peers, prefixes, a port range, two
# interface patterns sharing a prefix, a `via user` row and `can reach`
# clauses that must hold on the emitted ruleset.
policy ranges {
    table inet ranges;
}

source peers {
    via "wg0" from 10.0.0.2, 10.0.1.0/24, fd00::/64;
}
source bridges {
    via "podman*", "pod*";
}
source builder {
    via user flashpods;
}
source anyone {
    via any;
}

service api     tcp 8080 on 10.0.0.1;
service metrics tcp 9000-9100;
service dns     udp 53;

trust {
            api    metrics  dns
    peers   allow  allow    allow
    bridges deny   deny     allow
    builder deny   -        -
    anyone  deny   deny     deny
}

invariant walls "bridges and the builder never reach the API" {
    bridges cannot reach api, metrics;
    builder cannot reach api;
}
invariant doors "peers reach everything" {
    peers can reach api, metrics, dns;
    bridges can reach dns;
}
