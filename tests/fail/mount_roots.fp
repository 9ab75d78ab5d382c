policy t {
    table inet t;
    mount roots "/etc", "/var/lib", "/srv/fp/";
}
source laptop {
    via "wg0" from 10.0.0.2;
}
source anyone {
    via any;
}
service api tcp 8080;
service sock unix "/run/t/a.sock" owner root:root mode 0600;
trust {
           api    sock
    laptop allow  allow
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
mount work "/etc/sudoers.d/{job_id}" at "/work";
mount ssh "/root/.ssh/{job_id}" at "/ssh" ro;
mount lib "/usr/lib/fp/{job_id}" at "/lib" ro;
mount var "/var/lib/other/{job_id}" at "/var" ro;
container {
    source laptop;
    engine podman rootless user fp uid 990;
    userns keep-id;
    network slirp4netns;
}
