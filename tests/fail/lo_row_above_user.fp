# SPDX-License-Identifier: GPL-2.0-or-later
# An address-only row (its packets include those local processes send,
# back in on lo) allows api above a `via user` row that denies it: the
# user row's reject on the output hook decides those packets first.
policy t {
    table inet t;
}
source admin {
    via from 127.0.0.1;
}
source containers {
    via "podman*";
    via user flashpods;
}
source ops {
    via "l*" from 10.9.0.0/16;
}
source anyone {
    via any;
}
service api tcp 8080;
service rsync tcp 873;
trust {
               api    rsync
    admin      allow  deny
    containers deny   deny
    ops        allow  allow
    anyone     deny   deny
}
