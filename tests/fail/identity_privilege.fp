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
identity agent "spiffe://example.org/agent" selector "docker:label:type:agent" privilege agnt;
identity worker "spiffe://example.org/worker" selector "unix:uid:2";
identity agent2 "spiffe://example.org/agent" selector "", "unix:uid:3" privilege agent;
privilege agent {
    secrets API_KEY;
    mount work rw;
    cpus 1..4 default 2;
    memory 1..8 GB default 4;
    timeout 1..120 min default 60;
}
mount work "/srv/uploads/{upload_id}" at "/work";
container {
    source laptop;
    engine podman rootless user fp uid 990;
    userns keep-id;
    network slirp4netns;
}
