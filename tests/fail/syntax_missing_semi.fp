policy t {
    table inet t;
}
source laptop {
    via "wg0" from 10.0.0.2
}
service api tcp 8080
service ssh tcp 22;
