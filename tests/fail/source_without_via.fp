policy t {
    table inet t;
}
source laptop {
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
