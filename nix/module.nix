# SPDX-License-Identifier: GPL-2.0-or-later
# nix/module.nix: services.flashpods, the NixOS side of fpc.
#
# At build time it compiles the policy with `fpc POLICY -o $out` (a policy
# that does not compile or whose invariants fail to prove fails the
# nixos-rebuild), then wires the result in, restating nothing by hand:
#   - networking.nftables.tables.<name>: family and body from the output;
#   - networking.firewall: the ports our table allows (nixos.json);
#   - the flashpods user with the uid the policy pins, its group;
#   - systemd.tmpfiles.rules: socket and per-job directories (nixos.json);
#   - fp-apid.service and fp-tokend.service on the compiled bundle.
# The compiled output is read at evaluation time (import from derivation).
# docs/nixos.md is the operator's guide.
{ config, lib, pkgs, ... }:

let
  cfg = config.services.flashpods;

  # `fpc POLICY -o $out`. The policy is copied under its own file name so
  # the rule comments name it as the author does ("default.fp:31 ...").
  compiled = pkgs.runCommand "flashpods-policy"
    {
      nativeBuildInputs = [ cfg.package ];
      policy = cfg.policy;
      policyName = baseNameOf (toString cfg.policy);
    }
    ''
      cp "$policy" "$policyName"
      fpc "$policyName" -o "$out"
    '';

  nix = lib.importJSON "${compiled}/nixos.json";
  fw = nix.firewall;
  user = nix.user;
  body = builtins.readFile "${compiled}/${nix.table.content_file}";
  bundle = "${compiled}/${nix.bundle}";

  # The build-time `nft --check` runs in a sandbox without our users: fpc
  # emits `meta skuid UID` for a user whose uid the policy pins (the
  # container user), and the name otherwise, which only the host resolves.
  checkUids = nix.check_uids;
  unpinned = builtins.filter (n: checkUids.${n} == null) (builtins.attrNames checkUids);
  checkRuleset = config.networking.nftables.checkRuleset or true;

  # A path in a space-separated unit setting (ReadWritePaths=), quoted if
  # it holds white space.
  unitPath = p: if builtins.match ".*[[:space:]].*" p != null then "\"${p}\"" else p;

  # A daemon runs if the policy has its service (nixos.json `daemons`).
  daemons = nix.daemons;

  # What both daemons share: run as the container user, see a read-only
  # system and no home directories, no realtime scheduling.
  common = {
    User = user.name;
    Group = user.group;
    Restart = "on-failure";
    RestartSec = "5s";
    UMask = "0077";
    ProtectSystem = "strict";
    ProtectHome = true;
    RestrictRealtime = true;
  };

  # A root-only secret file (0600 root:root) handed to a daemon that runs as
  # the container user: before start and before each reload, systemd (as
  # root: the "+" prefix) copies it into the unit's RuntimeDirectory, owned
  # by the user and 0600, which is what the daemons insist on.
  copySecret = rundir: src: name:
    "+${pkgs.coreutils}/bin/install -m 0600 -o ${user.name} -g ${user.group} ${src} /run/${rundir}/${name}";
  reload = copy: [ copy "${pkgs.coreutils}/bin/kill -HUP $MAINPID" ];

  # fp-tokend: a unix socket and files only; nothing else.
  tokendSecrets = copySecret "fp-tokend" (toString cfg.tokenService.secretsFile) "secrets.json";
  tokendService = common // {
    ExecStart = lib.concatStringsSep " " ([
      "${cfg.package}/bin/fp-tokend"
      "--bundle" bundle
      "--secrets" "/run/fp-tokend/secrets.json"
      "--audit" "${cfg.logDir}/tokend-audit.log"
    ] ++ lib.optionals (cfg.tokenService.trustBundle != null) [
      "--trust-bundle" (toString cfg.tokenService.trustBundle)
    ]);
    ExecStartPre = [ tokendSecrets ];
    ExecReload = reload tokendSecrets;
    RuntimeDirectory = "fp-tokend";
    RuntimeDirectoryMode = "0700";
    NoNewPrivileges = true;
    PrivateTmp = true;
    PrivateNetwork = true;
    PrivateDevices = true;
    ProtectClock = true;
    ProtectHostname = true;
    ProtectKernelModules = true;
    ProtectKernelTunables = true;
    ProtectKernelLogs = true;
    ProtectControlGroups = true;
    RestrictAddressFamilies = [ "AF_UNIX" ];
    RestrictNamespaces = true;
    RestrictSUIDSGID = true;
    MemoryDenyWriteExecute = true;
    CapabilityBoundingSet = "";
    AmbientCapabilities = "";
    SystemCallFilter = [ "@system-service" ];
    SystemCallErrorNumber = "EPERM";
    SystemCallArchitectures = "native";
    LockPersonality = true;
    ReadWritePaths = map unitPath (daemons."fp-tokend".read_write ++ [ cfg.logDir ]);
  };

  # fp-apid: the job API. It runs rootless podman as the container user, and
  # everything a unit restricts is inherited by podman, the OCI runtime and
  # the containers, so it keeps what they need (docs/nixos.md lists why):
  # setuid newuidmap (NoNewPrivileges off), capabilities inside the user
  # namespace (no bounding set), mount and pivot_root (a deny-list instead
  # of @system-service), a mountable /proc (no ProtectKernelTunables, Logs,
  # ControlGroups), /dev/net/tun and /dev/fuse (no PrivateDevices, nor
  # ProtectClock, which implies a device allow-list), sethostname in the
  # container (no ProtectHostname), and the host's /tmp where uploads live
  # (no PrivateTmp).
  apidToken = copySecret "flashpods-apid" (toString cfg.api.tokenFile) "api-token";
  apidService = common // {
    ExecStart = lib.concatStringsSep " " [
      "${cfg.package}/bin/fp-apid"
      "--bundle" bundle
      "--token" "/run/flashpods-apid/api-token"
      "--db" "${cfg.stateDir}/db/flashpods.db"
      "--log-dir" cfg.logDir
    ];
    ExecStartPre = [ apidToken ];
    ExecReload = reload apidToken;
    NoNewPrivileges = false;
    RuntimeDirectory = "flashpods-apid";
    RuntimeDirectoryMode = "0700";
    RestrictAddressFamilies = [ "AF_UNIX" "AF_INET" "AF_INET6" "AF_NETLINK" ];
    SystemCallFilter = [ "~@clock @cpu-emulation @module @obsolete @raw-io @reboot @swap" ];
    SystemCallErrorNumber = "EPERM";
    ProtectKernelModules = true;
    ReadWritePaths = map unitPath ([ cfg.stateDir cfg.logDir ] ++ daemons."fp-apid".read_write);
  };

  # Started only once our table is in force, and stopped if it fails to load.
  ordering = {
    after = [ "network-online.target" "nftables.service" "spire-agent.service" ];
    wants = [ "network-online.target" ];
    requires = [ "nftables.service" ];
    wantedBy = [ "multi-user.target" ];
  };

  portsOf = f: {
    allowedTCPPorts = f.tcp;
    allowedUDPPorts = f.udp;
    allowedTCPPortRanges = f.tcp_ranges;
    allowedUDPPortRanges = f.udp_ranges;
  };
in
{
  options.services.flashpods = {
    enable = lib.mkEnableOption "Flashpods (fpc's firewall table, fp-apid and fp-tokend)";

    package = lib.mkOption {
      type = lib.types.package;
      default = pkgs.callPackage ./package.nix { };
      defaultText = lib.literalExpression "pkgs.callPackage ./nix/package.nix { }";
      description = "The package providing fpc, fp-apid and fp-tokend.";
    };

    policy = lib.mkOption {
      type = lib.types.path;
      default = ../policies/default.fp;
      defaultText = lib.literalExpression "./policies/default.fp";
      description = ''
        The policy file. It is compiled with `fpc` during the build; a policy
        that does not compile or whose invariants do not hold fails the
        rebuild. Every port, interface, user, socket and directory below is
        taken from it.
      '';
    };

    api.tokenFile = lib.mkOption {
      type = lib.types.path;
      default = "/etc/flashpods/api-token";
      description = ''
        The API bearer token (64 hex characters). Keep it 0600 root:root and
        out of the Nix store (give a string, not a Nix path): systemd copies
        it for fp-apid at each start and reload.
      '';
    };

    tokenService.secretsFile = lib.mkOption {
      type = lib.types.path;
      default = "/etc/flashpods/secrets.json";
      description = ''
        The secrets fp-tokend hands out (keys lower-case secret names, e.g.
        `anthropic_api_key`). Keep it 0600 root:root and out of the Nix
        store: systemd copies it for fp-tokend at each start and reload, so
        `systemctl reload fp-tokend` rotates secrets.
      '';
    };

    tokenService.trustBundle = lib.mkOption {
      type = lib.types.nullOr lib.types.path;
      default = null;
      example = "/var/lib/spire/agent/bundle.jwks";
      description = ''
        The SPIRE trust bundle (JWKS) that JWT-SVIDs are verified against.
        null: fp-tokend's own default.
      '';
    };

    stateDir = lib.mkOption {
      type = lib.types.str;
      default = "/var/lib/flashpods";
      description = "fp-apid's state: the job database (db/) and the container user's home (podman storage).";
    };

    logDir = lib.mkOption {
      type = lib.types.str;
      default = "/var/log/flashpods";
      description = "Job output logs and fp-tokend's audit log.";
    };
  };

  config = lib.mkIf cfg.enable (lib.mkMerge [
    {
      assertions = [
        {
          assertion = user != null || daemons == { };
          message = "services.flashpods: the policy has services for fp-apid or fp-tokend (${builtins.concatStringsSep ", " (builtins.attrNames daemons)}) but no `container { ... engine podman rootless user NAME uid N; }` profile: the daemons run as its user.";
        }
        {
          assertion = !checkRuleset || unpinned == [ ];
          message = "services.flashpods: the policy's `via user` rows name users whose uid it does not pin (${builtins.concatStringsSep ", " unpinned}), so the ruleset matches them by name and `nft --check` in the build sandbox, which has no such users, fails. Use the container user (its `uid N` is pinned) or set networking.nftables.checkRuleset = false.";
        }
      ];

      system.build.flashpodsPolicy = compiled;

      networking.nftables = {
        enable = true;
        tables.${nix.table.name} = {
          family = nix.table.family;
          content = body;
        };
      };

      networking.firewall = portsOf fw.all_interfaces // {
        interfaces = builtins.mapAttrs (_: portsOf) fw.interfaces;
      };

      # fpc on the host, and the policy and bundle in force where the tools
      # look by default: `fpc verify-live /etc/flashpods/policy.fp`,
      # `fp-apid -n`, `fp-tokend -n`
      environment.systemPackages = [ cfg.package ];
      environment.etc."flashpods/policy.fp".source = cfg.policy;
      environment.etc."flashpods/policy.pb".source = bundle;

      # rootless podman for the container profile (fp-apid runs `podman run`)
      virtualisation.podman.enable = lib.mkDefault true;

      systemd.tmpfiles.rules = map (d: d.tmpfiles) nix.directories;
    }

    # The user, its directories and the daemons: only with a container
    # profile (a firewall-only policy has none).
    (lib.mkIf (user != null) {
      users.users.${user.name} = {
        isSystemUser = true;
        uid = user.uid;
        group = user.group;
        description = "Flashpods job containers and daemons";
        home = "${cfg.stateDir}/home";
        createHome = true;
        autoSubUidGidRange = true;
      };
      users.groups.${user.group} = { };

      systemd.tmpfiles.rules = [
        "d ${cfg.stateDir} 0750 ${user.name} ${user.group} - -"
        "d ${cfg.stateDir}/db 0700 ${user.name} ${user.group} - -"
        "d ${cfg.stateDir}/tmp 0700 ${user.name} ${user.group} - -"
        "d ${cfg.logDir} 0750 ${user.name} ${user.group} - -"
      ];

      systemd.services =
        (if daemons ? "fp-tokend" then {
          fp-tokend = ordering // {
            description = "Flashpods token service (JWT-SVID in, secrets out)";
            serviceConfig = tokendService;
          };
        } else { })
        // (if daemons ? "fp-apid" then {
          fp-apid = ordering // {
            description = "Flashpods job API";
            after = ordering.after ++ [ "fp-tokend.service" ];
            wants = ordering.wants ++ [ "fp-tokend.service" ];
            path = [ "/run/wrappers" pkgs.podman ];
            # ProtectSystem=strict leaves /tmp and /var/tmp read-only: podman
            # stages pulled images and SQLite its temporary files in TMPDIR
            environment = {
              XDG_RUNTIME_DIR = "/run/flashpods-apid";
              HOME = "${cfg.stateDir}/home";
              TMPDIR = "${cfg.stateDir}/tmp";
            };
            serviceConfig = apidService;
          };
        } else { });
    })
  ]);
}
