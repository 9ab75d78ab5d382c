# Every way a string can fail to be UTF-8 (RFC 3629), one per string,
# each reported once at its first bad byte; well-formed UTF-8 of 2, 3 and
# 4 bytes (the label values on the last lines) is not reported.
policy p {
    table inet p;
}
source anyone { via any; }
service api tcp 8080;
trust {
           api
    anyone deny
}
trust_domain "example.org";
spire_parent "spiffe://example.org/host";
identity a "spiffe://example.org/a" selector "docker:label:stray:Äx" privilege job;
identity b "spiffe://example.org/b" selector "docker:label:overlong:¿Ø" privilege job;
identity c "spiffe://example.org/c" selector "docker:label:overlong3:‡ÄØ" privilege job;
identity d "spiffe://example.org/d" selector "docker:label:surrogate:Ì†Ä" privilege job;
identity e "spiffe://example.org/e" selector "docker:label:too-big:ÙêÄÄ" privilege job;
identity f "spiffe://example.org/f" selector "docker:label:cut:‚Ç" privilege job;
identity g "spiffe://example.org/g" selector "docker:label:twice:˛ ok ˇ" privilege job;
privilege job {
    cpus 1..2;
    memory 1..2 GB;
    timeout 1..10 min;
}
container {
    source anyone;
    engine podman rootless user flashpods uid 990;
    userns keep-id;
    network slirp4netns;
    label "ok2" = "caf√©";
    label "ok3" = "‚Ç¨";
    label "ok4" = "üêß";
}
