# SPDX-License-Identifier: GPL-2.0-or-later
# Issue 11, reproducer 1 across rows: the jobs' row allows the forge, the
# catch-all denies the internet (forwarded traffic). Row order decides:
# the jobs reach the forge, nothing else gets routed to the internet.
# probe: fw podman0 - tcp 10.88.0.2 198.51.100.3 443 => new accept, reply accept
# probe: fw podman0 - tcp 10.88.0.2 203.0.113.5 443 => new drop
# probe: fw lab0 - tcp 192.168.7.2 198.51.100.3 443 => new drop
# probe: eg - nobody tcp 198.18.0.1 203.0.113.5 443 => new accept, reply accept
policy forge { table inet forge; }
source jobs   { via "podman*"; }
source anyone { via any; }
service api      tcp 8080;
service forge    egress tcp 443 to 198.51.100.0/24;
service internet egress;
trust {
           api   forge  internet
    jobs   deny  allow  -
    anyone deny  -      deny
}
