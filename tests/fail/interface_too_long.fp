# An interface name is at most 15 bytes (IFNAMSIZ - 1).
policy t {
    table inet t;
}
source laptop {
    via "averyveryverylongname", "wg0";
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
