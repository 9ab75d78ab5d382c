# SPDX-License-Identifier: GPL-2.0-or-later
# flake.nix: fpc and its daemons as a package, the NixOS module, and a NixOS
# VM test (a host running Flashpods and a laptop driving it over WireGuard;
# `nix flake check` needs Nix with KVM). docs/nixos.md is the guide.
{
  description = "fpc: the Flashpods trust-policy compiler, its daemons and NixOS module";

  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-24.05";

  outputs = { self, nixpkgs }:
    let
      system = "x86_64-linux";
      pkgs = nixpkgs.legacyPackages.${system};
    in
    {
      packages.${system} = rec {
        fpc = pkgs.callPackage ./nix/package.nix { };
        default = fpc;
      };

      nixosModules = rec {
        flashpods = import ./nix/module.nix;
        default = flashpods;
      };

      checks.${system} = {
        package = self.packages.${system}.default;
        vm = pkgs.testers.runNixOSTest (import ./nix/vm-test.nix { module = self.nixosModules.default; });
      };
    };
}
