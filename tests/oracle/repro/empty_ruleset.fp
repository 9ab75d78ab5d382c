# SPDX-License-Identifier: GPL-2.0-or-later
# Issue 11, reproducer 3: an egress invariant is proved on the ruleset.
# On an empty ruleset the kernel routes the containers' packets to the
# internet, and `fpc verify` says the invariant FAILS (no "holds by the
# trust table"); no deny cell is realised either.
# ruleset: empty
# verify: 1
# expect: ^invariant no_egress: FAILS
# expect: ^  containers cannot reach internet: FAILS
# expect: forwarded out
# expect: ^  containers +internet +deny +NOT REALISED
# probe: fw podman0 - tcp 10.88.0.2 198.51.100.3 443 => new accept
# probe: eg - flashpods tcp 198.18.0.1 198.51.100.3 443 => new accept
policy empty { table inet empty; }
source containers { via "podman*"; via user flashpods; }
source anyone     { via any; }
service api      tcp 8080;
service internet egress;
trust {
               api   internet
    containers deny  deny
    anyone     deny  -
}
invariant no_egress "The containers cannot reach the internet" {
    containers cannot reach internet;
}
