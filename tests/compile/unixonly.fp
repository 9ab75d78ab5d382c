# SPDX-License-Identifier: GPL-2.0-or-later
# Unix services are enforced by file ownership, mode and mounts, not by
# nftables; an egress allow adds nothing. The table holds an empty input
# chain and the catch-all's one rule.
policy unixonly {
    table inet unixonly;
}

source workers {
    via "podman*";
}
source anyone {
    via any;
}

service token    unix "/run/flashpods/token.sock" owner flashpods:flashpods mode 0660;
service internet egress;
service wg       udp 51820;

trust {
            token  internet  wg
    workers allow  allow     -
    anyone  -      -         allow
}

trust_domain "example.org";
container {
    source workers;
    engine podman rootless user flashpods;
    userns keep-id;
    network slirp4netns;
    image "ubuntu:22.04";
}
