policy t {
    table inet t;
}
source laptop {
    via "wg0" from 10.0.0.2;
}
source anyone {
    via any;
}
service api tcp 8080;
trust {
           api
    laptop allow
    anyone deny
}
trust_domain "example.org";
identity a "http://example.org/a" selector "unix:uid:1" privilege p;
identity b "spiffe://example.org:8443/b" selector "unix:uid:1" privilege p;
identity c "spiffe://example.org/b?x=1" selector "unix:uid:1" privilege p;
identity d "spiffe://example.org//d" selector "unix:uid:1" privilege p;
identity e "spiffe://example.org/e/../f" selector "unix:uid:1" privilege p;
identity f "spiffe://Example.org/f" selector "unix:uid:1" privilege p;
identity g "spiffe://example.org" selector "unix:uid:1" privilege p;
identity h "spiffe://user@example.org/h" selector "unix:uid:1" privilege p;
identity i "spiffe://example.org/i#frag" selector "unix:uid:1" privilege p;
identity j "spiffe://example.org/j k" selector "unix:uid:1" privilege p;
privilege p {
    cpus 1..4;
    memory 1..8 GB;
    timeout 1..120 min;
}
container {
    source laptop;
    engine podman rootless user fp;
    userns keep-id;
    network slirp4netns;
}
