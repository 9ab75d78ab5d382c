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
# `options`, each option's default; `package`, package.nix evaluated.
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

  drv = cfg.package;
  drvPolicy = (builtins.head m.config.content.contents).system.build.flashpodsPolicy;
in
{
  config = let c = resolve m.config; in if isAbsent c then { } else c;
  options = defaults (builtins.removeAttrs m.options.services.flashpods [ "package" ]);
  # the `fpc` derivation, read without resolving anything that needs its
  # output (it is the first definition of the module's mkMerge)
  build = {
    inherit (drvPolicy) name script;
    policy = toString drvPolicy.env.policy;
    policyName = drvPolicy.env.policyName;
    nativeBuildInputs = map toString drvPolicy.env.nativeBuildInputs;
  };
  package = {
    inherit (drv) name;
    out = toString drv;
    nativeBuildInputs = map (p: p.pname) drv.drvAttrs.nativeBuildInputs;
    buildInputs = map (p: p.pname) drv.drvAttrs.buildInputs;
    inherit (drv.drvAttrs) makeFlags installTargets;
    src = toString drv.drvAttrs.src.src;
    keeps = map (p: drv.drvAttrs.src.filter p "regular") [ "/s/Makefile" "/s/compiler/compile.c" ];
    drops = map (p: drv.drvAttrs.src.filter p "directory") [ "/s/build" "/s/.git" ]
      ++ [ (drv.drvAttrs.src.filter "/s/tests/x.got" "regular") ];
  };
}
