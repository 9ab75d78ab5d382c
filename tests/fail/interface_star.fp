# A '*' may only end an interface pattern.
policy t {
    table inet t;
}
source laptop {
    via "wg*0", "podman*";
}
source anyone {
    via any;
}
service api tcp 8080;
trust {
           api
    laptop allow
    anyone deny
}
