# SPDX-License-Identifier: GPL-2.0-or-later
# An address-only row (`via from`, no interface) above the catch-all row,
# with cells that differ from the catch-all's. Its input rule matches the
# address on every interface, lo included, so the packets of the row are
# also those a local process sends from that address: the catch-all row
# claims none of them (the prover once counted them as `anyone`'s and
# reported an emitter bug for this policy).
policy fromonly {
    table inet fromonly;
}

source admin {
    via from 10.0.0.5, fd00::5;
}
source anyone {
    via any;
}

service api  tcp 8080;
service ssh  tcp 22;

trust {
           api    ssh
    admin  allow  deny
    anyone deny   allow
}

invariant admin_api "The admin host reaches the API, from anywhere" {
    admin can reach api;
    admin cannot reach ssh;
}
