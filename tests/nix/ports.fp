# SPDX-License-Identifier: GPL-2.0-or-later
# tests/nix/ports.fp: what the NixOS firewall must open: exact interfaces
# (several, with addresses), a wildcard pattern, a user row, port ranges,
# udp, deny and "-" cells, a catch-all allow; sockets sharing a directory;
# a mount with a placeholder and one without.
policy edge {
    table inet edge;
    mount roots "/srv/edge", "/var/cache/edge";
}

source admin {
    via "eth1", "wg1" from 192.0.2.10, 2001:db8::10;
}
source lab {
    via "veth*";
}

source builders {
    via user builder;
}
source anyone {
    via any;
}

service ssh     tcp 22;
service web     tcp 8000-8010;
service dns     udp 53;
service game    udp 27015-27030;
service metrics tcp 9100;
service tok     unix "/run/edge/tok.sock" owner builder:builder mode 0600;
service ctl     unix "/run/edge/ctl.sock" owner root:builder mode 0660;
service out     egress;

trust {
             ssh    web    dns    game   metrics  tok    ctl    out
    admin    allow  allow  -      -      allow    -      -      -
    lab      -      allow  allow  deny   -        -      -      -
    builders deny   -      -      -      deny     allow  allow  deny
    anyone   deny   deny   allow  allow  deny     -      -      allow
}

trust_domain "edge.test";
identity build "spiffe://edge.test/build" selector "docker:label:edge-job:build";

mount data  "/srv/edge/jobs/{job_id}/data" at "/data" rw;
mount cache "/var/cache/edge/cache" at "/cache" ro;
mount tok   service tok ro;

privilege build {
    mount tok ro;
    cpus 1..2 default 1;
    memory 1..2 GB default 1;
    timeout 1..10 min default 5;
}

container {
    source builders;
    engine podman rootless user builder uid 1300;
    userns keep-id;
    network slirp4netns;
    image "busybox";
    cap_drop ALL;
}
