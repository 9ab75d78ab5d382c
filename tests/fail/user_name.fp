policy t {
    table inet t;
}
source laptop {
    via user Bob;
    via user a_user_name_that_is_far_too_long_x;
}
source anyone {
    via any;
}
service api tcp 8080;
trust {
           api
    laptop deny
    anyone deny
}
