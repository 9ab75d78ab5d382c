# SPDX-License-Identifier: GPL-2.0-or-later
# Issue 11, reproducer 2: a trusted bridge row allows the internet, the
# catch-all denies it. The answers come back on the uplink, not the
# bridge: `ct state established,related accept` lets them through, and
# the prover proves it (the reply of each allowed connection).
# probe: fw lab0 - tcp 192.168.7.2 198.51.100.3 443 => new accept, reply accept
# probe: fw lab0 - udp fd07::2 2001:db8:99::5 2000 => new accept, reply accept
# probe: fw podman0 - tcp 10.88.0.2 198.51.100.3 443 => new drop
# probe: in wg0 - tcp 10.0.0.2 10.0.0.1 8080 => new accept, reply accept
policy replies { table inet replies; }
source lab    { via "lab0" from 192.168.7.0/24, fd07::/64; }
source laptop { via "wg0" from 10.0.0.2; }
source anyone { via any; }
service api      tcp 8080;
service internet egress;
trust {
           api   internet
    lab    deny  allow
    laptop allow -
    anyone deny  deny
}
