# SPDX-License-Identifier: GPL-2.0-or-later
# Port ranges, and services sharing a rule: the same protocol and verdict
# share a port set (sorted; web-admin 8443 lies inside web 8000-8999, so the
# set holds the range only); tcp and udp never share one.
policy ports {
    table inet ports;
}

source laptop {
    via "wg0";
}
source anyone {
    via any;
}

service ssh       tcp 22;
service web-admin tcp 8443;
service web       tcp 8000-8999;
service x11       tcp 6000-6010;
service mosh      udp 60000-61000;
service dns       udp 53;

trust {
           ssh    web-admin  web    x11    mosh   dns
    laptop allow  allow      allow  deny   allow  deny
    anyone deny   deny       deny   deny   deny   allow
}

trust_domain "example.org";
container {
    source laptop;
    engine podman rootless user flashpods;
    userns keep-id;
    network slirp4netns;
    image "ubuntu:22.04";
}
