# without `mount roots`: /var/lib/NAME, /tmp/NAME, /run/NAME and /srv
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
mount work "/var/lib/t/uploads/{upload_id}" at "/work";
mount etc "/etc/fp/{job_id}" at "/etc-fp" ro;
mount tmp "/tmp/other/{job_id}" at "/tmp-other" ro;
container {
    source laptop;
    engine podman rootless user fp uid 990;
    userns keep-id;
    network slirp4netns;
}
