# SPDX-License-Identifier: GPL-2.0-or-later
# tests/nix/eval.nix: evaluate nix/module.nix offline, as the NixOS module
# system would, with the stubs beside this file.
#
#   nix-instantiate --eval --strict --json --store dummy:// tests/nix/eval.nix \
#     --argstr stage DIR --argstr compiled DIR [--arg enable false] -A config
#
# Attributes: `config`, the module's config with every mkIf, mkMerge and
# mkDefault resolved (a false mkIf leaves nothing, and its content is never
# evaluated); `build`, the `fpc` derivation's name, environment and script;
# `options`, each option's default; `optionNames`, every option's path;
# `pushDown`, the NixOS option paths the config reaches when pushed down
# as the module system does (attribute names only, conditions ignored);
# `flake`, flake.nix's outputs with a stub nixpkgs; `package`, package.nix
# evaluated.
{ stage, compiled, enable ? true, settings ? { } }:
let
  lib = import ./stub-lib.nix;
  pkgs = import ./stub-pkgs.nix { inherit lib stage compiled; };

  absent = { _type = "absent"; };
  isAbsent = v: builtins.isAttrs v && (v._type or null) == "absent";
  isOption = v: builtins.isAttrs v && (v._type or null) == "option";

  # Resolve the properties of a config value, as the module system does for
  # one module's definitions.
  resolve = v:
    if !builtins.isAttrs v then v
    else if (v._type or null) == "if" then
      (if v.condition then resolve v.content else absent)
    else if (v._type or null) == "override" then resolve v.content
    else if (v._type or null) == "merge" then
      builtins.foldl' mergeTwo { } (builtins.filter (x: !isAbsent x) (map resolve v.contents))
    else if v ? outPath then v
    else
      let r = builtins.mapAttrs (_: resolve) v; in
      builtins.removeAttrs r (builtins.filter (n: isAbsent r.${n}) (builtins.attrNames r));

  mergeTwo = a: b:
    if builtins.isAttrs a && builtins.isAttrs b && !(a ? outPath) then
      a // builtins.mapAttrs (n: v: if a ? ${n} then mergeTwo a.${n} v else v) b
    else if builtins.isList a && builtins.isList b then a ++ b
    else throw "conflicting definitions";

  # Option values: the settings where given (type-checked), else defaults.
  fill = opts: set:
    builtins.mapAttrs
      (n: o:
        if isOption o then
          (if set ? ${n} then
            (if o.type.check set.${n} then set.${n}
             else throw "option ${n}: not a ${o.type.name}")
          else o.default)
        else fill o (set.${n} or { }))
      opts;

  defaults = opts: builtins.mapAttrs
    (_: o: if isOption o then { default = o.default; type = o.type.name; } else defaults o)
    opts;

  module = import ../../nix/module.nix;
  m = module { inherit config lib pkgs; };
  cfg = fill m.options.services.flashpods (settings // { inherit enable; });
  config = { services.flashpods = cfg; };

  # The NixOS options the module defines, as paths. The real module system
  # pushes each definition down to its option before it looks at any mkIf
  # condition, so every attribute name above these paths is evaluated even
  # when the condition is false (only the values at and below them wait).
  definedOptions = [
    "assertions" "system.build" "networking.nftables.enable"
    "networking.nftables.tables" "networking.firewall.allowedTCPPorts"
    "networking.firewall.allowedUDPPorts" "networking.firewall.allowedTCPPortRanges"
    "networking.firewall.allowedUDPPortRanges" "networking.firewall.interfaces"
    "environment.systemPackages" "environment.etc" "virtualisation.podman.enable"
    "systemd.tmpfiles.rules" "users.users" "users.groups" "systemd.services"
  ];
  # Push v (at path p) down as the module system does, ignoring conditions
  # and forcing only attribute names: the option paths reached, sorted, or
  # "not an option: P" for a value reached anywhere else.
  pushDown = p: v:
    let
      here = builtins.concatStringsSep "." p;
      t = if builtins.isAttrs v then v._type or null else null;
    in
    if builtins.elem here definedOptions then [ here ]
    else if t == "if" || t == "override" then pushDown p v.content
    else if t == "merge" then builtins.concatMap (pushDown p) v.contents
    else if builtins.isAttrs v && !(v ? outPath) then
      builtins.concatMap (n: pushDown (p ++ [ n ]) v.${n}) (builtins.attrNames v)
    else [ "not an option: ${here}" ];
  uniq = l: builtins.foldl' (acc: x: if builtins.elem x acc then acc else acc ++ [ x ]) [ ] l;

  optionNames = o: p: builtins.concatMap
    (n: let q = p ++ [ n ]; in
      if isOption o.${n} then [ (builtins.concatStringsSep "." q) ] else optionNames o.${n} q)
    (builtins.attrNames o);

  drv = cfg.package;
  drvPolicy = (builtins.head m.config.content.contents).system.build.flashpodsPolicy;
in
{
  config = let c = resolve m.config; in if isAbsent c then { } else c;
  options = defaults (builtins.removeAttrs m.options.services.flashpods [ "package" ]);
  optionNames = optionNames m.options.services.flashpods [ ];
  # what the module system sees of the config before any condition: with
  # enable = false and no compiled output, this must still evaluate
  pushDown = builtins.sort builtins.lessThan (uniq (pushDown [ ] m.config));
  # the `fpc` derivation, read without resolving anything that needs its
  # output (it is the first definition of the module's mkMerge)
  build = {
    inherit (drvPolicy) name script;
    policy = toString drvPolicy.env.policy;
    policyName = drvPolicy.env.policyName;
    nativeBuildInputs = map toString drvPolicy.env.nativeBuildInputs;
  };
  # flake.nix's outputs with a stub nixpkgs (runNixOSTest returns the test)
  flake =
    let
      nixpkgs.legacyPackages.x86_64-linux = pkgs // {
        testers.runNixOSTest = test: { inherit test; };
      };
      out = (import ../../flake.nix).outputs { self = out; inherit nixpkgs; };
      vm = out.checks.x86_64-linux.vm.test;
      host = vm.nodes.host { inherit pkgs; };
    in
    {
      packages = builtins.attrNames out.packages.x86_64-linux;
      default = out.packages.x86_64-linux.default.name;
      nixosModules = builtins.attrNames out.nixosModules;
      checks = builtins.attrNames out.checks.x86_64-linux;
      vm = {
        inherit (vm) name;
        nodes = builtins.attrNames vm.nodes;
        hostImportsModule = builtins.length host.imports == 1;
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
    src = toString drv.drvAttrs.src.src;
    keeps = map (p: drv.drvAttrs.src.filter p "regular") [ "/s/Makefile" "/s/compiler/compile.c" ];
    drops = map (p: drv.drvAttrs.src.filter p "directory") [ "/s/build" "/s/.git" ]
      ++ [ (drv.drvAttrs.src.filter "/s/tests/x.got" "regular") ];
  };
}
