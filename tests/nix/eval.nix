# SPDX-License-Identifier: GPL-2.0-or-later
# tests/nix/eval.nix: evaluate nix/module.nix offline on the real module
# system: nixpkgs' lib (lib.evalModules, its types and merging), the NixOS
# option declarations rebuilt in ./nixos/ from nixpkgs' own modules, a
# host configuration from ./hosts/, and the stub packages of stub-pkgs.nix.
#
#   nix-instantiate --eval --strict --json --store dummy:// tests/nix/eval.nix \
#     --arg lib 'import LIBDIR' --argstr stage DIR --argstr compiled DIR \
#     [--argstr host NAME] [--arg settings '{ ... }'] -A ATTR
#
# Attributes: `config`, what the module sets, as NixOS holds it after
# merging (the options it touches, our users and units); `summary`, what a
# host case is judged on (failed assertions, warnings, the nftables and
# firewall switches, our parts present or not); `ruleset`, the text
# nftables.service would load (system.build.nftables of ./nixos/nftables.nix);
# `build`, the `fpc` derivation's name, environment and script; `options`,
# each services.flashpods option's default and type; `optionNames`;
# `flake`, flake.nix's outputs with a nixpkgs made of the real lib and the
# stubs; `package`, package.nix evaluated.
{
  lib,
  stage,
  compiled,
  host ? "default",
  settings ? { },
}:
let
  pkgs = import ./stub-pkgs.nix { inherit lib stage compiled; };

  nixosModules = [
    ./nixos/nftables.nix
    ./nixos/firewall.nix
    ./nixos/users.nix
    ./nixos/systemd.nix
    ./nixos/misc.nix
    ./nixos/layers.nix
    { _module.args.pkgs = pkgs; }
  ];

  system = lib.evalModules {
    modules = nixosModules ++ [
      ../../nix/module.nix
      ./hosts/${host}.nix
      { services.flashpods = settings; }
    ];
  };
  c = system.config;

  ours = [ "fp-apid" "fp-tokend" "flashpods-spire-entries" ];
  # a submodule's value without the module system's own attribute
  strip =
    v:
    if builtins.isAttrs v then
      lib.mapAttrs (_: strip) (removeAttrs v [ "_module" ])
    else if builtins.isList v then
      map strip v
    else
      v;
  foreignUsers = [ "root" "nobody" ];

  # the units as systemd gets them (no module-system internals)
  units = lib.mapAttrs (_: s: removeAttrs s [ "_module" ]) c.systemd.services;

  failed = c: map (a: a.message) (lib.filter (a: !a.assertion) c.assertions);

  # the options' defaults and types, by path
  isOption = lib.isOption;
  defaults = lib.mapAttrs (
    _: o:
    if isOption o then
      {
        default = if o ? defaultText then o.defaultText.text or o.defaultText else o.default;
        type = o.type.description;
      }
    else
      defaults o
  );
  optionNames =
    o: p:
    lib.concatMap (
      n:
      let
        q = p ++ [ n ];
      in
      if isOption o.${n} then [ (lib.concatStringsSep "." q) ] else optionNames o.${n} q
    ) (lib.attrNames o);

  drv = c.services.flashpods.package;
  drvPolicy = c.system.build.flashpodsPolicy;

  # nixpkgs.lib.nixosSystem for the flake: the same rebuilt declarations,
  # plus the few options of a full NixOS its check configuration sets and
  # the harness does not rebuild (taken as anything)
  nixosSystem =
    { modules, ... }:
    lib.evalModules {
      modules =
        nixosModules
        ++ [
          {
            options.nixpkgs = lib.mkOption { type = lib.types.attrsOf lib.types.anything; };
            options.boot.loader = lib.mkOption { type = lib.types.attrsOf lib.types.anything; };
            options.fileSystems = lib.mkOption { type = lib.types.attrsOf lib.types.anything; };
          }
        ]
        ++ modules;
    };
in
{
  config = {
    inherit (c) warnings;
    failedAssertions = failed c;
    networking.nftables = {
      inherit (c.networking.nftables) enable flushRuleset;
      tables = lib.filterAttrs (n: _: n != "nixos-fw") c.networking.nftables.tables;
    };
    networking.firewall = {
      inherit (c.networking.firewall)
        enable
        backend
        allowedTCPPorts
        allowedUDPPorts
        allowedTCPPortRanges
        allowedUDPPortRanges
        interfaces
        ;
    };
    users.users = removeAttrs c.users.users foreignUsers;
    users.groups = removeAttrs c.users.groups [ "root" "nogroup" ];
    systemd.services = lib.filterAttrs (n: _: lib.elem n ours) units;
    systemd.tmpfiles.rules = c.systemd.tmpfiles.rules;
    system.activationScripts = c.system.activationScripts;
    environment.etc = lib.mapAttrs (_: e: e.source) c.environment.etc;
    environment.systemPackages = map (p: p.name) c.environment.systemPackages;
    inherit (c) virtualisation boot;
    networking.wireguard.interfaces = strip c.networking.wireguard.interfaces;
    services.rsyncd = { inherit (c.services.rsyncd) enable port settings socketActivated; };
    systemd.sockets = lib.mapAttrs (_: s: { inherit (s) listenStreams; }) c.systemd.sockets;
  };

  summary = {
    failedAssertions = failed c;
    inherit (c) warnings;
    nftables = {
      inherit (c.networking.nftables) enable;
      flushRuleset = c.networking.nftables.flushRuleset;
      tables = lib.attrNames c.networking.nftables.tables;
    };
    firewall = { inherit (c.networking.firewall) enable backend; };
    users = lib.attrNames (removeAttrs c.users.users foreignUsers);
    # every unit evaluated in full, as building the system would
    services = builtins.deepSeq units (lib.attrNames units);
    activationScripts = lib.attrNames c.system.activationScripts;
  };

  ruleset = c.system.build.nftables;

  options = defaults (removeAttrs system.options.services.flashpods [ "package" ]);
  optionNames = optionNames system.options.services.flashpods [ ];

  build = {
    inherit (drvPolicy) name script;
    policy = toString drvPolicy.env.policy;
    policyName = drvPolicy.env.policyName;
    generated = toString (drvPolicy.env.generated or "");
    nativeBuildInputs = map toString drvPolicy.env.nativeBuildInputs;
  };

  # flake.nix's outputs with a nixpkgs of the real lib and the stubs
  flake =
    let
      nixpkgs = {
        lib = lib // {
          inherit nixosSystem;
        };
        legacyPackages = lib.genAttrs [ "x86_64-linux" "aarch64-linux" ] (_: pkgs);
      };
      out = (import ../../flake.nix).outputs {
        self = out;
        inherit nixpkgs;
      };
      perSystem = f: lib.mapAttrs (_: f);
      vm = out.packages.x86_64-linux.vm-test.test;
      host = vm.nodes.host { inherit pkgs; };
      overlaid = out.overlays.default pkgs pkgs;
    in
    {
      inputs = (import ../../flake.nix).inputs;
      packages = perSystem lib.attrNames out.packages;
      default = perSystem (p: p.default.name) out.packages;
      checks = perSystem lib.attrNames out.checks;
      moduleEval = perSystem (ch: builtins.fromJSON ch.module-eval.text) out.checks;
      policyCheck = out.checks.x86_64-linux.policy.script;
      formatter = perSystem (f: f.name) out.formatter;
      overlay = overlaid.fpc.name;
      nixosModules = lib.attrNames out.nixosModules;
      vm = {
        inherit (vm) name;
        nodes = lib.attrNames vm.nodes;
        hostImportsModule = lib.length host.imports == 1;
        hostEnables = host.services.flashpods.enable;
        scriptUsesBoth = builtins.match ".*laptop[.].*host[.].*" vm.testScript != null;
      };
    };

  package = {
    inherit (drv) name;
    out = toString drv;
    nativeBuildInputs = map (p: p.pname) drv.drvAttrs.nativeBuildInputs;
    buildInputs = map (p: p.pname) drv.drvAttrs.buildInputs;
    inherit (drv.drvAttrs) makeFlags installTargets installFlags;
    src = toString drv.drvAttrs.src.origSrc;
    keeps = map (p: drv.drvAttrs.src.filter p "regular") [ "/s/Makefile" "/s/compiler/compile.c" ];
    drops =
      map (p: drv.drvAttrs.src.filter p "directory") [ "/s/build" "/s/.git" ]
      ++ [ (drv.drvAttrs.src.filter "/s/tests/x.got" "regular") ];
  };
}
