# head comment


policy   p{table inet   p;   # trailing on table
}
source a { via "eth0","eth1" from 10.0.0.0/24,
   # inside via
   fd00::/64; # after via
  via user bob; }

# comment before services
service s1 tcp 1-100; service longername udp 53 on 10.0.0.1;
service e egress to 1.2.3.0/24;
trust {   # t
  s1 longername e
  # a row comment
  a allow deny -

  z deny allow deny   # zz
}
source z { via any; }   # after z
invariant i "x \"q\" \\" { a cannot reach s1; z can reach e, s1; }
# end
