policy t {
    table inet t;
}
source user {
    via any;
}
