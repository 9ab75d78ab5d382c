# SPDX-License-Identifier: GPL-2.0-or-later
# flake.nix: fpc and its daemons as a package (and an overlay), the NixOS
# module, a formatter, and checks that need neither KVM nor import from
# derivation: the package builds, `fpc check` proves the default policy,
# and the module evaluates on NixOS with the checked-in nix/generated
# (building that check also compiles the policy and fails if the copy is
# stale). The NixOS VM test (a host running Flashpods and a laptop driving
# it over WireGuard) needs KVM: it is a package, `nix build .#vm-test`.
# docs/nixos.md is the guide.
{
  description = "fpc: the Flashpods trust-policy compiler, its daemons and NixOS module";

  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-26.05";

  outputs =
    { self, nixpkgs }:
    let
      lib = nixpkgs.lib;
      systems = [ "x86_64-linux" "aarch64-linux" ];
      forAllSystems = f: lib.genAttrs systems (system: f system nixpkgs.legacyPackages.${system});

      # A host with the module and the checked-in generated data: what the
      # module-eval check evaluates (no import from derivation).
      evalHost =
        system:
        nixpkgs.lib.nixosSystem {
          modules = [
            self.nixosModules.default
            {
              nixpkgs.hostPlatform = system;
              nixpkgs.overlays = [ self.overlays.default ];
              boot.loader.grub.enable = false;
              fileSystems."/" = {
                device = "none";
                fsType = "tmpfs";
              };
              system.stateVersion = "26.05";
              networking.nftables.enable = true;
              services.flashpods = {
                enable = true;
                generated = ./nix/generated;
              };
            }
          ];
        };

      # The evaluated module as JSON, or the failed assertions as an error.
      moduleEval =
        system: pkgs:
        let
          config = (evalHost system).config;
          failed = map (a: a.message) (lib.filter (a: !a.assertion) config.assertions);
        in
        if failed != [ ] then
          throw "services.flashpods: failed assertions:\n- ${lib.concatStringsSep "\n- " failed}"
        else
          pkgs.writeText "flashpods-module-eval.json" (
            builtins.toJSON {
              tables = lib.attrNames config.networking.nftables.tables;
              inherit (config.networking.nftables) flushRuleset;
              units = lib.filter (lib.hasPrefix "fp-") (lib.attrNames config.systemd.services);
              bundle = config.environment.etc."flashpods/policy.pb".source;
            }
          );
    in
    {
      overlays.default = final: prev: { fpc = final.callPackage ./nix/package.nix { }; };

      packages = forAllSystems (
        system: pkgs: rec {
          fpc = pkgs.callPackage ./nix/package.nix { };
          default = fpc;
          vm-test = pkgs.testers.runNixOSTest (import ./nix/vm-test.nix { module = self.nixosModules.default; });
        }
      );

      nixosModules = rec {
        flashpods = import ./nix/module.nix;
        default = flashpods;
      };

      formatter = forAllSystems (system: pkgs: pkgs.nixfmt);

      checks = forAllSystems (
        system: pkgs: {
          package = self.packages.${system}.fpc;
          policy = pkgs.runCommand "fpc-check-default-policy" {
            nativeBuildInputs = [ self.packages.${system}.fpc ];
          } "fpc check ${./policies/default.fp} && touch $out";
          module-eval = moduleEval system pkgs;
        }
      );
    };
}
