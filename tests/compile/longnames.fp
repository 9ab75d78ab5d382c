# SPDX-License-Identifier: GPL-2.0-or-later
# A rule for many services of one row: the comment stays within nft's
# 128 characters ("SOURCE->N services" when the list is too long).
policy longnames {
    table inet longnames;
}

source a_source_with_a_really_quite_long_name {
    via "wg0";
}
source anyone {
    via any;
}

service service_number_one_with_a_long_name   tcp 1001;
service service_number_two_with_a_long_name   tcp 1002;
service service_number_three_with_a_long_name tcp 1003;
service service_number_four_with_a_long_name  tcp 1004;

trust {
                                          service_number_one_with_a_long_name service_number_two_with_a_long_name service_number_three_with_a_long_name service_number_four_with_a_long_name
    a_source_with_a_really_quite_long_name allow allow allow allow
    anyone                                 deny  deny  deny  deny
}

trust_domain "example.org";
container {
    source a_source_with_a_really_quite_long_name;
    engine podman rootless user flashpods;
    userns keep-id;
    network slirp4netns;
    image "ubuntu:22.04";
}
