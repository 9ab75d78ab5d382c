# An address one source trusts inside another source's peer; two peers
# whose AllowedIPs overlap.
policy p {
    table inet p;
}
source laptop { via "wg0" from 10.0.0.2; }
source office { via "wg0" from 10.0.0.0/24; }
source lab    { via "wg*" from 10.0.0.128/25; }
source anyone { via any; }
service api tcp 8080;
service wg  udp 51820;
trust {
           api    wg
    laptop allow  -
    office deny   -
    lab    deny   -
    anyone deny   allow
}
wireguard "wg0" {
    listen wg;
    peer office key "ZllREl1yT5xHZl/IaDWBlzXbMk+J2yvBQZ6AW+zMMxE=";
    peer lab key "qKNkWbahuAjWBB6/mtisOqg/A4XXRwzZQskXRyu7SS8=";
}
