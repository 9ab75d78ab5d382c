# leading comment, then two blank lines (they become one)


# second paragraph
policy c { # after the brace
    # inside policy, first line

    table inet c;   # after table

    # before the closing brace
}   # after the closing brace
source a {
    via "wg0",   # between interfaces
        "wg1"
        from 10.0.0.1;
    # dangling at the end of a block
}
source rest { via any; } # two statements, one comment
service s tcp 1; # one
# between services
service t udp 2;
trust
{ # header comes next
    # before the header
      s t  # header trailer
    a allow deny
    # between rows

    rest deny deny # last row
    # after the last row
}
# end of file


