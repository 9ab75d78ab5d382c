#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""tests/oracle/oracle.py: the kernel as the prover's oracle.

A random policy (every construct of the language) is compiled by fpc and
loaded into a host network namespace wired to one peer namespace per
interface the generator names and to an uplink namespace (the internet: it
answers on every address). For every packet of a probe list made from the
policy's own atoms (its interfaces, prefixes, users, ports and egress
destinations, one per via clause and service and more at random) a real
connection is opened: tcp connect or a udp datagram, from a peer (arriving
on that interface, to this host or forwarded to the uplink) or from a local
process under the user's uid (to this host over lo, or out to the uplink).
The kernel's verdict on the new packet, and on the first reply when the new
one got through, is read from an observer table (priority 1000, after every
filter chain) and compared with `fpc query` on the same packet. A
disagreement prints the seed, is shrunk (rows, cells, clauses, services
removed while it persists) and saved under tests/oracle/cases/.

  oracle.py run --fpc FPC [--seed S] [--n N] [--save DIR]   a campaign
            [--classes]       a packet in every class, not --packets per policy
  oracle.py case --fpc FPC FILE...                          replay saved cases
  oracle.py worker                                          (internal)
"""
import argparse
import ipaddress
import json
import os
import random
import re
import select
import signal
import socket
import subprocess
import sys
import tempfile
import time

TAG = "prvo%d" % os.getpid()
RECV_PORTS = list(range(2000, 2013)) + [443, 8080]
SPORT_LO, SPORT_HI = 10000, 59999
CHUNK = 250				# probes sent at once (sockets held open)
KINDS = ("in", "fw", "lo", "eg")	# which probes to send (--kinds)
REPLIES = True				# check the replies too (--no-replies)
MUTATE = False				# flip a rule in the kernel's copy (--mutate)

# ---- topology -------------------------------------------------------------
# host-side interface -> (peer namespace suffix, host addresses, peer addresses)
IFACES = {
    "wg0": ("lap", ["10.0.0.1/24", "fd00::1/64"], ["10.0.0.2/24", "fd00::2/64"]),
    "podman0": ("pod", ["10.88.0.1/16", "fd88::1/64"], ["10.88.0.2/16", "fd88::2/64"]),
    "podman1": ("pd1", ["10.87.0.1/16", "fd87::1/64"], ["10.87.0.2/16", "fd87::2/64"]),
    "cni-podman0": ("cni", ["10.89.0.1/16", "fd89::1/64"], ["10.89.0.2/16", "fd89::2/64"]),
    "veth123456789ab": ("lng", ["10.90.0.1/16", "fd90::1/64"], ["10.90.0.2/16", "fd90::2/64"]),
    "lab0": ("lab", ["192.168.7.1/24", "fd07::1/64"], ["192.168.7.2/24", "fd07::2/64"]),
    "eth0": ("str", ["192.0.2.1/24", "2001:db8:1::1/64"], ["192.0.2.2/24", "2001:db8:1::2/64"]),
    "up0": ("up", ["198.18.0.1/30", "fd99::1/64"], ["198.18.0.2/30", "fd99::2/64"]),
}
UPLINK = "up0"
# addresses of local processes besides the interfaces' (on lo)
LOCAL_EXTRA = ["10.1.3.7", "fd13::7"]
LOCAL_ADDRS = ["127.0.0.1", "::1"] + LOCAL_EXTRA + \
    [a.split("/")[0] for i, (_, h, _) in IFACES.items() for a in h]


def sh(*args, check=True, inp=None):
    """Run a command; its stdout (raise on failure when check)."""
    r = subprocess.run(args, input=inp, capture_output=True, text=True)
    if check and r.returncode:
        raise RuntimeError("%s: %s" % (" ".join(args), r.stderr.strip()))
    return r.stdout


def ns(name):
    return "%s-%s" % (TAG, name)


OBSERVER = """
table inet prvobs {
	set new_in { type inet_service; flags dynamic; size 65535; }
	set new_post { type inet_service; flags dynamic; size 65535; }
	set rep_in { type inet_service; flags dynamic; size 65535; }
	set rep_post { type inet_service; flags dynamic; size 65535; }
	chain input { type filter hook input priority 1000; policy accept;
		meta l4proto { tcp, udp } ct direction original add @new_in { th sport }
		meta l4proto { tcp, udp } ct direction reply add @rep_in { th dport }
	}
	chain post { type filter hook postrouting priority 1000; policy accept;
		meta l4proto { tcp, udp } oifname != "lo" ct direction original add @new_post { th sport }
		meta l4proto { tcp, udp } oifname != "lo" ct direction reply add @rep_post { th dport }
	}
}
"""


class Topology:
    """The namespaces, listeners and one worker per namespace."""

    def __init__(self, fpc):
        self.fpc = fpc
        self.workers = {}
        self.routes = {}
        try:
            self.build()
        except BaseException:
            self.close()
            raise

    def build(self):
        h = ns("h")
        for n in ["h"] + [p for p, _, _ in IFACES.values()]:
            sh("ip", "netns", "add", ns(n))
            sh("ip", "-n", ns(n), "link", "set", "lo", "up")
            # no duplicate address detection on any address, link-local
            # ones included: while fe80:: is tentative the kernel sends no
            # neighbour solicitation for a packet whose source is not one
            # of its own addresses (a peer's spoofed source), and the
            # first probes of a batch would be lost
            for conf in ("default", "all"):
                sh("ip", "netns", "exec", ns(n), "sysctl", "-qw",
                   "net.ipv6.conf.%s.accept_dad=0" % conf)
        for k, v in [("net.ipv4.ip_forward", 1), ("net.ipv6.conf.all.forwarding", 1),
                     ("net.ipv4.conf.all.rp_filter", 0), ("net.ipv4.conf.default.rp_filter", 0)]:
            sh("ip", "netns", "exec", h, "sysctl", "-qw", "%s=%d" % (k, v))
        for a in LOCAL_EXTRA:
            sh("ip", "-n", h, "addr", "add", a + ("/128" if ":" in a else "/32"), "dev", "lo")
        for ifn, (peer, hs, ps) in IFACES.items():
            p = ns(peer)
            sh("ip", "-n", h, "link", "add", ifn, "type", "veth", "peer", "name", "eth0", "netns", p)
            for a in hs:
                sh("ip", "-n", h, "addr", "add", a, "dev", ifn, "nodad")
            for a in ps:
                sh("ip", "-n", p, "addr", "add", a, "dev", "eth0", "nodad")
            sh("ip", "-n", h, "link", "set", ifn, "up")
            sh("ip", "-n", p, "link", "set", "eth0", "up")
            sh("ip", "-n", p, "route", "add", "default", "via", hs[0].split("/")[0])
            sh("ip", "-n", p, "-6", "route", "add", "default", "via", hs[1].split("/")[0])
            sh("ip", "netns", "exec", p, "sysctl", "-qw", "net.ipv4.conf.all.rp_filter=0")
        up = ns(IFACES[UPLINK][0])
        # the host's way out, and the uplink answers on every address
        sh("ip", "-n", h, "route", "add", "default", "via", "198.18.0.2")
        sh("ip", "-n", h, "-6", "route", "add", "default", "via", "fd99::2")
        # (AnyIP: every address is local there, but for the host's own
        # prefixes, routed back; all in table local, which output route
        # lookups consult for a reply's source address)
        sh("ip", "-n", up, "route", "del", "default")
        sh("ip", "-n", up, "-6", "route", "del", "default")
        sh("ip", "-n", up, "route", "add", "198.18.0.0/30", "dev", "eth0", "table", "local")
        sh("ip", "-n", up, "-6", "route", "add", "fd99::/64", "dev", "eth0", "table", "local")
        for pfx in ["10.0.0.0/8", "192.168.0.0/16", "192.0.2.0/24"]:
            sh("ip", "-n", up, "route", "add", pfx, "via", "198.18.0.1", "table", "local")
        for pfx in ["fd00::/8", "2001:db8:1::/64"]:
            sh("ip", "-n", up, "-6", "route", "add", pfx, "via", "fd99::1", "table", "local")
        sh("ip", "-n", up, "route", "add", "local", "0.0.0.0/0", "dev", "lo", "table", "local")
        sh("ip", "-n", up, "-6", "route", "add", "local", "::/0", "dev", "lo", "table", "local")
        for p in ["h"] + [p for p, _, _ in IFACES.values()]:
            sh("ip", "netns", "exec", ns(p), "sysctl", "-qw",
               "net.ipv4.ip_local_port_range=61000 65000")
        sh("ip", "netns", "exec", h, "nft", "-f", "-", inp=OBSERVER)
        me = os.path.abspath(__file__)
        for n in ["h"] + [p for p, _, _ in IFACES.values()]:
            w = subprocess.Popen(["ip", "netns", "exec", ns(n), sys.executable, me, "worker",
                                  "--listen" if n in ("h", "up") else "--no-listen"],
                                 stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
            if w.stdout.readline().strip() != "ready":
                raise RuntimeError("worker in %s did not start" % n)
            self.workers[n] = w
        self.settle()

    def settle(self):
        """Wait (up to 5 s) until no namespace holds a tentative address."""
        for _ in range(100):
            if not any(sh("ip", "-n", ns(n), "-6", "addr", "show", "tentative").strip()
                       for n in ["h"] + [p for p, _, _ in IFACES.values()]):
                return
            time.sleep(0.05)
        raise RuntimeError("addresses still tentative after 5 s")

    def close(self):
        for w in self.workers.values():
            try:
                w.stdin.close()
                w.wait(timeout=2)
            except Exception:
                w.kill()
        for n in ["h"] + [p for p, _, _ in IFACES.values()]:
            pids = sh("ip", "netns", "pids", ns(n), check=False).split()
            for pid in pids:
                try:
                    os.kill(int(pid), 9)
                except OSError:
                    pass
            sh("ip", "netns", "del", ns(n), check=False)

    def route_if(self, addr):
        """The host's output interface towards addr."""
        if addr not in self.routes:
            out = sh("ip", "-n", ns("h"), "route", "get", addr)
            m = re.search(r"\bdev (\S+)", out)
            self.routes[addr] = m.group(1) if m else UPLINK
        return self.routes[addr]

    def load(self, nft_text):
        """Replace every table but the observer's with nft_text; error text or None."""
        h = ns("h")
        tables = sh("ip", "netns", "exec", h, "nft", "list", "tables").split("\n")
        for t in tables:
            f = t.split()
            if len(f) == 3 and f[2] != "prvobs":
                sh("ip", "netns", "exec", h, "nft", "delete", "table", f[1], f[2], check=False)
        r = subprocess.run(["ip", "netns", "exec", h, "nft", "-f", "-"], input=nft_text,
                           capture_output=True, text=True)
        return r.stderr.strip() if r.returncode else None

    def observed(self):
        """The observer's sets: name -> set of ports."""
        out = sh("ip", "netns", "exec", ns("h"), "nft", "-j", "list", "table", "inet", "prvobs")
        res = {}
        for o in json.loads(out)["nftables"]:
            s = o.get("set")
            if s:
                res[s["name"]] = set(e if isinstance(e, int) else e.get("elem", {}).get("val", -1)
                                     for e in s.get("elem", []))
        return res

    def flush_observer(self):
        sh("ip", "netns", "exec", ns("h"), "nft", "-f", "-", inp="".join(
            "flush set inet prvobs %s\n" % s for s in ("new_in", "new_post", "rep_in", "rep_post")))

    def send(self, probes):
        """Send every probe from its namespace, all at once; wait for quiet."""
        by_ns = {}
        for p in probes:
            by_ns.setdefault(p.ns, []).append(p.job())
        for n, jobs in by_ns.items():
            w = self.workers[n]
            w.stdin.write(json.dumps(jobs) + "\n")
            w.stdin.flush()
        for n in by_ns:
            line = self.workers[n].stdout.readline()
            if not line.startswith("sent"):
                raise RuntimeError("worker %s: %r" % (n, line))
        prev, stable = None, 0
        for _ in range(40):
            time.sleep(0.04)
            cur = self.observed()
            stable = stable + 1 if cur == prev else 0
            prev = cur
            if stable >= 2:
                break
        for n in by_ns:
            self.workers[n].stdin.write("close\n")
            self.workers[n].stdin.flush()
        for n in by_ns:
            self.workers[n].stdout.readline()
        return prev


# ---- the worker: sockets in one namespace ----------------------------------

def worker(listen):
    """Listeners (tcp accept, udp echo) and senders, driven over stdin."""
    lsocks = []
    if listen:
        for port in RECV_PORTS:
            t = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
            t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            t.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
            t.bind(("::", port))
            t.listen(1024)
            t.setblocking(False)
            u = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
            u.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
            u.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_RECVPKTINFO, 1)
            # answer from any address it was asked on (the uplink's AnyIP)
            u.setsockopt(socket.IPPROTO_IPV6, IPV6_TRANSPARENT, 1)
            u.setsockopt(socket.SOL_IP, IP_TRANSPARENT, 1)
            u.bind(("::", port))
            u.setblocking(False)
            lsocks += [t, u]
    print("ready", flush=True)
    open_socks = []
    pending = ""
    while True:
        r, _, _ = select.select([sys.stdin] + lsocks, [], [], 1.0)
        for s in r:
            if s is sys.stdin:
                line = sys.stdin.readline()
                if not line:
                    return
                if line.strip() == "close":
                    for c in open_socks:
                        c.close()
                    open_socks = []
                    print("closed", flush=True)
                else:
                    open_socks = send_jobs(json.loads(line))
                    print("sent", flush=True)
            elif s.type == socket.SOCK_STREAM:
                try:
                    c, _ = s.accept()
                    c.close()
                except OSError:
                    pass
            else:
                try:
                    data, anc, _, peer = s.recvmsg(2048, 256)
                    info = [a for a in anc if a[0] == socket.IPPROTO_IPV6 and
                            a[1] == socket.IPV6_PKTINFO]
                    s.sendmsg([data], [(socket.IPPROTO_IPV6, socket.IPV6_PKTINFO,
                                        info[0][2][:16] + b"\0\0\0\0")] if info else [], 0, peer)
                except OSError:
                    pass


IP_FREEBIND, IPV6_FREEBIND = 15, 78
IP_TRANSPARENT, IPV6_TRANSPARENT = 19, 75


def send_jobs(jobs):
    """Open every job's socket (grouped by uid, each group in a child that
    takes the uid); return sockets that must stay open until 'close'."""
    by_uid = {}
    for j in jobs:
        by_uid.setdefault(j["uid"], []).append(j)
    held = []
    for uid, js in by_uid.items():
        if uid is None:
            held += open_jobs(js)
            continue
        rfd, wfd = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(rfd)
            try:
                os.setgroups([])
                os.setresgid(uid, uid, uid)
                os.setresuid(uid, uid, uid)
                socks = open_jobs(js)
                os.write(wfd, b"s")
                # stay alive until the parent closes (read end of stdin is shared)
                select.select([sys.stdin], [], [], 5.0)
                for s in socks:
                    s.close()
            finally:
                os._exit(0)
        os.close(wfd)
        os.read(rfd, 1)
        os.close(rfd)
        held.append(("child", pid))
    return [Held(h) for h in held]


class Held:
    """A socket or a child holding sockets."""

    def __init__(self, h):
        self.h = h

    def close(self):
        if isinstance(self.h, tuple):
            try:
                os.kill(self.h[1], 9)
                os.waitpid(self.h[1], 0)
            except OSError:
                pass
        else:
            self.h.close()


def open_jobs(js):
    socks = []
    for j in js:
        v6 = ":" in j["daddr"]
        fam = socket.AF_INET6 if v6 else socket.AF_INET
        typ = socket.SOCK_STREAM if j["proto"] == "tcp" else socket.SOCK_DGRAM
        s = socket.socket(fam, typ)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # a peer sends from any address (transparent needs root: peers are)
        lvl = socket.IPPROTO_IPV6 if v6 else socket.SOL_IP
        s.setsockopt(lvl, IPV6_FREEBIND if v6 else IP_FREEBIND, 1)
        if os.geteuid() == 0:
            s.setsockopt(lvl, IPV6_TRANSPARENT if v6 else IP_TRANSPARENT, 1)
        s.setblocking(False)
        try:
            s.bind((j["saddr"], j["sport"]))
            if typ == socket.SOCK_STREAM:
                s.connect_ex((j["daddr"], j["dport"]))
            else:
                s.sendto(b"oracle", (j["daddr"], j["dport"]))
        except OSError:
            pass  # EPERM from an output drop, ECONNREFUSED: the packet is blocked
        socks.append(s)
    return socks


# ---- policies -------------------------------------------------------------

IF_NAMES = list(IFACES) + ["lo", "br-jobs"]
IF_PATTERNS = ["podman*", "cni-*", "veth*", "wg*", "lab*", "e*", "up*", "veth123456789a*", "p*", "l*"]
SRC_PREFIXES = ["10.0.0.2", "10.0.0.0/24", "10.0.0.3", "10.88.0.0/16", "10.88.0.2",
                "10.87.0.0/16", "10.89.0.2", "10.90.0.0/16", "192.168.7.0/24", "192.0.2.2",
                "198.51.100.0/24", "10.1.3.7", "127.0.0.1", "10.0.0.0/8",
                "fd00::2", "fd00::/64", "fd88::/64", "fd87::2", "fd07::/64", "2001:db8:1::2",
                "fd13::7", "::1", "2001:db8:99::/48"]
DST_PREFIXES = ["198.51.100.0/24", "198.51.100.3", "203.0.113.0/24", "140.82.112.0/20",
                "8.8.8.0/24", "2001:db8:99::/48", "2001:db8:99::5", "2001:db8:aa::/64"]
DST_OUTSIDE = ["203.0.114.9", "9.9.9.9", "2001:db8:bb::9"]
USERS = ["root", "nobody", "daemon", "flashpods", "list", "bin", "games"]
TABLES = ["flashpods", "prvt", "fw"]
KEYWORD_TABLES = ["accept", "list", "counter"]
PORTS = list(range(2000, 2011)) + [443, 8080]


def rand_ports(r):
    a = r.choice(PORTS)
    if 2000 <= a < 2010 and r.random() < 0.3:
        return (a, min(2010, a + r.randint(1, 3)))
    return (a, a)


class Policy:
    """A policy as data (rows in order, the catch-all last)."""

    def __init__(self):
        self.table = "prvt"
        self.sources = []    # [name, [via...]]; via: ("net", ifs, addrs) | ("user", u) | ("any",)
        self.services = []   # dicts: name, kind, ports, on, to, proto
        self.cells = {}      # (src, svc) -> "allow" | "deny" | "-"

    def copy(self):
        p = Policy()
        p.table = self.table
        p.sources = [[n, list(v)] for n, v in self.sources]
        p.services = [dict(s) for s in self.services]
        p.cells = dict(self.cells)
        return p

    def text(self):
        out = ["# generated by tests/oracle/oracle.py", "policy oracle {",
               "    table inet %s;" % self.table, "}"]
        for n, vias in self.sources:
            parts = []
            for v in vias:
                if v[0] == "any":
                    parts.append("via any;")
                elif v[0] == "user":
                    parts.append("via user %s;" % v[1])
                else:
                    s = "via"
                    if v[1]:
                        s += " " + ", ".join('"%s"' % i for i in v[1])
                    if v[2]:
                        s += " from " + ", ".join(v[2])
                    parts.append(s + ";")
            out.append("source %s { %s }" % (n, " ".join(parts)))
        for s in self.services:
            if s["kind"] in ("tcp", "udp"):
                t = "service %s %s %s" % (s["name"], s["kind"], port_text(s["ports"]))
                if s.get("on"):
                    t += " on " + s["on"]
            elif s["kind"] == "unix":
                t = 'service %s unix "/run/oracle/%s.sock" owner root:root mode 0660' % (
                    s["name"], s["name"])
            else:
                t = "service %s egress" % s["name"]
                if s.get("proto"):
                    t += " %s %s" % (s["proto"], port_text(s["ports"]))
                if s.get("to"):
                    t += " to " + ", ".join(s["to"])
            out.append(t + ";")
        out.append("trust {")
        out.append("    x " + " ".join(s["name"] for s in self.services))
        for n, _ in self.sources:
            out.append("    %s %s" % (n, " ".join(self.cells[(n, s["name"])] for s in self.services)))
        out.append("}")
        return "\n".join(out).replace("    x ", "      ", 1) + "\n"


def port_text(p):
    return "%d" % p[0] if p[0] == p[1] else "%d-%d" % p


def overlapping(prefixes):
    nets = [ipaddress.ip_network(a, strict=False) for a in prefixes]
    for i in range(len(nets)):
        for j in range(i + 1, len(nets)):
            if nets[i].version == nets[j].version and nets[i].overlaps(nets[j]):
                return True
    return False


def generate(r, egress_ports=True, shapes19=True):
    """A random policy using every construct."""
    p = Policy()
    p.table = r.choice(TABLES + (KEYWORD_TABLES if shapes19 and r.random() < 0.05 else []))
    for i in range(r.randint(1, 4)):
        vias = []
        for _ in range(r.randint(1, 2)):
            k = r.random()
            if k < 0.25:
                vias.append(("user", r.choice(USERS if shapes19 else USERS[:4])))
            else:
                ifs = []
                if r.random() < 0.75:
                    ifs = sorted(set(r.choice(IF_NAMES + IF_PATTERNS) for _ in range(r.randint(1, 2))))
                    if shapes19 and r.random() < 0.02:
                        ifs = ["veth123456789ab*"]  # one byte too long (issue 19)
                addrs = []
                if not ifs or r.random() < 0.4:
                    for _ in range(r.randint(1, 3)):
                        a = r.choice(SRC_PREFIXES)
                        if not overlapping(addrs + [a]):
                            addrs.append(a)
                    addrs.sort()
                vias.append(("net", ifs, addrs))
        p.sources.append(["s%d" % i, vias])
    p.sources.append(["anyone", [("any",)]])
    n_net = r.randint(1, 3)
    for i in range(n_net):
        kind = r.choice(["tcp", "udp"])
        s = {"name": "n%d" % i, "kind": kind, "ports": rand_ports(r)}
        if r.random() < 0.2:
            s["on"] = r.choice(["10.0.0.1", "10.88.0.1", "fd00::1", "127.0.0.1"])
        p.services.append(s)
    for i in range(r.randint(0, 3)):
        s = {"name": "e%d" % i, "kind": "egress"}
        if r.random() < 0.6:
            to = sorted(set(r.choice(DST_PREFIXES) for _ in range(r.randint(1, 2))))
            if not overlapping(to):
                s["to"] = to
        if egress_ports and r.random() < 0.5:
            s["proto"] = r.choice(["tcp", "udp"])
            s["ports"] = rand_ports(r)
        p.services.append(s)
    if r.random() < 0.2:
        p.services.append({"name": "u0", "kind": "unix"})
    shape = r.random() if shapes19 else 1.0
    for n, vias in p.sources:
        user = any(v[0] == "user" for v in vias)
        for s in p.services:
            if n == "anyone" and s["kind"] in ("tcp", "udp"):
                c = r.choice(["allow", "deny"])
            elif user and s["kind"] in ("tcp", "udp"):
                # (a user row's allow the catch-all denies is refused)
                c = r.choice(["allow", "deny", "deny", "-", "-"])
            else:
                c = r.choice(["allow", "deny", "-"])
            p.cells[(n, s["name"])] = c
    if shape < 0.05:
        emitter_shape_ports(p, r)
    elif shape < 0.10:
        emitter_shape_user(p, r)
    return p


def emitter_shape_ports(p, r):
    """Issue 19's first "emitter bug" shape: two services on the same port,
    a row with `-` for one and deny for the other, the catch-all allowing
    both."""
    proto, port = r.choice(["tcp", "udp"]), r.choice(PORTS[:10])
    p.services[:0] = [{"name": "a", "kind": proto, "ports": (port, port)},
                      {"name": "b", "kind": proto, "ports": (port, port)}]
    first = p.sources[0][0]
    for n, _ in p.sources:
        p.cells[(n, "a")] = "allow" if n == "anyone" else r.choice(["-", "deny"])
        p.cells[(n, "b")] = "allow" if n == "anyone" else r.choice(["-", "deny"])
    p.cells[(first, "a")], p.cells[(first, "b")] = "-", "deny"


def emitter_shape_user(p, r):
    """Issue 19's second shape: a `via user` row allowing a port above a
    lower row that covers lo (`via from` a local address) denying it, the
    catch-all allowing it."""
    port = r.choice(PORTS[:10])
    p.services.insert(0, {"name": "t", "kind": "tcp", "ports": (port, port)})
    p.sources[0:0] = [["u", [("user", r.choice(USERS[:4]))]],
                      ["h", [("net", [], ["10.1.3.7"])]]]
    for n, _ in p.sources:
        for sv in p.services:
            if (n, sv["name"]) not in p.cells:
                p.cells[(n, sv["name"])] = "-" if sv["kind"] not in ("tcp", "udp") or n != "anyone" \
                    else "allow"
        p.cells[(n, "t")] = {"u": "allow", "h": "deny", "anyone": "allow"}.get(n, "-")


# ---- probes ---------------------------------------------------------------

class Probe:
    """One new connection: kind in (in, fw, lo, eg)."""

    def __init__(self, kind, ns_, iif, uid, user, proto, saddr, daddr, dport):
        self.kind, self.ns, self.iif, self.uid, self.user = kind, ns_, iif, uid, user
        self.proto, self.saddr, self.daddr, self.dport = proto, saddr, daddr, dport
        self.sport = 0

    def job(self):
        return {"uid": self.uid, "proto": self.proto, "saddr": self.saddr,
                "sport": self.sport, "daddr": self.daddr, "dport": self.dport}

    def text(self):
        return "%s %s %s %s %s %s %d" % (self.kind, self.iif or "-", self.user or "-",
                                         self.proto, self.saddr, self.daddr, self.dport)

    @staticmethod
    def parse(line):
        k, iif, user, proto, sa, da, dp = line.split()
        iif = None if iif == "-" else iif
        user = None if user == "-" else user
        return make_probe(k, iif, user, proto, sa, da, int(dp))


def uid_of(user):
    import pwd
    return pwd.getpwnam(user).pw_uid


def make_probe(kind, iif, user, proto, saddr, daddr, dport):
    if kind in ("in", "fw"):
        return Probe(kind, IFACES[iif][0], iif, None, None, proto, saddr, daddr, dport)
    return Probe(kind, "h", None, uid_of(user) if user and user != "root" else None,
                 user or "root", proto, saddr, daddr, dport)


def host_addrs(v6, net=False):
    """This host's addresses (net: those a packet from the network may
    be sent to; the kernel drops loopback ones as martians)."""
    return [a for a in LOCAL_ADDRS if (":" in a) == v6 and
            not (net and a in ("127.0.0.1", "::1"))]


def addr_in(pfx, v6, r):
    """An address inside prefix pfx (a random one of its first few)."""
    n = ipaddress.ip_network(pfx, strict=False)
    if (n.version == 6) != v6:
        return None
    if n.num_addresses == 1:
        return str(n.network_address)
    return str(n.network_address + r.choice([1, 2, 3, 5, n.num_addresses - 2]))


HOST_SIDE = [ipaddress.ip_network(n) for n in
             ("10.0.0.0/8", "192.168.0.0/16", "192.0.2.0/24", "fd00::/8", "2001:db8:1::/64")]


UPLINK_NETS = [ipaddress.ip_network(a, strict=False) for a in IFACES[UPLINK][1]]


def behind_host(addr):
    """Is addr on the host's side of the uplink (its replies come back)? Not
    the uplink's own subnet: the uplink keeps what is sent there."""
    a = ipaddress.ip_address(addr)
    return any(a.version == n.version and a in n for n in HOST_SIDE) and \
        not any(a.version == n.version and a in n for n in UPLINK_NETS)


def if_matching(pat, r):
    cands = [i for i in IFACES if i == pat or (pat.endswith("*") and i.startswith(pat[:-1]))]
    return r.choice(cands) if cands else None


def peer_addr(iif, v6):
    return [a.split("/")[0] for a in IFACES[iif][2] if (":" in a) == v6][0]


def probes_for(p, r, limit):
    """Probes from the policy's atoms: one per via clause and service, then random."""
    out = []
    svcs = [s for s in p.services if s["kind"] != "unix"]

    def port_of(s):
        if s.get("ports"):
            lo, hi = s["ports"]
            return r.choice([lo, hi])
        return r.choice(PORTS + [2011, 2012])

    def one(via, s):
        v6 = r.random() < 0.4
        proto = s["kind"] if s["kind"] in ("tcp", "udp") else s.get("proto") or r.choice(["tcp", "udp"])
        dport = port_of(s)
        if s["kind"] == "egress":
            pool = s.get("to") or DST_PREFIXES
            cands = [a for a in (addr_in(x, v6, r) for x in pool) if a]
            if not cands:
                v6 = not v6
                cands = [a for a in (addr_in(x, v6, r) for x in pool) if a]
            daddr = r.choice(cands + ([r.choice(DST_OUTSIDE)] if r.random() < 0.2 else []))
            v6 = ":" in daddr
        else:
            daddr = s.get("on") or r.choice(host_addrs(v6))
            v6 = ":" in daddr
        net_dst = daddr not in ("127.0.0.1", "::1")
        if via[0] == "user":
            kind = "eg" if s["kind"] == "egress" else "lo"
            saddr = r.choice(host_addrs(v6, kind == "eg"))
            if kind == "lo" and daddr not in host_addrs(v6):
                return None
            return make_probe(kind, None, via[1], proto, saddr, daddr, dport)
        if via[0] == "any":
            iif = r.choice(list(IFACES) + ["lo"])
        else:
            iif = None
            for pat in r.sample(via[1], len(via[1])):
                iif = "lo" if pat == "lo" else if_matching(pat, r)
                if iif:
                    break
            if not via[1]:
                iif = r.choice(list(IFACES) + ["lo"])
            if not iif:
                return None
        if via[0] == "net" and via[2]:
            cands = [a for a in (addr_in(x, v6, r) for x in via[2]) if a]
            if not cands:
                return None
            saddr = r.choice(cands)
        else:
            saddr = None
        if iif == "lo":
            if saddr and saddr not in host_addrs(v6):
                return None
            saddr = saddr or r.choice(host_addrs(v6))
            if s["kind"] == "egress":
                # a local process's connection out, from a host address
                return make_probe("eg", None, r.choice(USERS[:4]), proto, saddr, daddr, dport) \
                    if saddr in host_addrs(v6, True) else None
            if daddr not in host_addrs(v6):
                return None
            return make_probe("lo", None, r.choice(USERS[:4]), proto, saddr, daddr, dport)
        saddr = saddr or peer_addr(iif, v6)
        if saddr in LOCAL_ADDRS:
            return None  # the kernel drops a local source from the network (martian)
        if s["kind"] == "egress":
            if iif == UPLINK or not behind_host(saddr):
                return None  # (the uplink would keep the reply: it owns that address)
            return make_probe("fw", iif, None, proto, saddr, daddr, dport)
        if not net_dst:
            return None
        return make_probe("in", iif, None, proto, saddr, daddr, dport)

    for n, vias in p.sources:
        for via in vias:
            for s in svcs:
                pr = one(via, s)
                if pr:
                    out.append(pr)
    tries = 0
    while len(out) < limit and tries < limit * 4 and svcs:
        tries += 1
        n, vias = r.choice(p.sources)
        pr = one(r.choice(vias), r.choice(svcs))
        if pr:
            out.append(pr)
    # an unrelated port and destination now and then
    for _ in range(2):
        v6 = r.random() < 0.4
        iif = r.choice([i for i in IFACES if i != UPLINK])
        out.append(make_probe("in", iif, None, r.choice(["tcp", "udp"]), peer_addr(iif, v6),
                              r.choice(host_addrs(v6, True)), r.choice([2011, 2012, 443])))
    out = [pr for pr in out if pr.kind in KINDS]
    r.shuffle(out)
    seen, uniq = set(), []
    for pr in out:
        if pr.text() not in seen:
            seen.add(pr.text())
            uniq.append(pr)
    return uniq[:limit]


def reps(r, cands, sig):
    """One value of cands for each distinct sig(value), picked at random:
    values with the same signature fall in the same classes."""
    groups = {}
    for c in cands:
        groups.setdefault(sig(c), []).append(c)
    return [r.choice(groups[k]) for k in sorted(groups, key=repr)]


def in_prefix(a, pfx):
    n = ipaddress.ip_network(pfx, strict=False)
    x = ipaddress.ip_address(a)
    return x.version == n.version and x in n


def class_probes(p, r):
    """A packet in every class of the prover's partition that this topology
    can send: per dimension, one value for each set of policy atoms it
    belongs to (interfaces by the patterns they match, addresses by the
    prefixes holding them, ports by the services' ranges, users by name),
    then every combination, for each path (in, fw, lo, eg) and family."""
    pats = sorted({i for _, vias in p.sources for v in vias if v[0] == "net" for i in v[1]})
    src_pfx = sorted({a for _, vias in p.sources for v in vias if v[0] == "net" for a in v[2]})
    dst_pfx = sorted({d for s in p.services for d in s.get("to", [])})
    on = sorted({s["on"] for s in p.services if s.get("on")})
    ranges = sorted({s["ports"] for s in p.services if s.get("ports")})
    users = sorted({v[1] for _, vias in p.sources for v in vias if v[0] == "user"})

    def if_sig(i):
        return tuple(x == i or (x.endswith("*") and i.startswith(x[:-1])) for x in pats)

    def src_sig(a):
        return tuple(in_prefix(a, x) for x in src_pfx) + (behind_host(a), a in LOCAL_ADDRS)

    def dst_sig(a):
        return tuple(in_prefix(a, x) for x in dst_pfx + on) + (a in ("127.0.0.1", "::1"),)

    def addrs_in(pool, v6):
        out = []
        for x in pool:
            n = ipaddress.ip_network(x, strict=False)
            if (n.version == 6) == v6:
                # (not a prefix's first address: for IPv6 the subnet-router
                # anycast address, which a forwarding host answers itself)
                out += [str(n.network_address + k) for k in
                        ((0,) if n.num_addresses == 1 else (1, 2))]
                if n.num_addresses > 4:
                    out.append(str(n.network_address + n.num_addresses - 2))
        return out

    ifaces = reps(r, list(IFACES), if_sig)
    ports = reps(r, PORTS + [2011, 2012], lambda d: tuple(lo <= d <= hi for lo, hi in ranges))
    owners = reps(r, USERS, lambda u: u if u in users else "")
    out = []
    for v6 in (False, True):
        peers = [peer_addr(i, v6) for i in IFACES]
        srcs = reps(r, sorted(set(addrs_in(src_pfx, v6) + peers +
                                  [x for x in SRC_PREFIXES if "/" not in x and (":" in x) == v6])),
                    src_sig)
        here = reps(r, host_addrs(v6), dst_sig)
        away = reps(r, sorted(set(addrs_in(dst_pfx + DST_PREFIXES, v6) +
                                  [x for x in DST_OUTSIDE if (":" in x) == v6])), dst_sig)
        local_src = reps(r, host_addrs(v6), src_sig)
        for proto in ("tcp", "udp"):
            for d in ports:
                for i in ifaces:
                    for sa in srcs:
                        if sa in LOCAL_ADDRS:
                            continue
                        for da in here:
                            if da not in ("127.0.0.1", "::1"):
                                out.append(make_probe("in", i, None, proto, sa, da, d))
                        if i == UPLINK or not behind_host(sa):
                            continue
                        for da in away:
                            out.append(make_probe("fw", i, None, proto, sa, da, d))
                for u in owners:
                    for sa in local_src:
                        for da in here:
                            out.append(make_probe("lo", None, u, proto, sa, da, d))
                        if sa not in host_addrs(v6, True):
                            continue
                        for da in away:
                            out.append(make_probe("eg", None, u, proto, sa, da, d))
    return [pr for pr in out if pr.kind in KINDS]


# ---- fpc ------------------------------------------------------------------

def query_args(pr, reply, topo):
    """`fpc query` options for pr's new packet or its reply."""
    a = ["--proto", pr.proto]
    if not reply:
        a += ["--saddr", pr.saddr, "--daddr", pr.daddr, "--sport", str(pr.sport),
              "--dport", str(pr.dport), "--ct", "new"]
        if pr.kind == "in":
            a += ["--iif", pr.iif]
        elif pr.kind == "fw":
            a += ["--iif", pr.iif, "--oif", topo.route_if(pr.daddr)]
        else:
            a += ["--uid", str(pr.uid or 0), "--oif",
                  "lo" if pr.kind == "lo" else topo.route_if(pr.daddr)]
    else:
        a += ["--saddr", pr.daddr, "--daddr", pr.saddr, "--sport", str(pr.dport),
              "--dport", str(pr.sport), "--ct", "established"]
        if pr.kind == "in":
            # the host answers: a tcp handshake reply has no full socket
            a += ["--uid", "none" if pr.proto == "tcp" else "0", "--oif", topo.route_if(pr.saddr)]
        elif pr.kind == "fw":
            a += ["--iif", topo.route_if(pr.daddr), "--oif", topo.route_if(pr.saddr)]
        elif pr.kind == "lo":
            a += ["--uid", "none" if pr.proto == "tcp" else "0", "--oif", "lo"]
        else:
            a += ["--iif", topo.route_if(pr.daddr)]
    return a


def fpc_verdicts(fpc, polfile, probes, topo, work):
    """fpc's verdicts (True accept) on each probe's new packet and reply,
    from one `fpc query --batch`."""
    lines = []
    for pr in probes:
        lines.append(" ".join(query_args(pr, False, topo)))
        lines.append(" ".join(query_args(pr, True, topo)))
    lst = os.path.join(work, "queries")
    with open(lst, "w") as f:
        f.write("\n".join(lines) + "\n")
    r = subprocess.run([fpc, "query"] + polfile.split() + ["--batch", lst],
                       capture_output=True, text=True)
    out = r.stdout.split()
    if r.returncode or len(out) != len(lines) or any(v not in ("accept", "drop") for v in out):
        raise RuntimeError("fpc query --batch failed (%d): %s" % (r.returncode, r.stderr[:400]))
    return [(out[2 * i] == "accept", out[2 * i + 1] == "accept") for i in range(len(probes))]


def view_disagreements(fpc, polfile, probes, topo, limit=24):
    """The probes (at most limit, new packets) whose `fpc query` trust-table
    line names a cell the verdict contradicts (allow but not accepted, deny
    but accepted): the line is read from the table, the verdict from the
    ruleset, and a proved table makes them agree."""
    bad = []
    for pr in probes[:limit]:
        r = subprocess.run([fpc, "query", polfile] + query_args(pr, False, topo),
                           capture_output=True, text=True)
        m = re.search(r"^trust table: \S+ (allow|deny) \S+ \(", r.stdout, re.M)
        v = re.search(r"^verdict: (accept|drop|reject)\b(?! or)", r.stdout, re.M)
        if r.returncode or not m or not v:
            continue
        if (m.group(1) == "allow") != (v.group(1) == "accept"):
            bad.append((pr, "view", m.group(1) == "allow", v.group(1) == "accept"))
    return bad


def fpc_compile(fpc, polfile, outdir):
    """(ok, nft text or the diagnostics)."""
    r = subprocess.run([fpc, polfile, "-o", outdir], capture_output=True, text=True)
    if r.returncode:
        return False, r.stdout + r.stderr
    with open(os.path.join(outdir, "flashpods.nft")) as f:
        return True, f.read()


class Stats:
    def __init__(self):
        self.policies = self.refused = self.emitter_bug = self.load_fail = 0
        self.packets = self.disagree = 0
        self.sport = SPORT_LO


def next_sport(st):
    st.sport = st.sport + 1 if st.sport < SPORT_HI else SPORT_LO
    return st.sport


def mutate(nft):
    """The ruleset with its first trust-cell rule's verdict flipped (accept
    and drop), as a buggy emitter would write it: --mutate checks that the
    oracle sees the difference."""
    out = []
    done = False
    for line in nft.split("\n"):
        if not done and 'comment "' in line and "ct state" not in line:
            for a, b in ((" accept comment", " drop comment"), (" drop comment", " accept comment")):
                if a in line:
                    line = line.replace(a, b, 1)
                    done = True
                    break
        out.append(line)
    return "\n".join(out)


def check_policy(topo, fpc, p, probes, st, work, quiet=False):
    """Compile p, load it, send probes; the list of disagreements
    (probe, 'new'|'reply', kernel, fpc) or None when fpc refused it / load failed."""
    polfile = os.path.join(work, "p.fp")
    with open(polfile, "w") as f:
        f.write(p.text())
    ok, res = fpc_compile(fpc, polfile, os.path.join(work, "out"))
    if not ok:
        if "emitter bug" in res:
            st.emitter_bug += 1
            if not quiet:
                print("emitter bug refusal:\n" + p.text() + res)
        st.refused += 1
        return None
    if MUTATE:
        res = mutate(res)
    err = topo.load(res)
    if err:
        st.load_fail += 1
        if not quiet:
            print("load failure: %s\n%s" % (err, p.text()))
        return None
    bad = []
    for k in range(0, len(probes), CHUNK):
        chunk = probes[k:k + CHUNK]
        topo.flush_observer()
        for pr in chunk:
            pr.sport = next_sport(st)
        obs = topo.send(chunk)
        bad += compare(fpc, polfile, chunk, obs, topo, st, work)
    return bad + view_disagreements(fpc, polfile, probes, topo)


def compare(fpc, polfile, probes, obs, topo, st, work):
    """The disagreements (probe, 'new'|'reply', kernel, fpc) between what the
    observer saw and fpc's verdicts; counts packets compared in st."""
    bad = []
    for pr, (f_new, f_rep) in zip(probes, fpc_verdicts(fpc, polfile, probes, topo, work)):
        new_set = "new_in" if pr.kind in ("in", "lo") else "new_post"
        rep_set = "rep_post" if pr.kind in ("in", "fw") else "rep_in"
        k_new = pr.sport in obs.get(new_set, ())
        st.packets += 1
        if k_new != f_new:
            bad.append((pr, "new", k_new, f_new))
            continue
        if not k_new or not REPLIES:
            continue
        k_rep = pr.sport in obs.get(rep_set, ())
        st.packets += 1
        if k_rep != f_rep:
            bad.append((pr, "reply", k_rep, f_rep))
    return bad


# ---- shrinking ------------------------------------------------------------

def shrink_steps(p):
    """Smaller variants of p, one edit each."""
    for i in range(len(p.sources) - 1):
        q = p.copy()
        n = q.sources.pop(i)[0]
        for s in q.services:
            del q.cells[(n, s["name"])]
        yield q
    for i, s in enumerate(p.services):
        q = p.copy()
        del q.services[i]
        for n, _ in q.sources:
            del q.cells[(n, s["name"])]
        if q.services:
            yield q
    for (n, sv), c in p.cells.items():
        if c != "-" and n != "anyone":
            q = p.copy()
            q.cells[(n, sv)] = "-"
            yield q
    for i, (n, vias) in enumerate(p.sources):
        for j, v in enumerate(vias):
            if len(vias) > 1:
                q = p.copy()
                del q.sources[i][1][j]
                yield q
            if v[0] == "net":
                for k in range(len(v[1])):
                    if len(v[1]) > 1 or v[2]:
                        q = p.copy()
                        q.sources[i][1][j] = ("net", v[1][:k] + v[1][k + 1:], v[2])
                        yield q
                for k in range(len(v[2])):
                    if len(v[2]) > 1 or v[1]:
                        q = p.copy()
                        q.sources[i][1][j] = ("net", v[1], v[2][:k] + v[2][k + 1:])
                        yield q
    for i, s in enumerate(p.services):
        for key in ("on", "to", "proto"):
            if s.get(key):
                q = p.copy()
                del q.services[i][key]
                if key == "proto":
                    q.services[i].pop("ports", None)
                yield q


def shrink(topo, fpc, p, probe, st, work):
    """The smallest variant of p on which probe still disagrees."""
    cur = p
    changed = True
    while changed:
        changed = False
        for q in shrink_steps(cur):
            pr = Probe.parse(probe.text())
            bad = check_policy(topo, fpc, q, [pr], st, work, quiet=True)
            if bad:
                cur = q
                changed = True
                break
    return cur


def save_case(dirn, p, bad, seed):
    os.makedirs(dirn, exist_ok=True)
    name = os.path.join(dirn, "seed%s.fp" % seed)
    with open(name, "w") as f:
        f.write("# SPDX-License-Identifier: GPL-2.0-or-later\n")
        f.write("# oracle case (seed %s): kernel and fpc disagreed on these packets\n" % seed)
        for pr, what, k, fv in bad:
            f.write("# probe: %s\n" % pr.text())
        f.write(p.text())
    return name


def read_case(path):
    """A saved case or reproducer: its probes and directives.

    # probe: KIND IIF USER PROTO SADDR DADDR DPORT [=> new V[, reply V]]
        a packet; with `=>`, fpc's verdict must also be V (accept, drop)
    # ruleset: FILE|empty   load FILE (beside the case) or nothing instead
        of what fpc compiles; fpc then reads the kernel's listing
    # check: STATUS         `fpc check CASE` exits STATUS ...
    # verify: STATUS        `fpc verify CASE --ruleset LISTING` exits STATUS ...
    # expect: REGEX         ... and its output has a line matching REGEX
    """
    case = {"probes": [], "want": [], "ruleset": None, "check": None,
            "verify": None, "expect": []}
    with open(path) as f:
        for line in f.read().splitlines():
            if line.startswith("# probe: "):
                body, _, want = line[len("# probe: "):].partition("=>")
                case["probes"].append(Probe.parse(body))
                w = {}
                for part in want.split(","):
                    if part.strip():
                        k, v = part.split()
                        w[k] = v == "accept"
                case["want"].append(w)
            elif line.startswith("# ruleset: "):
                case["ruleset"] = line[len("# ruleset: "):].strip()
            elif line.startswith("# check: "):
                case["check"] = int(line[len("# check: "):])
            elif line.startswith("# verify: "):
                case["verify"] = int(line[len("# verify: "):])
            elif line.startswith("# expect: "):
                case["expect"].append(line[len("# expect: "):])
    return case


def expect_run(argv, status, patterns):
    """Run argv; the problems with its exit status and output lines."""
    r = subprocess.run(argv, capture_output=True, text=True)
    out = r.stdout + r.stderr
    bad = [] if r.returncode == status else ["%s exits %d, want %d" % (
        " ".join(argv[:2]), r.returncode, status)]
    bad += ["no line matches /%s/" % x for x in patterns if not re.search(x, out, re.M)]
    return bad


def run_case(topo, fpc, path, st, work):
    """Replay one case file; the list of problems."""
    case = read_case(path)
    bad = []
    if case["check"] is not None:
        bad += expect_run([fpc, "check", path], case["check"],
                          case["expect"] if case["verify"] is None else [])
    rs = case["ruleset"]
    if rs is None:
        ok, res = fpc_compile(fpc, path, os.path.join(work, "out"))
        if not ok:
            return bad + ["fpc refuses it: " + res.strip().splitlines()[0]]
    elif rs == "empty":
        res = ""
    else:
        with open(os.path.join(os.path.dirname(path), rs)) as f:
            res = f.read()
    err = topo.load(res)
    if err:
        return bad + ["nft cannot load it: " + err]
    listing = None
    if rs is not None:
        listing = os.path.join(work, "listing.json")
        with open(listing, "w") as f:
            f.write(sh("ip", "netns", "exec", ns("h"), "nft", "-j", "list", "ruleset"))
    if case["verify"] is not None:
        bad += expect_run([fpc, "verify", path, "--ruleset", listing or ""],
                          case["verify"], case["expect"])
    probes = case["probes"]
    if not probes:
        return bad
    topo.flush_observer()
    for pr in probes:
        pr.sport = next_sport(st)
    obs = topo.send(probes)
    polarg = path if listing is None else "%s --ruleset %s" % (path, listing)
    bad += ["%s %s: kernel %s, fpc %s" % (w, pr.text(), k, f) for pr, w, k, f in
            compare(fpc, polarg, probes, obs, topo, st, work)]
    got = fpc_verdicts(fpc, polarg, probes, topo, work)
    for pr, want, (fn, fr) in zip(probes, case["want"], got):
        if "new" in want and want["new"] != fn:
            bad.append("new %s: fpc says %s, the case wants %s" % (
                pr.text(), verdict(fn), verdict(want["new"])))
        if "reply" in want and want["reply"] != fr:
            bad.append("reply %s: fpc says %s, the case wants %s" % (
                pr.text(), verdict(fr), verdict(want["reply"])))
    return bad


def verdict(v):
    return "accept" if v else "drop"


# ---- commands -------------------------------------------------------------

def run_campaign(args):
    topo = Topology(args.fpc)
    st = Stats()
    fails = 0
    work = tempfile.mkdtemp(prefix="prv-oracle.")
    t0 = time.time()
    try:
        for i in range(args.n):
            seed = "%d-%d" % (args.seed, i)
            r = random.Random(seed)
            p = generate(r, egress_ports=not args.no_egress_ports, shapes19=not args.no_shapes19)
            probes = class_probes(p, r) if args.classes else probes_for(p, r, args.packets)
            st.policies += 1
            before = st.packets
            bad = check_policy(topo, args.fpc, p, probes, st, work)
            if bad is None:
                continue
            if not bad:
                if args.verbose:
                    print("PASS oracle: policy %s (%d packets)" % (seed, st.packets - before))
                continue
            fails += 1
            st.disagree += len(bad)
            if MUTATE:
                continue
            for pr, what, k, fv in bad:
                if what == "view":
                    print("disagreement (seed %s): new %s: fpc's trust-table line says %s, "
                          "its verdict is %s" % (seed, pr.text(), "allow" if k else "deny",
                                                 "accept" if fv else "drop"))
                    continue
                print("disagreement (seed %s): %s %s: kernel %s, fpc %s" % (
                    seed, what, pr.text(), "accept" if k else "drop", "accept" if fv else "drop"))
            small = shrink(topo, args.fpc, p, bad[0][0], st, work)
            saved = save_case(args.save, small, [bad[0]], seed)
            print("FAIL oracle: policy %s disagrees (shrunk to %s)\n%s" % (seed, saved, small.text()))
    finally:
        topo.close()
    compiled = st.policies - st.refused - st.load_fail
    print("oracle: %d policies (%d compiled and loaded, %d refused by fpc, %d of them "
          "'emitter bug', %d load failures), %d packets compared, %d disagreements in %d "
          "policies%s (%.0fs)"
          % (st.policies, compiled, st.refused, st.emitter_bug, st.load_fail, st.packets,
             st.disagree, fails, " (kernel's copy mutated)" if MUTATE else "",
             time.time() - t0))
    if st.emitter_bug or st.load_fail:
        print("NOTE oracle: issue 19 shapes: %d emitter-bug refusals, %d load failures"
              % (st.emitter_bug, st.load_fail))
    if fails == 0:
        print("PASS oracle%s: seed %d, %d policies, %d packets, no disagreement"
              % ("-classes" if args.classes else "", args.seed, st.policies, st.packets))
    return 1 if fails else 0


def run_cases(args):
    topo = Topology(args.fpc)
    st = Stats()
    work = tempfile.mkdtemp(prefix="prv-oracle.")
    rc = 0
    try:
        for path in args.files:
            name = "oracle case %s" % os.path.relpath(path, os.path.dirname(os.path.abspath(__file__)))
            try:
                bad = run_case(topo, args.fpc, path, st, work)
            except (RuntimeError, OSError, ValueError) as e:
                bad = ["%s" % str(e).splitlines()[0]]
            if bad:
                print("FAIL %s: %s" % (name, "; ".join(bad)))
                rc = 1
            else:
                print("PASS %s (%d packets)" % (name, len(read_case(path)["probes"])))
    finally:
        topo.close()
    return rc


def main():
    global KINDS, REPLIES, MUTATE
    # a TERM ends the run through its finally blocks (namespaces removed)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    a = sub.add_parser("run")
    a.add_argument("--fpc", required=True)
    a.add_argument("--seed", type=int, default=1)
    a.add_argument("--n", type=int, default=50)
    a.add_argument("--packets", type=int, default=40)
    a.add_argument("--save", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "cases"))
    a.add_argument("--classes", action="store_true",
                   help="a packet in every class of the partition, not --packets from the atoms")
    a.add_argument("--no-egress-ports", action="store_true")
    a.add_argument("--no-shapes19", action="store_true")
    a.add_argument("--kinds", default=",".join(KINDS))
    a.add_argument("--no-replies", action="store_true")
    a.add_argument("--mutate", action="store_true",
                   help="flip one rule's verdict in the kernel's copy: every policy should disagree")
    a.add_argument("-v", "--verbose", action="store_true")
    c = sub.add_parser("case")
    c.add_argument("--fpc", required=True)
    c.add_argument("files", nargs="+")
    w = sub.add_parser("worker")
    w.add_argument("--listen", action="store_true")
    w.add_argument("--no-listen", dest="listen", action="store_false")
    args = ap.parse_args()
    if args.cmd == "worker":
        worker(args.listen)
        return 0
    if os.geteuid() != 0:
        print("FAIL oracle: this suite creates network namespaces and must run as root")
        return 1
    if args.cmd == "run":
        KINDS = tuple(args.kinds.split(","))
        REPLIES = not args.no_replies
        MUTATE = args.mutate
    return run_campaign(args) if args.cmd == "run" else run_cases(args)


if __name__ == "__main__":
    sys.exit(main())
