policy t {
    table inet t;
}
source laptop {
    via "averyveryverylongname", "wg*0", "*", "", "a/b", "wg0", "wg0";
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
