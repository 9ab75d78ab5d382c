# SPDX-License-Identifier: GPL-2.0-or-later
# Egress denies: an interface row drops in the forward hook, a user row
# rejects in the output hook (only what leaves the host, not lo), the
# catch-all drops forwarded traffic; `to` limits them to the destinations.
policy egress_rules {
    table inet egress_rules;
}

source containers {
    via "podman*", "cni-*";
    via user flashpods;
}
source lab {
    via "lab0" from 192.168.7.0/24, fd07::/64;
}
source anyone {
    via any;
}

service api      tcp 8080;
service internet egress;
service metadata egress to 169.254.169.254, fd00:ec2::254;
service lan      egress to 192.168.0.0/16, 172.16.0.0/12;

trust {
               api    internet  metadata  lan
    containers deny   -         deny      deny
    lab        allow  allow     deny      -
    anyone     deny   deny      -         -
}

trust_domain "example.org";
container {
    source containers;
    engine podman rootless user flashpods;
    userns keep-id;
    network slirp4netns;
    image "ubuntu:22.04";
}
