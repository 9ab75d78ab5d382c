# SPDX-License-Identifier: GPL-2.0-or-later
# A user named like an nft keyword (Debian's own `list`, uid 38): the
# emitter quotes every user name, which nft resolves at load.
policy kwuser {
    table inet kwuser;
}

source lists {
    via user list;
}
source anyone {
    via any;
}

service api tcp 8080;

trust {
           api
    lists  deny
    anyone allow
}
