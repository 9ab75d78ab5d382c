# hosts allow lists addresses: every row allowing rsync must name them.
policy p {
    table inet p;
}
source laptop     { via "wg0" from 10.0.0.2; }
source office     { via "eth1"; }
source containers { via "podman*"; }
source anyone     { via any; }
service rsync tcp 873 on 10.0.0.1;
service sync  udp 873;
service range tcp 8000-8009;
trust {
               rsync  sync  range
    laptop     allow  -     -
    office     allow  -     -
    containers deny   -     -
    anyone     allow   deny  deny
}
mount work      "/tmp/p/uploads/{upload_id}" at "/work" rw;
mount artifacts "/tmp/p/artifacts/{job_id}"  at "/artifacts" rw;
mount deep      "/tmp/p/{job_id}/{upload_id}" at "/deep" rw;
container {
    source containers;
    engine podman rootless user flashpods uid 990;
    userns keep-id;
    network slirp4netns;
}
rsyncd {
    service rsync;
    module uploads mount work;
}
rsyncd {
    service rsync;
    module uploads mount work;
}
