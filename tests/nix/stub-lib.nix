# SPDX-License-Identifier: GPL-2.0-or-later
# tests/nix/stub-lib.nix: the few nixpkgs `lib` functions nix/module.nix and
# nix/package.nix use, with nixpkgs' meaning, for an offline evaluation with
# no nixpkgs. mkIf/mkMerge/mkDefault produce the same tagged values
# (_type "if"/"merge"/"override") that eval.nix resolves as the NixOS module
# system would.
let
  mkOptionType = name: check: { _type = "option-type"; inherit name check; };
  isStorePathLike = x: builtins.isPath x
    || (builtins.isString x && builtins.substring 0 1 x == "/")
    || (builtins.isAttrs x && x ? outPath);
in
rec {
  mkOption = attrs: attrs // { _type = "option"; };
  mkEnableOption = name: mkOption {
    type = types.bool;
    default = false;
    example = true;
    description = "Whether to enable ${name}.";
  };
  literalExpression = text: { _type = "literalExpression"; inherit text; };

  mkIf = condition: content: { _type = "if"; inherit condition content; };
  mkMerge = contents: { _type = "merge"; inherit contents; };
  mkDefault = content: { _type = "override"; priority = 1000; inherit content; };

  types = {
    bool = mkOptionType "bool" builtins.isBool;
    str = mkOptionType "str" builtins.isString;
    path = mkOptionType "path" isStorePathLike;
    package = mkOptionType "package" (x: builtins.isAttrs x && x ? outPath);
    nullOr = t: mkOptionType "null or ${t.name}" (x: x == null || t.check x);
  };

  importJSON = path: builtins.fromJSON (builtins.readFile path);
  concatStringsSep = builtins.concatStringsSep;
  optionals = cond: list: if cond then list else [ ];
  hasSuffix = suffix: s:
    let ls = builtins.stringLength s; lx = builtins.stringLength suffix; in
    lx <= ls && builtins.substring (ls - lx) lx s == suffix;
  cleanSourceWith = { src, filter, name ? "source" }: {
    _type = "cleanSource"; inherit src filter name;
    outPath = toString src;
  };
  licenses.gpl2Plus = { spdxId = "GPL-2.0-or-later"; };
  platforms.linux = [ "x86_64-linux" "aarch64-linux" ];
}
