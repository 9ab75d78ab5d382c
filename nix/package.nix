# SPDX-License-Identifier: GPL-2.0-or-later
# nix/package.nix: fpc (the policy compiler) and the two daemons, fp-apid and
# fp-tokend, built with the project's Makefile and installed by its
# `install` target (PREFIX, DESTDIR), with the default policy under
# share/fpc/policies/.
{ lib
, stdenv
, flex
, bison
, pkg-config
, protobufc
, libnftnl
, libmnl
, jansson
, libmicrohttpd
, openssl
, sqlite
}:

stdenv.mkDerivation {
  pname = "fpc";
  version = "0.1.0";

  # The source tree without build outputs and editor leftovers.
  src = lib.cleanSourceWith {
    src = ../.;
    filter = path: type:
      let base = baseNameOf (toString path); in
      !(type == "directory" && (base == "build" || base == ".git" || base == "result"))
      && !(lib.hasSuffix ".got" base);
  };

  nativeBuildInputs = [ flex bison pkg-config protobufc ];
  buildInputs = [ libnftnl libmnl jansson libmicrohttpd protobufc openssl sqlite ];

  enableParallelBuilding = true;

  # `make` builds into build/; `make install` copies bin/ and the policy.
  # (`make deps` and `make check` need apt and root; they are not run here.)
  makeFlags = [ "B=build" "PREFIX=$(out)" ];
  buildFlags = [ "all" ];
  installTargets = [ "install" ];
  installFlags = [ "DESTDIR=" ];

  meta = {
    description = "Flashpods trust-policy compiler (fpc) and its daemons fp-apid and fp-tokend";
    license = lib.licenses.gpl2Plus;
    platforms = lib.platforms.linux;
    mainProgram = "fpc";
  };
}
