# SPDX-License-Identifier: GPL-2.0-or-later
# tests/nix/stub-pkgs.nix: the packages nix/module.nix and nix/package.nix
# name, for an offline evaluation. There is no store to build in here, so:
#   - stdenv.mkDerivation (package.nix) returns its arguments and, as its
#     output, `stage`: the tree `make install DESTDIR=...` wrote in this run;
#   - runCommand (the module's `fpc POLICY -o $out`) returns its name,
#     environment and script, and as its output `compiled`: the directory
#     that script wrote when run.sh ran it in this same run.
{ lib, stage, compiled }:
let
  fake = name: { outPath = "/stub/${name}"; pname = name; };
in
rec {
  stdenv.mkDerivation = args: {
    outPath = stage;
    drvAttrs = args;
    name = "${args.pname}-${args.version}";
  };
  callPackage = f: overrides:
    let fn = if builtins.isFunction f then f else import f; in
    fn (builtins.intersectAttrs (builtins.functionArgs fn) (pkgs // { inherit lib; }) // overrides);
  runCommand = name: env: script: {
    outPath = compiled;
    inherit name env script;
  };
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
  podman = fake "podman";
}
