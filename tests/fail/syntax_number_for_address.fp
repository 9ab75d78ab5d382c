policy t {
    table inet t;
}
source laptop {
    via "wg0" from 10;
}
