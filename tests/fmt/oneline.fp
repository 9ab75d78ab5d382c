# tests/fmt/oneline.fp: source blocks written on one line stay on one line,
# a run of them aligned at the brace; a block on several lines is expanded
policy o { table inet o; }
source laptop { via "wg0"   from 10.0.0.2; }
source containers {via "podman*";via user flashpods;}   # a comment stays
source anyone{via any;}

source split { via "eth0";
    via user nobody; }
service api tcp 8080;
trust {
    api
    laptop allow
    containers deny
    split deny
    anyone deny
}
