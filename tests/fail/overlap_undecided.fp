# a row that decides one of two services sharing a port must decide both
policy t {
    table inet t;
}
source h {
    via "eth1" from 10.1.3.7;
}
source anyone {
    via any;
}
service a udp 2000;
service b udp 2000;
trust {
           a     b
    h      -     deny
    anyone allow allow
}
