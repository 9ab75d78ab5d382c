# SPDX-License-Identifier: GPL-2.0-or-later
# `via user` rows: the output hook, keyed on the socket owner. A user with
# no pinned uid is matched by name (nft resolves it at load). tcp denies
# answer with a reset, udp denies with ICMP; allows accept.
policy users {
    table inet users;
}

source builders {
    via user flashpods;
}
source containers {
    via "podman*";
    via user nobody;
}
source anyone {
    via any;
}

service api   tcp 8080;
service dns   udp 53;
service ntp   udp 123;

trust {
               api    dns    ntp
    builders   deny   deny   allow
    containers deny   -      deny
    anyone     deny   allow  allow
}

trust_domain "example.org";
container {
    source containers;
    engine podman rootless user flashpods;
    userns keep-id;
    network slirp4netns;
    image "ubuntu:22.04";
}
