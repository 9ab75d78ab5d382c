# SPDX-License-Identifier: GPL-2.0-or-later
# tests/spire/noparent.fp: identities but no spire_parent: fpc registers
# nothing (an empty entry list), SPIRE is then the operator's.
policy np {
    table inet np;
}

source anyone { via any; }
service api tcp 8080;

trust {
           api
    anyone deny
}

trust_domain "example.org";
identity job "spiffe://example.org/job" selector "docker:label:job:yes";

privilege job {
    cpus 1..2;
    memory 1..2 GB;
    timeout 1..10 min;
}

container {
    source anyone;
    engine podman rootless user flashpods uid 990;
    userns keep-id;
    network slirp4netns;
}
