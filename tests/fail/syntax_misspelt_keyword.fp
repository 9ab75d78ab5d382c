policy t {
    table inet t;
}
srvice api tcp 8080;
source laptop {
    vai "wg0";
}
