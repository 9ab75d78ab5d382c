# The wireguard block: an exact interface name, once per policy.
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
wireguard "wg*" {
    listen wg;
}
wireguard "wg0" {
    listen wg;
}
