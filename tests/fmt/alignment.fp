policy al { table inet al; }
source anyone { via any; }
service a tcp 1;
service bbbbbbbbbb tcp 2;

service ccc udp 3;
service dd unix "/run/d.sock" owner root:root mode 0600;
# comment breaks the run
service eeeeeeee egress;
service f egress to 10.0.0.0/8, fd00::/8;
trust {
    a b c d e f
}
trust_domain "ex.org";
identity x "spiffe://ex.org/x" selector "a", "b";
identity yyyyyy "spiffe://ex.org/yyyyyy/long/path" selector "c" privilege x;
identity z "spiffe://ex.org/z" selector "d";
mount m1 "/a/{job_id}" at "/a";
mount mmmmmm2 "/bbbbbbbbbbbbbb/{upload_id}" at "/b" ro;
mount m3 service dd rw;
mount m4 "/c" at "/c" rw;
