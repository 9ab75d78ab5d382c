# A trusted interface without addresses: no key can back "every peer";
# a peer's source must be trusted on the interface.
policy p {
    table inet p;
}
source laptop { via "wg0"; }
source anyone { via any; }
service api tcp 8080;
service wg  udp 51820;
trust {
           api    wg
    laptop allow  -
    anyone deny   allow
}
wireguard "wg0" {
    listen wg;
    peer laptop key "ZllREl1yT5xHZl/IaDWBlzXbMk+J2yvBQZ6AW+zMMxE=";
    peer anyone key "qKNkWbahuAjWBB6/mtisOqg/A4XXRwzZQskXRyu7SS8=";
}
