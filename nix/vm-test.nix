# SPDX-License-Identifier: GPL-2.0-or-later
# nix/vm-test.nix: a NixOS VM test of the module (flake.nix
# `packages.<system>.vm-test`; needs Nix and KVM). Two machines on one virtual LAN:
#   host    services.flashpods with the default policy, wg0 10.0.0.1/24
#   laptop  wg0 10.0.0.2/24, the only peer allowed to the API and rsync
# WireGuard keys are made at boot and exchanged by the test script, so the
# repository holds no key. Checks: our table is loaded and proves live; the
# laptop reaches /health over wg0 and not over the LAN; the flashpods user
# (rootless container egress) and other peers are refused; the token socket
# has the policy's owner and mode; units are hardened and reload on SIGHUP.
{ module }:
{
  name = "flashpods";

  nodes = {
    host = { pkgs, ... }: {
      imports = [ module ];
      services.flashpods = {
        enable = true;
        tokenService.trustBundle = "/run/flashpods-test/jwks.json";
      };
      networking.wireguard.interfaces.wg0 = {
        ips = [ "10.0.0.1/24" ];
        listenPort = 51820;
        privateKeyFile = "/etc/wg/key";
        generatePrivateKeyFile = true;
      };
      # The secrets the operator provides (test values; a real host keeps
      # them out of the store). The API token is left to the module, which
      # creates it on fp-apid's first start.
      environment.etc."flashpods/secrets.json" = {
        text = ''{"anthropic_api_key": "test-anthropic", "github_token": "test-github"}'';
        mode = "0600";
      };
      # A JWT key set for fp-tokend (SPIRE's role in production): one P-256
      # key made at boot, written as a JWKS.
      systemd.services.flashpods-test-jwks = {
        wantedBy = [ "multi-user.target" ];
        before = [ "fp-tokend.service" ];
        requiredBy = [ "fp-tokend.service" ];
        serviceConfig = { Type = "oneshot"; RemainAfterExit = true; };
        path = [ pkgs.openssl pkgs.python3 pkgs.coreutils ];
        script = ''
          mkdir -p /run/flashpods-test
          openssl ecparam -name prime256v1 -genkey -noout -out /run/flashpods-test/jwt.key
          openssl ec -in /run/flashpods-test/jwt.key -pubout -conv_form uncompressed \
            -outform DER 2>/dev/null | tail -c 65 >/run/flashpods-test/pub.raw
          python3 - <<'PY'
          import base64, json
          raw = open("/run/flashpods-test/pub.raw", "rb").read()
          b64 = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()
          key = {"kty": "EC", "crv": "P-256", "kid": "vm-test", "use": "jwt-svid",
                 "x": b64(raw[1:33]), "y": b64(raw[33:65])}
          json.dump({"keys": [key]}, open("/run/flashpods-test/jwks.json", "w"))
          PY
          chmod 0644 /run/flashpods-test/jwks.json
        '';
      };
      environment.systemPackages = [ pkgs.wireguard-tools pkgs.curl pkgs.nftables ];
    };

    laptop = { pkgs, ... }: {
      networking.wireguard.interfaces.wg0 = {
        ips = [ "10.0.0.2/24" ];
        privateKeyFile = "/etc/wg/key";
        generatePrivateKeyFile = true;
      };
      networking.firewall.enable = false;
      environment.systemPackages = [ pkgs.wireguard-tools pkgs.curl ];
    };
  };

  testScript = ''
    start_all()
    host.wait_for_unit("nftables.service")
    host.wait_for_unit("wireguard-wg0.service")
    laptop.wait_for_unit("wireguard-wg0.service")

    # our table is in the kernel, with the rules fpc emitted
    host.succeed("nft list table inet flashpods")
    host.succeed("nft list table inet flashpods | grep -q 'dport 8080'")

    # WireGuard: exchange the keys made at boot
    host_pub = host.succeed("wg show wg0 public-key").strip()
    laptop_pub = laptop.succeed("wg show wg0 public-key").strip()
    host.succeed(f"wg set wg0 peer {laptop_pub} allowed-ips 10.0.0.2/32")
    laptop.succeed(f"wg set wg0 peer {host_pub} allowed-ips 10.0.0.1/32 endpoint host:51820 persistent-keepalive 1")
    laptop.wait_until_succeeds("ping -c1 -W1 10.0.0.1")

    host.wait_for_unit("fp-tokend.service")
    host.wait_for_unit("fp-apid.service")

    # the laptop reaches the API over wg0 ...
    laptop.wait_until_succeeds("curl -sf --max-time 3 http://10.0.0.1:8080/health | grep -q healthy")
    # ... and nothing else does: not the laptop over the LAN, not the
    # flashpods user on the host (how rootless container egress arrives)
    laptop.fail("curl -sf --max-time 3 http://host:8080/health")
    host.fail("runuser -u flashpods -- curl -sf --max-time 3 http://10.0.0.1:8080/health")
    host.fail("runuser -u flashpods -- curl -sf --max-time 3 http://127.0.0.1:8080/health")

    # the token socket as the policy says; the service answers on it
    host.succeed("test \"$(stat -c '%a %U:%G' /run/flashpods/token.sock)\" = '660 flashpods:flashpods'")
    host.succeed("stat -c '%a %U:%G' /run/flashpods | grep -q '750 flashpods:flashpods'")
    out = host.succeed("runuser -u flashpods -- curl -s --unix-socket /run/flashpods/token.sock http://t/tokens")
    assert "missing_authorization" in out, out
    host.fail("runuser -u nobody -- curl -sf --unix-socket /run/flashpods/token.sock http://t/health")

    # hardening and reload
    host.succeed("systemctl show fp-tokend -p RestrictAddressFamilies | grep -q AF_UNIX")
    host.succeed("systemctl show fp-tokend -p NoNewPrivileges | grep -q yes")
    host.succeed("systemctl reload fp-tokend fp-apid")
    host.succeed("systemctl is-active fp-tokend fp-apid")

    # the API token was made on first start: 64 hex characters, 0600, the
    # daemon's user; the laptop gets it once, here by hand
    host.succeed("test \"$(stat -c '%a %U' /var/lib/flashpods/api-token)\" = '600 flashpods'")
    token = host.succeed("cat /var/lib/flashpods/api-token").strip()
    assert len(token) == 64 and all(ch in "0123456789abcdef" for ch in token), token
    laptop.succeed(f"curl -sf --max-time 3 -H 'Authorization: Bearer {token}' http://10.0.0.1:8080/jobs")
    laptop.fail("curl -sf --max-time 3 -H 'Authorization: Bearer 00' http://10.0.0.1:8080/jobs")

    # the user has the uid the policy pins; the table proves live
    host.succeed("test $(id -u flashpods) = 990")
    host.succeed("fpc verify-live /etc/flashpods/policy.fp")
  '';
}
