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
identity agent "spiffe://other.org/agent" selector "unix:uid:1";
privilege agent {
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
