policy t {
    table inet t;
}
source laptop {
    via "wg0" from fd00::1::2, 12345::1, fe80:::1;
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
