# SPDX-License-Identifier: GPL-2.0-or-later
# "-" cells: no rule of their own, the packet falls through to the rows
# below; a row of dashes adds nothing at all.
policy dashes {
    table inet dashes;
}

source laptop {
    via "wg0" from 10.0.0.2;
}
source containers {
    via "podman*";
}
source office {
    via "eth1";
}
source anyone {
    via any;
}

service api       tcp 8080;
service rsync     tcp 873;
service wireguard udp 51820;
service dns       udp 53;

trust {
               api    rsync  wireguard  dns
    laptop     allow  -      -          -
    containers -      deny   -          allow
    office     -      -      -          -
    anyone     deny   deny   allow      deny
}

trust_domain "example.org";
container {
    source containers;
    engine podman rootless user flashpods;
    userns keep-id;
    network slirp4netns;
    image "ubuntu:22.04";
}
