# nft cannot read a keyword as a table's name, quoted or not
policy t {
    table inet accept;
}
source anyone {
    via any;
}
service api tcp 8080;
trust {
           api
    anyone deny
}
