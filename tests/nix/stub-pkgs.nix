# SPDX-License-Identifier: GPL-2.0-or-later
# tests/nix/stub-pkgs.nix: the packages nix/module.nix, nix/package.nix and
# flake.nix name, for an offline evaluation. There is no nixpkgs and no
# store to build in here, so:
#   - stdenv.mkDerivation (package.nix) returns its arguments and, as its
#     output, `stage`: the tree `make install DESTDIR=...` wrote in this run;
#   - runCommand (the module's `fpc POLICY -o $out`, the flake's checks)
#     returns its name, environment and script, and as its output
#     `compiled`: the directory that script wrote when run.sh ran it in
#     this same run;
#   - other packages are names under /stub; writeText keeps its text.
# Every package is a derivation to the module system's `package` type.
{ lib, stage, compiled }:
let
  fake = name: {
    type = "derivation";
    outPath = "/stub/${name}";
    pname = name;
    name = name;
  };
in
rec {
  stdenv.mkDerivation = args: {
    type = "derivation";
    outPath = stage;
    drvAttrs = args;
    name = "${args.pname}-${args.version}";
  };
  callPackage =
    f: overrides:
    let
      fn = if builtins.isFunction f then f else import f;
    in
    fn (builtins.intersectAttrs (builtins.functionArgs fn) (pkgs // { inherit lib; }) // overrides);
  runCommand = name: env: script: {
    type = "derivation";
    outPath = compiled;
    inherit name env script;
  };
  writeText = name: text: fake "text/${name}" // { inherit text; };
  testers.runNixOSTest = test: fake "nixos-test" // { inherit test; };
  pkgs = {
    inherit stdenv;
    flex = fake "flex";
    bison = fake "bison";
    pkg-config = fake "pkg-config";
    protobufc = fake "protobufc";
    libnftnl = fake "libnftnl";
    libmnl = fake "libmnl";
    jansson = fake "jansson";
    libmicrohttpd = fake "libmicrohttpd";
    openssl = fake "openssl";
    sqlite = fake "sqlite";
  };
  coreutils = fake "coreutils";
  getent = fake "getent";
  podman = fake "podman";
  jq = fake "jq";
  spire = fake "spire";
  nixfmt = fake "nixfmt";
  runtimeShell = "/stub/bash/bin/bash";
}
