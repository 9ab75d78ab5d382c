# fuzz_policy found it (fmt not idempotent): a comment inside a declaration
# of an aligned run is printed before it, so the run must end there in the
# first pass as it does in the second.
policy t {
    table inet t;
}
source anyone {
    via any;
}
service api tcp 8080;
trust {
           api
    anyone deny
}
trust_domain "example.org";
identity a "spiffe://example.org/a" selector "unix:uid:1" privilege p;
identity bb "spiffe://example.org/a-much-longer-name" selector
# inside the statement
 "unix:uid:1" privilege p;
identity c "spiffe://example.org/c" selector "unix:uid:1" privilege p;
privilege p {
    cpus 1..4;
    memory 1..8 GB;
    timeout 1..10 min;
}
