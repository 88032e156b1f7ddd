#!/usr/bin/env python3
"""`bulwark fleet init` (docs/SPEC.md §12), checked with the openssl CLI.

Promises checked: every file of the fleet directory is made; broker.crt and
bulwarkd.crt verify under ca.crt; the CA is CA:TRUE with keyCertSign; the
broker's certificate is for server auth with SAN DNS:localhost, IP:127.0.0.1
and each --broker-name; bulwarkd's is CN=bulwarkd for client auth; private
keys and the admin token are mode 0600 and the token is 32 random bytes in
hex; update.key/update.pub are a bundle-signing pair `bulwark keys id`
reads; fleet.conf has broker_host, broker_port and api_url; a second init
is refused (exit 2) and changes nothing; --force makes a new fleet; bad
usage exits 2.

Usage: test_fleet.py <path to bulwark> <scratch directory>
"""
import os
import re
import shutil
import stat
import subprocess
import sys

BULWARK = os.path.abspath(sys.argv[1])
WORK = os.path.abspath(sys.argv[2])
failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures.append(what)


def run(*argv):
    return subprocess.run(list(argv), capture_output=True, text=True, timeout=30)


def text(path):
    return run("openssl", "x509", "-in", path, "-noout", "-text").stdout


def main():
    shutil.rmtree(WORK, ignore_errors=True)
    os.makedirs(WORK)
    fleet = os.path.join(WORK, "fleet")
    p = run(BULWARK, "fleet", "init", "--dir", fleet, "--broker-name", "broker.example",
            "--broker-name", "mqtt.internal")
    check(p.returncode == 0, f"fleet init exits 0 ({p.stderr.strip()})")
    names = ["ca.key", "ca.crt", "broker.key", "broker.crt", "bulwarkd.key", "bulwarkd.crt",
             "admin.token", "update.key", "update.pub", "fleet.conf"]
    check(all(os.path.isfile(os.path.join(fleet, n)) for n in names), "every fleet file exists")
    f = lambda n: os.path.join(fleet, n)  # noqa: E731
    v = run("openssl", "verify", "-CAfile", f("ca.crt"), f("broker.crt"), f("bulwarkd.crt"))
    check(v.returncode == 0 and v.stdout.count(": OK") == 2, "broker and bulwarkd chain to the CA")
    ca = text(f("ca.crt"))
    check("CA:TRUE" in ca and "Certificate Sign" in ca, "the CA is CA:TRUE with keyCertSign")
    check(run("openssl", "verify", "-CAfile", f("ca.crt"), f("ca.crt")).returncode == 0,
          "the CA is self-signed")
    broker = text(f("broker.crt"))
    check("TLS Web Server Authentication" in broker and "CA:FALSE" in broker,
          "broker: server auth, not a CA")
    for san in ("DNS:localhost", "IP Address:127.0.0.1", "DNS:broker.example", "DNS:mqtt.internal"):
        check(san in broker, f"broker SAN has {san}")
    check("prime256v1" in broker and "ecdsa-with-SHA256" in broker, "broker: P-256, ECDSA-SHA256")
    daemon = text(f("bulwarkd.crt"))
    check(re.search(r"Subject: CN ?= ?bulwarkd", daemon) is not None, "bulwarkd: CN=bulwarkd")
    check("TLS Web Client Authentication" in daemon, "bulwarkd: client auth")
    for n in ("ca.key", "broker.key", "bulwarkd.key", "update.key", "admin.token"):
        check(stat.S_IMODE(os.stat(f(n)).st_mode) == 0o600, f"{n} is mode 0600")
    token = open(f("admin.token")).read().strip()
    check(re.fullmatch(r"[0-9a-f]{64}", token) is not None, "admin.token: 32 bytes in hex")
    k = run("openssl", "pkey", "-in", f("broker.key"), "-pubout")
    c = run("openssl", "x509", "-in", f("broker.crt"), "-noout", "-pubkey")
    check(k.returncode == 0 and k.stdout == c.stdout, "broker.key is the broker certificate's key")
    ids = run(BULWARK, "keys", "id", f("update.pub")), run(BULWARK, "keys", "id", f("update.key"))
    check(ids[0].returncode == 0 and ids[0].stdout == ids[1].stdout, "update.key/update.pub: one pair")
    conf = open(f("fleet.conf")).read()
    for key in ("broker_host", "broker_port", "api_url"):
        check(re.search(rf"^{key} = \S+$", conf, re.M) is not None, f"fleet.conf has {key}")

    before = open(f("ca.crt")).read()
    p = run(BULWARK, "fleet", "init", "--dir", fleet)
    check(p.returncode == 2 and "already holds a fleet" in p.stderr, "a second init is refused")
    check(open(f("ca.crt")).read() == before, "the refused init changed nothing")
    p = run(BULWARK, "fleet", "init", "--dir", fleet, "--force")
    check(p.returncode == 0 and open(f("ca.crt")).read() != before, "--force makes a new fleet")
    check(run(BULWARK, "fleet", "init").returncode == 2, "no --dir: exit 2")
    check(run(BULWARK, "fleet", "init", "--dir", fleet, "--broker-name", "a b").returncode == 2,
          "a bad broker name: exit 2")
    print(f"{len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
