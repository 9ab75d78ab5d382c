# An invariant on a unix socket is decided on the mount lists fpc emits:
# the jobs get the token socket mounted, so "cannot reach" fails.
policy p {
    table inet p;
}
source jobs { via "podman*"; }
source anyone { via any; }
service api tcp 8080;
service token unix "/run/p/token.sock" owner root:root mode 0660;
trust {
           api  token
    jobs   deny allow
    anyone deny -
}
invariant sealed "jobs never reach the token service" {
    jobs cannot reach token;
}
mount token service token ro;
privilege job {
    cpus 1..2;
    memory 1..2 GB;
    timeout 1..10 min;
}
container {
    source jobs;
    engine podman rootless user flashpods uid 990;
    userns keep-id;
    network slirp4netns;
}
