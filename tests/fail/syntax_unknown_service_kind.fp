policy t {
    table inet t;
}
service web http 80;
service dns udp 53;
