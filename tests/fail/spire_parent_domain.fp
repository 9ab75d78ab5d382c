# spire_parent needs a trust domain.
policy p {
    table inet p;
}
source anyone { via any; }
service api tcp 8080;
trust {
           api
    anyone deny
}
spire_parent "spiffe://example.org/host";
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
