# SPDX-License-Identifier: GPL-2.0-or-later
# Several interface patterns: one anonymous set; "podman0" is folded into
# "podman*", which already matches it.
policy ifs {
    table inet ifs;
}

source containers {
    via "podman*", "cni-*", "veth*", "podman0", "br-jobs";
}
source anyone {
    via any;
}

service api tcp 8080;
service rsync tcp 873;
service metrics tcp 9100;

trust {
               api    rsync  metrics
    containers deny   deny   deny
    anyone     allow  deny   allow
}

trust_domain "example.org";
container {
    source containers;
    engine podman rootless user flashpods;
    userns keep-id;
    network slirp4netns;
    image "ubuntu:22.04";
}
