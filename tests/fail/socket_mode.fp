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
service a unix "/run/a.sock" owner root:root mode 010000;
service b unix "/run/b.sock" owner root:root mode 0698;
service c unix "/run/c.sock" owner Root:root mode 0600;
trust {
           api    a  b  c
    laptop allow  -  -  -
    anyone deny   -  -  -
}
