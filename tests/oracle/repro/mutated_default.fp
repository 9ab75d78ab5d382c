# SPDX-License-Identifier: GPL-2.0-or-later
# Issue 11, reproducer 5: policies/default.fp with its invariant block
# deleted, the catch-all opening api and the containers' api cell emptied.
# fpc still proves the seed's invariant (built in: the container block's
# source cannot reach the service fp-apid serves) and refuses the policy
# with a counterexample. The ruleset this table means (mutated_default.nft,
# written by hand: fpc will not write it) lets a container's packet reach
# the API in the kernel, and `fpc verify` says the built-in invariant FAILS.
# check: 1
# ruleset: mutated_default.nft
# verify: 1
# expect: ^invariant builtin_no_spawn .*: FAILS
# expect: ^  containers cannot reach api: FAILS
# expect: counterexample: tcp .*:8080, ct state new
# probe: in podman0 - tcp 10.88.0.2 10.0.0.1 8080 => new accept, reply accept
# probe: in podman0 - tcp 10.88.0.2 10.0.0.1 873 => new drop
# policies/default.fp: the Flashpods trust boundary, from the seed's trust model.
policy flashpods {
    table inet flashpods;
}

# Who originates traffic or calls.
source laptop {
    via "wg0" from 10.0.0.2;      # the WireGuard peer: interface and address
}
source containers {
    via "podman*", "cni-*";       # rootful bridges, whatever their subnet
    via user flashpods;           # rootless egress (slirp4netns runs as this user)
}
source anyone {
    via any;                      # every other packet: the catch-all row
}

# What can be reached.
service api       tcp 8080 on 10.0.0.1;
service rsync     tcp 873 on 10.0.0.1;
service wireguard udp 51820;
service token     unix "/run/flashpods/token.sock" owner flashpods:flashpods mode 0660;
service spire     unix "/run/spire/sockets/agent.sock" owner root:root mode 0777;
service internet  egress;

# The authoritative trust table. "-" means the pair has no rule of its own.
trust {
               api    rsync  wireguard  token  spire  internet
    laptop     allow  allow  -          -      -      -
    containers -      deny   -          allow  allow  allow
    anyone     allow  deny   allow      -      -      -
}


# Identity: SPIFFE IDs attested by SPIRE, and the privilege each one holds.
trust_domain "flashpods.local";
identity agent  "spiffe://flashpods.local/agent"  selector "docker:label:flashpods-job-type:agent";
identity worker "spiffe://flashpods.local/worker" selector "docker:label:flashpods-job-type:worker";

privilege agent {
    secrets ANTHROPIC_API_KEY, GITHUB_TOKEN;
    mount work rw;
    cpus 1..4 default 2;
    memory 1..8 GB default 4;
    timeout 1..120 min default 60;
}
privilege worker {
    secrets GITHUB_TOKEN;
    mount work ro;
    cpus 1..8 default 2;
    memory 1..16 GB default 4;
    timeout 1..120 min default 30;
}

mount work      "/tmp/flashpods/uploads/{upload_id}"    at "/work";
mount artifacts "/var/lib/flashpods/artifacts/{job_id}" at "/artifacts" rw;
mount spire     service spire ro;
mount token     service token ro;

container {
    source containers;
    engine podman rootless user flashpods uid 990;
    userns keep-id;
    network slirp4netns;
    image "ubuntu:22.04";
    cap_drop ALL;
    security_opt "no-new-privileges";
    label "flashpods-job" = "true";
    label "flashpods-job-id" = "{job_id}";
    label "flashpods-job-type" = "{privilege}";
}
