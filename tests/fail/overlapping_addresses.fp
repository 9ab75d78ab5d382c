policy t {
    table inet t;
}
source laptop {
    via "wg0" from 10.0.0.0/24, 10.0.0.7, fd00::/64, fd00::1;
}
source anyone {
    via any;
}
service api tcp 8080;
trust {
           api
    laptop allow
    anyone deny
}
