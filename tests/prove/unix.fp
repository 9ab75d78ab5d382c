# SPDX-License-Identifier: GPL-2.0-or-later
# tests/prove/unix.fp: policies/default.fp with clauses on unix sockets,
# decided on the mount lists fpc emits (verify prints how).
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
    containers deny   deny   -          allow  allow  allow
    anyone     deny   deny   allow      -      -      -
}

# Proved against the generated ruleset at every compile.
invariant no_recursive_spawn "Job containers can never call POST /jobs or access rsync" {
    containers cannot reach api, rsync;
    containers can reach token, spire;
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

# The layers beside the firewall, derived from the same table.
# WireGuard: the laptop's peer holds exactly the addresses source laptop
# trusts on wg0, so 10.0.0.2 there is the laptop's key. The key below is a
# placeholder (fpc warns while it is): put the laptop's public key here,
# the output of `wg pubkey < laptop.key`.
wireguard "wg0" {
    listen wireguard;
    peer laptop key "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
}

# rsyncd: the upload module is the directory above mount work's {upload_id};
# it admits the addresses of the rows that allow rsync, nobody else.
rsyncd {
    service rsync;
    module uploads mount work;
    max_connections 4;
}

# SPIRE: the parent ID of the registration entries, the node alias the
# host's SPIRE agent is registered under (docs/deploying.md).
spire_parent "spiffe://flashpods.local/host";
