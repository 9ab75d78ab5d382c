# IFNAMSIZ is 16 with the NUL: a pattern's '*' counts (nft refuses 16 bytes)
policy t {
    table inet t;
}
source bridge {
    via "veth123456789ab*";
}
source fits {
    via "veth123456789a*", "veth123456789ab";
}
source anyone {
    via any;
}
service api tcp 8080;
trust {
           api
    bridge deny
    fits   deny
    anyone deny
}
