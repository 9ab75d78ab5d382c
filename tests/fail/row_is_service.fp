# A trust-table row that names a service instead of a source.
policy t {
    table inet t;
}
source laptop {
    via "wg0" from 10.0.0.2;
}
source anyone {
    via any;
}
service api tcp 8080;
trust {
           api
    laptop allow
    api    allow
    anyone deny
}
