# SPDX-License-Identifier: GPL-2.0-or-later
# `via from` without an interface: addresses from anywhere, on any
# interface. Several make a named set; a single address stays literal.
policy fromonly {
    table inet fromonly;
}

source office {
    via from 10.2.0.0/16, 10.1.0.0/16, 172.16.5.4;
}
source monitor {
    via from 192.0.2.10;
}
source anyone {
    via any;
}

service api     tcp 8080;
service metrics tcp 9100;

trust {
            api    metrics
    office  deny   -
    monitor -      allow
    anyone  deny   allow
}

trust_domain "example.org";
container {
    source office;
    engine podman rootless user flashpods;
    userns keep-id;
    network slirp4netns;
    image "ubuntu:22.04";
}
