policy t {
    table inet t;
}
source laptop {
    via "wg0" from 10.0.0.2;
}
source anyone {
    via any;
}
service api tcp 8080;
service a tcp 0;
service b udp 65536;
service c tcp 9000-8000;
service d tcp 99999999999999999999;
trust {
           api    a      b      c      d
    laptop allow  allow  allow  allow  allow
    anyone deny   deny   deny   deny   deny
}
