# SPDX-License-Identifier: GPL-2.0-or-later
# Egress services with a protocol: a port out of range, an empty range.
policy p { table inet t; }
source anyone { via any; }
service e egress tcp 0;
service f egress udp 5-3 to 10.0.0.0/8;
service g egress tcp 443 to 10.0.0.0/8, 10.1.0.0/16;
trust {
           e  f  g
    anyone -  -  -
}
