policy t {
    table inet t;
}
source anyone {
    via any;
}
service api tcp 8080;
trust {
}
