# SPDX-License-Identifier: GPL-2.0-or-later
# Several laptops in one row: one rule with a named set (sorted, as the
# kernel holds it), never a rule per address.
policy fleet {
    table inet fleet;
}

source laptops {
    via "wg0" from 10.0.0.9, 10.0.0.2, 10.0.0.3, 10.0.0.4, 10.0.1.0/24, 10.0.2.128/25;
}
source anyone {
    via any;
}

service api   tcp 8080;
service rsync tcp 873;

trust {
            api    rsync
    laptops allow  allow
    anyone  deny   deny
}

trust_domain "example.org";
