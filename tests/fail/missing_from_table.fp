policy t {
    table inet t;
}
source laptop {
    via "wg0" from 10.0.0.2;
}
source phone {
    via "wg0" from 10.0.0.3;
}
source anyone {
    via any;
}
service api tcp 8080;
service ssh tcp 22;
trust {
           api
    laptop allow
    anyone deny
}
