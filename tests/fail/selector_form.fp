# Selectors are TYPE:KEY:VALUE of a SPIRE workload attestor's documented forms.
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
identity a "spiffe://example.org/a" selector "bogus", "docker:label", "dokcer:label:k:v", "podman:label:k:v" privilege job;
identity b "spiffe://example.org/b" selector "docker:lable:k:v", "unix:pid:12", "k8s:namespace:jobs" privilege job;
identity c "spiffe://example.org/c" selector "docker:label:k:v", "docker:label:k:v", "docker:label:{job_id}:x" privilege job;
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
