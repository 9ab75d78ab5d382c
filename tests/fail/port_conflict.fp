# Two services of one protocol whose ports overlap get opposite verdicts in
# one row: the firewall matches ports, so one rule would decide both. Listen
# addresses do not separate them (rules do not match on them).
policy t {
    table inet t;
}
source laptop {
    via "wg0" from 10.0.0.2;
}
source anyone {
    via any;
}
service web   tcp 8000-8999;
service admin tcp 8443 on 10.0.0.1;
service dns   udp 53;
service ssh   tcp 22;
service other tcp 8443 on 10.0.0.5;
service mdns  udp 53-5353;
trust {
           web    admin  dns    ssh    other  mdns
    laptop allow  deny   allow  allow  -      deny
    anyone deny   deny   deny   deny   allow  deny
}
