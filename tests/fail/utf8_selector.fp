# A string holding bytes that are not UTF-8 is refused where the bytes
# are, whatever the string is for: here a SPIFFE selector and the name of
# an interface (issue 17's reproduction, bytes 0xff 0xfe).
policy p {
    table inet p;
}
source laptop { via "wgÿþ0" from 10.0.0.2; }
source anyone { via any; }
service api tcp 8080;
trust {
           api
    laptop allow
    anyone deny
}
trust_domain "example.org";
spire_parent "spiffe://example.org/host";
identity a "spiffe://example.org/a" selector "docker:label:job:ÿþ" privilege job;
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
