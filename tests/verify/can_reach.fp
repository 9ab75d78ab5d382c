# SPDX-License-Identifier: GPL-2.0-or-later
# The seed's network rows with a `can reach` invariant, verified on
# rulesets that hold tables the prover does not model (run.sh).
policy flashpods {
    table inet flashpods;
}

source laptop     { via "wg0" from 10.0.0.2; }
source containers { via "podman*", "cni-*"; via user flashpods; }
source anyone     { via any; }

service api   tcp 8080 on 10.0.0.1;
service rsync tcp 873 on 10.0.0.1;

trust {
               api    rsync
    laptop     allow  allow
    containers deny   deny
    anyone     deny   deny
}

invariant laptop_works "The laptop reaches the API and rsync" {
    laptop can reach api, rsync;
}
