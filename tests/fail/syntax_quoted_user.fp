policy t {
    table inet t;
}
source jobs {
    via user "flashpods";
}
