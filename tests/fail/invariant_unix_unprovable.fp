# What a source other than the job containers reaches through a unix
# socket is decided by the socket's owner and mode on the host, which
# neither the ruleset nor a mount list holds: the clause cannot be proved,
# and fpc fails closed.
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
invariant sealed "nobody else reaches the token service" {
    anyone cannot reach token;
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
