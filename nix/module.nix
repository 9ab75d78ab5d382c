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
#   - fp-apid.service and fp-tokend.service on the compiled bundle;
#   - the layers beside the firewall: the WireGuard peers (wireguard.json,
#     with the operator's private key), services.rsyncd (rsyncd.json) and,
#     on the SPIRE server's host, the registration entries
#     (spire-entries.json, kept in sync by nix/spire-register.sh).
# What it reads at evaluation time (nixos.json and the table body) comes
# from the compiled output (import from derivation), or, with `generated`,
# from a copy checked into the repository, which the build then compares
# with what fpc writes. On a host that already runs things it changes no
# more than it must: the nftables reload replaces tables, never flushes
# other software's; switching the firewall to nftables is announced; the
# container uid is checked against the host's accounts.
# docs/nixos.md is the operator's guide.
{
  config,
  lib,
  pkgs,
  options,
  ...
}:

let
  cfg = config.services.flashpods;
  nft = config.networking.nftables;
  fwCfg = config.networking.firewall;

  # `fpc POLICY -o $out`. The policy is copied under its own file name so
  # the rule comments name it as the author does ("default.fp:31 ...").
  # With `generated`, every file there must equal fpc's: a stale copy
  # fails the build.
  compiled = pkgs.runCommand "flashpods-policy" (
    {
      nativeBuildInputs = [ cfg.package ];
      policy = cfg.policy;
      policyName = baseNameOf (toString cfg.policy);
    }
    // lib.optionalAttrs (cfg.generated != null) { inherit (cfg) generated; }
  ) ''
    cp "$policy" "$policyName"
    fpc "$policyName" -o "$out"
    if [ -n "''${generated:-}" ]; then
      for f in "$generated"/*; do
        if ! cmp -s "$f" "$out/''${f##*/}"; then
          echo "services.flashpods.generated: ''${f##*/} differs from what fpc writes for $policyName; regenerate the checked-in copy (make nix-generated)" >&2
          exit 1
        fi
      done
    fi
  '';

  # A file of fpc's output as evaluation reads it: from the checked-in copy
  # (a source path: no import from derivation) or from the build.
  evalFile = name: if cfg.generated != null then cfg.generated + "/${name}" else "${compiled}/${name}";

  nix = lib.importJSON (evalFile "nixos.json");
  fw = nix.firewall;
  user = nix.user;
  body = builtins.readFile (evalFile nix.table.content_file);
  bundle = "${compiled}/${nix.bundle}";

  # The build-time `nft --check` runs in a sandbox without our users: fpc
  # emits `meta skuid UID` for a user whose uid the policy pins (the
  # container user), and the name otherwise, which only the host resolves.
  checkUids = nix.check_uids;
  unpinned = builtins.filter (n: checkUids.${n} == null) (builtins.attrNames checkUids);

  # Priorities of our definitions of two nftables options: above nixpkgs'
  # mkDefault (1000), below anything a host sets itself (100), and unique,
  # so `highestPrio` tells whether ours is the one in force.
  enablePrio = 999;
  flushPrio = 900;
  weEnableNftables = options.networking.nftables.enable.highestPrio == enablePrio;
  weStopFlush = options.networking.nftables.flushRuleset.highestPrio == flushPrio;
  iptablesCommands = lib.filter (n: fwCfg.${n} != "") [ "extraCommands" "extraStopCommands" ];

  # NixOS hands out uids 400-999 (system) and 1000-29999 (normal users)
  # to accounts declared without one.
  inDynamicRange = uid: uid >= 400 && uid <= 29999;
  sameUid = lib.filter (n: n != user.name && config.users.users.${n}.enable && config.users.users.${n}.uid == user.uid) (
    lib.attrNames config.users.users
  );

  # A path in a space-separated unit setting (ReadWritePaths=), quoted if
  # it holds white space.
  unitPath = p: if builtins.match ".*[[:space:]].*" p != null then "\"${p}\"" else p;

  # `bash SCRIPT ARGS` with only coreutils and getent on PATH: how units
  # and activation run the scripts beside this file.
  runScript =
    script: args:
    lib.concatStringsSep " " (
      [
        "${pkgs.coreutils}/bin/env"
        "PATH=${lib.makeBinPath [ pkgs.coreutils pkgs.getent ]}"
        pkgs.runtimeShell
        "${script}"
      ]
      ++ map unitPath args
    );
  checkUid = extra: runScript ./check-uid.sh (extra ++ [ user.name (toString user.uid) ]);

  # The layers beside the firewall (docs/deploying.md), from fpc's output.
  wgData = lib.importJSON (evalFile "wireguard.json");
  rsData = lib.importJSON (evalFile "rsyncd.json");
  wgPeer =
    p:
    {
      inherit (p) publicKey allowedIPs;
    }
    // lib.optionalAttrs (p ? endpoint) { inherit (p) endpoint; }
    // lib.optionalAttrs (p ? persistentKeepalive) { inherit (p) persistentKeepalive; };
  wgPlaceholders = lib.concatMap (i: map (p: p.name) (lib.filter (p: p.placeholder) i.peers)) (
    lib.attrValues wgData.interfaces
  );
  wgDeploy = cfg.wireguard.privateKeyFile != null && wgData.interfaces != { };
  # rsyncd.json's address as a systemd ListenStream host ([v6])
  rsListen =
    if rsData.address != null && lib.hasInfix ":" rsData.address then "[${rsData.address}]" else rsData.address;
  # `spire-register.sh apply` with jq: create the entries SPIRE lacks,
  # delete the ones under fpc's parent ID that fpc did not write
  spireRegister = lib.concatStringsSep " " [
    "${pkgs.coreutils}/bin/env"
    "PATH=${lib.makeBinPath [ pkgs.coreutils pkgs.jq ]}"
    pkgs.runtimeShell
    "${./spire-register.sh}"
    "apply"
    "${cfg.spire.package}/bin/spire-server"
    (unitPath cfg.spire.socketPath)
    "${compiled}/spire-entries.json"
  ];

  # A daemon runs if the policy has its service (nixos.json `daemons`).
  daemons = nix.daemons;

  # What both daemons share: run as the container user, see a read-only
  # system and no home directories, no realtime scheduling; before each
  # start (as root: "+") the container user must own its pinned uid.
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
  startChecks = lib.optional (user != null && user.uid != null) "+${checkUid [ ]}";

  # A root-only secret handed to a daemon that runs as the container user:
  # before start and before each reload, systemd (as root: the "+" prefix)
  # copies it into the unit's RuntimeDirectory, owned by the user and 0600,
  # which is what the daemons insist on (nix/secret-file.sh).
  copySecret =
    flags: rundir: src: name:
    "+${runScript ./secret-file.sh (flags ++ [ src "/run/${rundir}/${name}" user.name user.group ])}";
  reload = copy: [
    copy
    "${pkgs.coreutils}/bin/kill -HUP $MAINPID"
  ];

  # fp-tokend: a unix socket and files only; nothing else.
  tokendSecrets = copySecret [ ] "fp-tokend" cfg.tokenService.secretsFile "secrets.json";
  tokendService = common // {
    ExecStart = lib.concatStringsSep " " (
      [
        "${cfg.package}/bin/fp-tokend"
        "--bundle"
        bundle
        "--secrets"
        "/run/fp-tokend/secrets.json"
        "--audit"
        (unitPath "${cfg.logDir}/tokend-audit.log")
      ]
      ++ lib.optionals (cfg.tokenService.trustBundle != null) [
        "--trust-bundle"
        (unitPath "${cfg.tokenService.trustBundle}")
      ]
    );
    ExecStartPre = startChecks ++ [ tokendSecrets ];
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
  # (no PrivateTmp). Its bearer token is made on first start if missing.
  apidToken = copySecret [ "--generate" ] "flashpods-apid" cfg.api.tokenFile "api-token";
  apidService = common // {
    ExecStart = lib.concatStringsSep " " [
      "${cfg.package}/bin/fp-apid"
      "--bundle"
      bundle
      "--token"
      "/run/flashpods-apid/api-token"
      "--db"
      (unitPath "${cfg.stateDir}/db/flashpods.db")
      "--log-dir"
      (unitPath cfg.logDir)
    ];
    ExecStartPre = startChecks ++ [ apidToken ];
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

  # A secret's location on the host: an absolute path given as a string.
  # A Nix path (./api-token) would be copied into the world-readable store
  # as soon as anything interpolated it, so it is refused by type, as is a
  # string that names the store.
  # (types.externalPath in recent nixpkgs; the same pathWith where it is missing)
  secretPath = (lib.types.externalPath or (lib.types.pathWith { absolute = true; inStore = false; })) // {
    description = "absolute path on the host as a string, outside /nix/store (a Nix path would copy the secret into the world-readable store)";
  };
in
{
  options.services.flashpods = {
    enable = lib.mkEnableOption "Flashpods (fpc's firewall table, fp-apid and fp-tokend)";

    package = lib.mkOption {
      type = lib.types.package;
      default = pkgs.fpc or (pkgs.callPackage ./package.nix { });
      defaultText = lib.literalExpression "pkgs.fpc (the flake's overlay), else pkgs.callPackage ./nix/package.nix { }";
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

    generated = lib.mkOption {
      type = lib.types.nullOr lib.types.path;
      default = null;
      example = lib.literalExpression "./nix/generated";
      description = ''
        A directory holding a copy of what fpc writes for `policy` that
        evaluation needs (`nixos.json` and the table body it names,
        `wireguard.json`, `rsyncd.json`), checked
        into your repository. With it, evaluating the system reads only
        source files (no import from derivation, for evaluators with
        `allow-import-from-derivation = false`); the build still compiles
        the policy and fails if any file there differs from fpc's output.
        null: read them from the build (import from derivation).
      '';
    };

    api.tokenFile = lib.mkOption {
      type = secretPath;
      default = "${cfg.stateDir}/api-token";
      defaultText = lib.literalExpression ''"''${config.services.flashpods.stateDir}/api-token"'';
      description = ''
        fp-apid's bearer token (64 hex characters). If the file does not
        exist when fp-apid starts, it is created: 32 random bytes in hex,
        mode 0600, owned by the container user. An existing file is kept;
        it must be mode 0600 or 0400. Give a string, never a Nix path.
      '';
    };

    tokenService.secretsFile = lib.mkOption {
      type = secretPath;
      default = "/etc/flashpods/secrets.json";
      description = ''
        The secrets fp-tokend hands out (keys lower-case secret names, e.g.
        `anthropic_api_key`). Keep it 0600 and out of the Nix store (a
        string, never a Nix path): systemd copies it for fp-tokend at each
        start and reload, so `systemctl reload fp-tokend` rotates secrets.
      '';
    };

    tokenService.trustBundle = lib.mkOption {
      type = lib.types.nullOr lib.types.path;
      default = null;
      example = "/var/lib/spire/agent/bundle.jwks";
      description = ''
        The SPIRE trust bundle (JWKS) that JWT-SVIDs are verified against
        (public keys: a Nix path is copied into the store, a string is a
        path on the host). null: fp-tokend's own default.
      '';
    };

    wireguard.privateKeyFile = lib.mkOption {
      type = lib.types.nullOr secretPath;
      default = null;
      example = "/etc/wireguard/wg0.key";
      description = ''
        The host's WireGuard private key (`wg genkey`, 0600 root), for the
        policy's `wireguard "IFACE"` block. Set, the module defines
        networking.wireguard.interfaces.IFACE with the policy's listen port
        and peers (each peer's AllowedIPs are its source's addresses); the
        interface's own addresses (`ips`) are yours to set. null: the peers
        are not deployed (wireguard.conf in the compiled output is for
        `wg setconf` by hand). A string, never a Nix path.
      '';
    };

    spire.register = lib.mkOption {
      type = lib.types.bool;
      default = false;
      description = ''
        On the host that runs the SPIRE server: keep its registration
        entries equal to the policy's identities (spire-entries.json, parent
        ID from `spire_parent`) with a oneshot after spire-server.service
        that creates the missing entries and deletes the ones under that
        parent ID the policy no longer has. Entries under other parents are
        never touched.
      '';
    };

    spire.package = lib.mkOption {
      type = lib.types.package;
      default = pkgs.spire;
      defaultText = lib.literalExpression "pkgs.spire";
      description = "The package providing `bin/spire-server`.";
    };

    spire.socketPath = lib.mkOption {
      type = lib.types.str;
      default = "/tmp/spire-server/private/api.sock";
      description = "The SPIRE server's API socket (its `socket_path`).";
    };

    stateDir = lib.mkOption {
      type = lib.types.str;
      default = "/var/lib/flashpods";
      description = "fp-apid's state: the job database (db/), the generated API token, and the container user's home (podman storage).";
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
          assertion = !nft.checkRuleset || unpinned == [ ];
          message = "services.flashpods: the policy's `via user` rows name users whose uid it does not pin (${builtins.concatStringsSep ", " unpinned}), so the ruleset matches them by name and `nft --check` in the build sandbox, which has no such users, fails. Use the container user (its `uid N` is pinned) or set networking.nftables.checkRuleset = false.";
        }
        {
          assertion = !wgDeploy || wgPlaceholders == [ ];
          message = "services.flashpods: the policy's WireGuard peer ${lib.concatStringsSep ", " wgPlaceholders} still has the placeholder key (all zero bytes), with which no handshake succeeds. Put the peer's public key (`wg pubkey < private.key` on that machine) in the policy's wireguard block.";
        }
        {
          assertion = nft.enable;
          message = "services.flashpods: its table is loaded by networking.nftables, which this configuration turns off (networking.nftables.enable = false). Without it the policy's firewall is not in force; enable networking.nftables or do not enable services.flashpods.";
        }
        {
          assertion = !(weEnableNftables && fwCfg.enable && iptablesCommands != [ ]);
          message = "services.flashpods turns on networking.nftables to load its table, and that switches networking.firewall.backend from iptables to nftables (nixpkgs' default follows networking.nftables.enable). This host has iptables commands in networking.firewall.${lib.concatStringsSep " and " iptablesCommands}, which the nftables firewall cannot run. Rewrite them as nftables rules (networking.firewall.extraInputRules, or a table of your own in networking.nftables.tables), remove them, and set networking.nftables.enable = true yourself. docs/nixos.md, \"Before you enable it\".";
        }
        {
          assertion = !(weStopFlush && (nft.ruleset != "" || nft.rulesetFile != null));
          message = "services.flashpods sets networking.nftables.flushRuleset = false, so that a reload replaces only the tables NixOS manages and leaves other software's (podman, libvirt, docker) alone. This host also loads networking.nftables.ruleset or rulesetFile, whose tables nothing would delete before loading them again, so their rules would pile up at every reload. Move them to networking.nftables.tables (replaced one by one), or set networking.nftables.flushRuleset yourself: false with their deletions in networking.nftables.extraDeletions, or true to flush every table on each reload.";
        }
      ]
      ++ lib.optionals (user != null && user.uid != null) [
        {
          assertion = sameUid == [ ];
          message = "services.flashpods: the policy pins uid ${toString user.uid} for its container user ${user.name}, and users.users.${lib.concatStringsSep ", users.users." sameUid} has uid ${toString user.uid} too. The firewall matches that number (meta skuid ${toString user.uid}): it would refuse or let through the other account's traffic as if it were the containers'. Give one of them another uid (for ${user.name}: `uid N` in the policy's container profile).";
        }
        {
          assertion = config.users.users.${user.name}.uid == user.uid;
          message = "services.flashpods: users.users.${user.name}.uid is ${toString config.users.users.${user.name}.uid} in this configuration, but the policy pins ${toString user.uid} and the firewall matches that number. Set the uid in the policy, not in users.users.";
        }
      ];

      warnings =
        lib.optional weEnableNftables "services.flashpods turned on networking.nftables (nothing else in this configuration does) to load its table. That also moves networking.firewall to its nftables backend (table inet nixos-fw instead of iptables chains), blacklists the ip_tables kernel module, and leaves software that needs iptables-legacy (Docker, older libvirt) without it. See docs/nixos.md, \"Before you enable it\"; set networking.nftables.enable = true yourself to confirm and silence this warning."
        ++ lib.optional (
          wgData.interfaces != { } && cfg.wireguard.privateKeyFile == null
        ) "services.flashpods: the policy has a wireguard block (${lib.concatStringsSep ", " (lib.attrNames wgData.interfaces)}) whose peers are not deployed, because services.flashpods.wireguard.privateKeyFile is not set. Set it to the host's private key file, or configure the interface yourself from wireguard.conf in the compiled output (docs/deploying.md)."
        ++ lib.optional (nft.enable && nft.flushRuleset) "services.flashpods: networking.nftables.flushRuleset is true, so every reload of nftables.service flushes every table on the host, including other software's (podman, libvirt, docker) until they recreate them. services.flashpods needs only its own table replaced; set networking.nftables.flushRuleset = false unless you mean it."
        ++ lib.optional (user != null && user.uid != null && inDynamicRange user.uid) "services.flashpods: the policy pins uid ${toString user.uid} for ${user.name}, inside the ranges NixOS hands out to accounts declared without a uid (400-999 for system users, from 999 down; 1000-29999 for normal users). If an account made before this configuration (or by hand) already has uid ${toString user.uid}, or ${user.name} already exists with another uid, activation and the daemons' start fail and say which (nix/check-uid.sh). A uid that neither NixOS nor systemd hands out (40000-59999) avoids the question.";

      system.build.flashpodsPolicy = compiled;

      # WireGuard: the policy's peers, the operator's private key
      networking.wireguard.interfaces = lib.mkIf wgDeploy (
        builtins.mapAttrs (_: i: {
          listenPort = i.listenPort;
          privateKeyFile = cfg.wireguard.privateKeyFile;
          peers = map wgPeer i.peers;
        }) wgData.interfaces
      );

      # rsyncd: the upload module and its allowlist, as fpc wrote them. The
      # service's `on` address cannot go in the settings (rsyncd honours
      # `address` only before the first section, and the ini file NixOS
      # writes has none), so systemd listens there and hands each
      # connection to rsyncd (socket activation).
      services.rsyncd = lib.mkIf (rsData.port != null) {
        enable = true;
        port = rsData.port;
        settings = rsData.settings;
        socketActivated = rsData.address != null;
      };
      systemd.sockets.rsync.listenStreams = lib.mkIf (rsData.port != null && rsData.address != null) (
        lib.mkForce [ "${rsListen}:${toString rsData.port}" ]
      );

      # SPIRE: the registration entries, after every start of the server
      # and whenever the policy's entries change (a new store path)
      systemd.services.flashpods-spire-entries = lib.mkIf cfg.spire.register {
        description = "Flashpods SPIRE registration entries (from the policy)";
        after = [ "spire-server.service" ];
        wants = [ "spire-server.service" ];
        partOf = [ "spire-server.service" ];
        wantedBy = [ "multi-user.target" ];
        serviceConfig = {
          Type = "oneshot";
          RemainAfterExit = true;
          ExecStart = spireRegister;
        };
      };

      networking.nftables = {
        enable = lib.mkOverride enablePrio true;
        # replace our table (and every table NixOS manages) on reload;
        # never flush the tables of other software
        flushRuleset = lib.mkOverride flushPrio false;
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

      # At every activation, after the users are updated: the pinned uid
      # is the container user's, and only its.
      system.activationScripts.flashpods-uid = lib.mkIf (user.uid != null) {
        deps = [ "users" ];
        supportsDryActivation = true;
        text = checkUid [ "--if-exists" ];
      };

      systemd.tmpfiles.rules = [
        "d ${cfg.stateDir} 0750 ${user.name} ${user.group} - -"
        "d ${cfg.stateDir}/db 0700 ${user.name} ${user.group} - -"
        "d ${cfg.stateDir}/tmp 0700 ${user.name} ${user.group} - -"
        "d ${cfg.logDir} 0750 ${user.name} ${user.group} - -"
      ];

      systemd.services =
        (
          if daemons ? "fp-tokend" then
            {
              fp-tokend = ordering // {
                description = "Flashpods token service (JWT-SVID in, secrets out)";
                serviceConfig = tokendService;
              };
            }
          else
            { }
        )
        // (
          if daemons ? "fp-apid" then
            {
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
            }
          else
            { }
        );
    })
  ]);
}
