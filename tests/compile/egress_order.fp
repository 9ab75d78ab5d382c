# SPDX-License-Identifier: GPL-2.0-or-later
# Row order for egress: an allow above a deny of the same service in the
# same hook becomes an accept rule, or the deny below would win.
policy egress_order {
    table inet egress_order;
}

source trusted {
    via "podman-ci*";
    via user daemon;
}
source containers {
    via "podman*";
    via user flashpods;
}
source anyone {
    via any;
}

service internet egress to 0.0.0.0/0, ::/0;

trust {
               internet
    trusted    allow
    containers deny
    anyone     -
}

trust_domain "example.org";
container {
    source containers;
    engine podman rootless user flashpods;
    userns keep-id;
    network slirp4netns;
    image "ubuntu:22.04";
}
