# a lower row covering lo from an address denies what a user row allows
policy t {
    table inet t;
}
source u {
    via user nobody;
}
source h {
    via from 10.1.3.7;
}
source anyone {
    via any;
}
service a tcp 2000;
trust {
           a
    u      allow
    h      deny
    anyone allow
}
