policy t {
    table inet t;
}
source a_source_name_that_is_much_longer_than_sixty_three_characters_xyz {
    via "wg0" from 10.0.0.2;
}
source anyone {
    via any;
}
service api tcp 8080;
trust {
           api
    a_source_name_that_is_much_longer_than_sixty_three_characters_xyz allow
    anyone deny
}
trust_domain "example.org";
identity agent "spiffe://example.org/agent" selector "docker:label:type:agent";
privilege agent {
    secrets API_KEY;
    mount work rw;
    cpus 1..4 default 2;
    memory 1..8 GB default 4;
    timeout 1..120 min default 60;
}
mount work "/srv/uploads/{upload_id}" at "/work";
container {
    source a_source_name_that_is_much_longer_than_sixty_three_characters_xyz;
    engine podman rootless user fp uid 990;
    userns keep-id;
    network slirp4netns;
    image "Ubuntu:22.04";
}
