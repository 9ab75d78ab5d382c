# An rsyncd block whose service no row allows would refuse everyone.
policy p {
    table inet p;
}
source anyone { via any; }
service rsync tcp 873;
trust {
           rsync
    anyone deny
}
mount work "/tmp/p/uploads/{upload_id}" at "/work" rw;
container {
    source anyone;
    engine podman rootless user flashpods uid 990;
    userns keep-id;
    network slirp4netns;
}
rsyncd {
    service rsync;
    module uploads mount work;
}
