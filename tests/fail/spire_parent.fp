# spire_parent is a SPIFFE ID in the trust domain, given once.
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
spire_parent "spiffe://other.org/host";
spire_parent "spiffe://example.org/host";
identity a "spiffe://example.org/a" selector "unix:uid:990" privilege job;
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
