# SPDX-License-Identifier: GPL-2.0-or-later
# tests/bundle/peers.fp: trust rows for bundle_peer_allowed(): address rows
# decide in row order, interface-only and user rows are skipped, the
# catch-all row decides the rest.
policy peers {
    table inet peers;
}
source admin   { via "wg0" from 10.0.0.2, fd00::2; }
source blocked { via "wg0" from 10.0.0.0/24; }
source office  { via "eth0" from 192.168.0.0/16, 10.0.0.0/8; }
source bridges { via "podman*"; }
source local   { via user nobody; }
source anyone  { via any; }

service api tcp 8080;
service dns udp 53-54;

trust {
            api    dns
    admin   allow  -
    blocked deny   allow
    office  allow  deny
    bridges allow  -
    local   deny   -
    anyone  deny   allow
}

trust_domain "example.org";
