# A `via user` row allows a service that the catch-all row denies: the
# user's connection leaves through the output hook (accepted there) and
# arrives on lo, where the catch-all's drop cannot tell it from any other.
# The udp column is fine: the catch-all allows it.
policy t {
    table inet t;
}
source builders {
    via user flashpods;
}
source anyone {
    via any;
}
service api tcp 8080;
service dns udp 53;
trust {
             api    dns
    builders allow  allow
    anyone   deny   allow
}
