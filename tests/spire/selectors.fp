# SPDX-License-Identifier: GPL-2.0-or-later
# tests/spire/selectors.fp: one identity per workload attestor, with every
# documented selector form fpc accepts.
policy sel {
    table inet sel;
}

source containers { via "podman*"; }
source anyone     { via any; }

service api tcp 8080;

trust {
               api
    containers deny
    anyone     deny
}

trust_domain "example.org";
spire_parent "spiffe://example.org/spire/agent/join_token/2f4c1e9a";

identity builder "spiffe://example.org/ci/builder" selector "docker:label:com.example.role:builder", "docker:env:CI=true", "docker:image_id:77af4d6b9913", "docker:image_config_digest:sha256:3a6eb0790f39ac87c94f3856b2dd2c5d110e6811602261a9a923d3bb23adc8b7", "unix:uid:990" privilege job;
identity host "spiffe://example.org/host/agent" selector "unix:user:flashpods", "unix:gid:990", "unix:group:flashpods", "unix:supplementary_gid:100", "unix:supplementary_group:users", "unix:path:/usr/bin/fp-agent", "unix:sha256:3a6eb0790f39ac87c94f3856b2dd2c5d110e6811602261a9a923d3bb23adc8b7" privilege job;
identity pod "spiffe://example.org/ns/jobs/sa/runner" selector "k8s:ns:jobs", "k8s:sa:runner", "k8s:container-image:docker.io/library/ubuntu:22.04", "k8s:container-name:main", "k8s:node-name:node-1", "k8s:pod-label:app:runner", "k8s:pod-owner:ReplicaSet:runner-5d8", "k8s:pod-owner-uid:ReplicaSet:0b3c", "k8s:pod-uid:9f1e", "k8s:pod-name:runner-0", "k8s:pod-image:ubuntu:22.04", "k8s:pod-image-count:2", "k8s:pod-init-image:busybox", "k8s:pod-init-image-count:1" privilege job;

privilege job {
    cpus 1..2;
    memory 1..2 GB;
    timeout 1..10 min;
}

container {
    source containers;
    engine podman rootless user flashpods uid 990;
    userns keep-id;
    network slirp4netns;
}
