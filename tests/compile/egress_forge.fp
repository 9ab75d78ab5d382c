# SPDX-License-Identifier: GPL-2.0-or-later
# Egress with a protocol and ports, and cells over overlapping destinations
# in one row: the most specific decides first (the forge's https, then the
# forge's other ports are refused with the rest of the internet; DNS to
# the resolver is allowed). A `via from` row covers the host's own
# processes from that address, so its egress cells apply on output too.
policy egress_forge {
    table inet egress_forge;
}

source jobs {
    via "podman*";
    via user flashpods;
}
source admin {
    via from 10.0.0.5;
}
source anyone {
    via any;
}

service api      tcp 8080;
service forge    egress tcp 443 to 140.82.112.0/20, 2001:db8:99::/48;
service dns      egress udp 53 to 10.0.0.53;
service internet egress;

trust {
           api   forge  dns    internet
    jobs   deny  allow  allow  deny
    admin  allow -      -      deny
    anyone deny  -      -      -
}
