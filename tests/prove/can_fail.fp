# SPDX-License-Identifier: GPL-2.0-or-later
# An invariant that promises reachability the table takes away: the
# laptop row allows the API only from one address, the invariant says the
# whole WireGuard interface reaches it. The proof must fail with a packet
# the ruleset drops.
policy canfail {
    table inet canfail;
}

source laptop {
    via "wg0" from 10.0.0.2;
}
source tunnel {
    via "wg0";
}
source anyone {
    via any;
}

service api tcp 8080;

trust {
           api
    laptop allow
    tunnel -
    anyone deny
}

invariant tunnel_reach "the tunnel reaches the API" {
    tunnel can reach api;
}
