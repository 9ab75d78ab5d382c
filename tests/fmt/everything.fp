# every construct of the language, in one policy
policy every {
    table inet every;
    mount roots   "/tmp/fp",  "/var/log/fp/";
}
source laptops {
    via "wg0" from 10.0.0.2, 10.0.0.3, fd00::2;
    via from 192.168.1.0/24;
}
source containers {
    via "podman*", "cni-*";
    via user flashpods;
}
source anyone {
    via any;
}
service api tcp 8080 on 10.0.0.1;
service range tcp 6000-6010;
service dns udp 53 on fd00::1;
service token unix "/run/fp/token.sock" owner flashpods:flashpods mode 0660;
service web egress to 0.0.0.0/0, ::/0;
trust {
    api range dns token web
    laptops allow allow allow - -
    containers deny deny allow allow deny
    anyone deny deny deny - -
}
invariant iso "containers stay \"inside\"" {
    containers cannot reach api, range;
    laptops can reach api;
}
trust_domain "every.example";
identity agent "spiffe://every.example/ns/jobs/agent" selector "docker:label:type:agent", "unix:uid:990";
identity helper "spiffe://every.example/helper" selector "docker:label:type:helper" privilege agent;
privilege agent {
    secrets ANTHROPIC_API_KEY, GITHUB_TOKEN;
    secrets EXTRA_1;
    mount work rw;
    timeout 1..120 min default 60;
    cpus 1..4 default 2;
    memory 1..8 GB;
}
mount work "/tmp/fp/uploads/{upload_id}" at "/work";
mount logs "/var/log/fp/{job_id}/{privilege}" at "/logs" rw;
mount token service token ro;
container {
    source containers;
    engine podman rootless user flashpods uid 990;
    userns keep-id;
    network pasta;
    image "ubuntu:22.04";
    cap_drop ALL;
    cap_drop NET_RAW, SYS_ADMIN;
    security_opt "no-new-privileges", "label=disable";
    label "a\\b" = "\"{job_id}\"";
}
