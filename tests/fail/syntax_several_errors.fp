policy t {
    table inet t
}
source laptop {
    via "wg0" frm 10.0.0.2;
}
service api tcp;
service dns udp 53 on;
privilege p {
    cpus 1-4;
}
