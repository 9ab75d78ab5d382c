# SPDX-License-Identifier: GPL-2.0-or-later
# A catch-all that allows: accept rules (the chain accepts anyway, but rows
# above that deny are decided first); udp and tcp services mixed.
policy open {
    table inet open;
}

source blocked {
    via "eth9" from 198.51.100.0/24;
}
source laptop {
    via "wg0" from 10.0.0.2;
}
source anyone {
    via any;
}

service https tcp 443;
service http  tcp 80;
service dns   udp 53;
service quic  udp 443;

trust {
            https  http   dns    quic
    blocked deny   deny   deny   deny
    laptop  allow  -      -      allow
    anyone  allow  allow  allow  deny
}

trust_domain "example.org";
container {
    source laptop;
    engine podman rootless user flashpods;
    userns keep-id;
    network slirp4netns;
    image "ubuntu:22.04";
}
