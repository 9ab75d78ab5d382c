# Two peers of one source must each say which addresses they hold.
policy p {
    table inet p;
}
source laptop { via "wg0" from 10.0.0.2; }
source phone  { via "wg0" from 10.0.0.3, 10.0.0.4; }
source anyone { via any; }
service api tcp 8080 on 10.0.0.1;
service wg  udp 51820;
service web udp 8000-8009;
trust {
           api    wg     web
    laptop allow  -      -
    phone  deny   -      -
    anyone deny   allow  deny
}
wireguard "wg0" {
    listen wg;
    peer laptop key "ZllREl1yT5xHZl/IaDWBlzXbMk+J2yvBQZ6AW+zMMxE=";
    peer phone key "qKNkWbahuAjWBB6/mtisOqg/A4XXRwzZQskXRyu7SS8=";
    peer phone key "ZllREl1yT5xHZl/IaDWBlzXbMk+J2yvBQZ6AW+zMMxA=";
}
