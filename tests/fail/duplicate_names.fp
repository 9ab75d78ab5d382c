policy t {
    table inet t;
}
source laptop {
    via "wg0" from 10.0.0.2;
}
source laptop {
    via "wg1";
}
source anyone {
    via any;
}
service api tcp 8080;
service api tcp 8081;
trust {
           api
    laptop allow
    anyone deny
}
invariant i "x" {
    laptop can reach api;
}
invariant i "y" {
    laptop can reach api;
}
trust_domain "example.org";
identity agent "spiffe://example.org/agent" selector "unix:uid:1";
identity agent "spiffe://example.org/agent2" selector "unix:uid:1";
privilege agent {
    cpus 1..4;
    memory 1..8 GB;
    timeout 1..120 min;
}
privilege agent {
    cpus 1..4;
    memory 1..8 GB;
    timeout 1..120 min;
}
mount work "/srv/w" at "/work" rw;
mount work "/srv/x" at "/x" rw;
container {
    source laptop;
    engine podman rootless user fp;
    userns keep-id;
    network slirp4netns;
}
