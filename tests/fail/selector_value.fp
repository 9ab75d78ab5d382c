# Each selector's value has its documented form.
policy p {
    table inet p;
}
source anyone { via any; }
service api tcp 8080;
trust {
           api
    anyone deny
}
trust_domain "example.org";
spire_parent "spiffe://example.org/host";
identity a "spiffe://example.org/a" selector "docker:label:novalue", "docker:env:NOEQUALS", "docker:image_config_digest:77af4d6b9913" privilege job;
identity b "spiffe://example.org/b" selector "unix:uid:abc", "unix:gid:4294967296", "unix:path:bin/sh", "unix:sha256:xyz" privilege job;
identity c "spiffe://example.org/c" selector "k8s:pod-label:app", "k8s:pod-image-count:two", "k8s:ns:" privilege job;
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
