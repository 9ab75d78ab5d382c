policy t {
    table inet t;
}
source laptop {
    via "wg0" from 10.0.0.0/33, fd00::/129, 10.1.0.0/08;
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
