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
service token unix "/run/t.sock" owner root:root mode 0660;
trust {
           api    token
    laptop allow  deny
    anyone deny   -
}
trust_domain "example.org";
identity agent "spiffe://example.org/agent" selector "docker:label:type:agent";
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
mount token service token ro;
mount tok2 "/srv/a" at "/work" ro;
