# SPDX-License-Identifier: GPL-2.0-or-later
# Issue 11, reproducer 1: in one row, the forge (egress to 198.51.100.0/24)
# allowed and the rest of the internet denied. The more specific cell
# decides first: the forge is reachable from the bridge and from the
# rootless user, nothing else is, and the replies come back.
# probe: fw podman0 - tcp 10.88.0.2 198.51.100.3 443 => new accept, reply accept
# probe: fw podman0 - udp 10.88.0.2 198.51.100.3 2000 => new accept, reply accept
# probe: fw podman0 - tcp 10.88.0.2 203.0.113.5 443 => new drop
# probe: fw podman0 - tcp fd88::2 2001:db8:99::5 443 => new drop
# probe: eg - flashpods tcp 198.18.0.1 198.51.100.3 443 => new accept, reply accept
# probe: eg - flashpods tcp 198.18.0.1 203.0.113.5 443 => new drop
# probe: eg - nobody tcp 198.18.0.1 203.0.113.5 443 => new accept, reply accept
# probe: fw lab0 - tcp 192.168.7.2 203.0.113.5 443 => new accept, reply accept
policy forge { table inet forge; }
source jobs   { via "podman*"; via user flashpods; }
source anyone { via any; }
service api      tcp 8080;
service forge    egress to 198.51.100.0/24;
service internet egress;
trust {
           api   forge  internet
    jobs   deny  allow  deny
    anyone deny  -      -
}
