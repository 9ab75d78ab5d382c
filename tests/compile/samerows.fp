# SPDX-License-Identifier: GPL-2.0-or-later
# Rows that lower to the same rule: the later one never decides (the
# earlier row claims its packets) and is left out; a run of identical
# rules starts no lookup (issue 14: it has no differing match, and once
# crashed the merge). The peers differ by their address only: one set.
policy samerows {
    table inet samerows;
}

source ci1 {
    via user nobody;
}
source ci2 {
    via user nobody;
}
source p1 {
    via "wg0" from 10.0.0.1;
}
source p2 {
    via "wg0" from 10.0.0.2;
}
source p3 {
    via "wg0" from 10.0.0.3;
}
source anyone {
    via any;
}

service api tcp 8080;

trust {
           api
    ci1    deny
    ci2    deny
    p1     allow
    p2     allow
    p3     allow
    anyone deny
}
