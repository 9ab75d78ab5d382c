policy t {
    table inet t;
}
service sock unix "/run/a\tb.sock" owner root:root mode 0600;
