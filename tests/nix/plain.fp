# SPDX-License-Identifier: GPL-2.0-or-later
# tests/nix/plain.fp: a firewall-only policy (no container profile, no
# daemons): the module sets the table and the firewall, and nothing else.
policy plain {
    table inet plain;
}

source admin {
    via "eth0" from 192.0.2.1;
}
source anyone {
    via any;
}

service ssh tcp 22;

trust {
           ssh
    admin  allow
    anyone deny
}
