policy t {
    table inet t;
}
source laptop {
    via "wg0" from 10.0.0.2, fd00::