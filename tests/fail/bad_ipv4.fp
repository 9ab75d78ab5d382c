policy t {
    table inet t;
}
source laptop {
    via "wg0" from 10.0.0.256, 1.2.3.4.5, 01.2.3.4;
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
