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
trust {
           api    api
    laptop allow  allow
    laptop allow  allow
    anyone deny   deny
}
