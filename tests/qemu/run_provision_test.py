#!/usr/bin/env python3
"""Provisioning a QEMU device (docs/SPEC.md §12) with `bulwark fleet init` and
`bulwark device provision`.

Promises checked: a fresh device makes its key on the first boot ("device key
created", "not provisioned (key ready)"); `bulwark device provision` signs its
request with the fleet CA and the device accepts it; the certificate (checked
with openssl) has CN = the device ID, the fleet CA as issuer, verifies under
ca.crt, and holds the public key of the device's request; after a power cut
the device says it is provisioned for the broker, does not make a new key and
its request carries the same public key; the update key sent with the
credentials becomes the trusted update key; commits of a certificate for
another key, or from another CA, are refused with a clear reason (NACK code 7)
and change nothing (same key, same broker after another power cut).
"""
import argparse
import os
import socket
import struct
import subprocess
import sys
import time
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from update_harness import (run_scenario, Device, Failure, Link, add_common_args)  # noqa: E402

DEVICE_ID = "BW00112233445566778899AABBCCDDEEFF"
HELLO, CSR_READ, PROV_DATA, PROV_COMMIT = 0x01, 0x07, 0x08, 0x09
ACK, STATUS, NACK, CHUNK = 0x80, 0x81, 0x82, 0x83
END, ESC, ESC_END, ESC_ESC = 0xC0, 0xDB, 0xDC, 0xDD


class RawLink:
    """The host end of the link protocol, spoken directly (no CLI): the test's
    own view of the device."""

    def __init__(self, link):
        server = socket.socket()
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        link.attach(server.getsockname()[1])
        server.settimeout(10)
        self.sock, _ = server.accept()
        server.close()
        self.sock.settimeout(30)
        self.seq = 100
        self.buf = bytearray()

    def request(self, ftype, payload=b""):
        self.seq += 1
        body = struct.pack("<BBHH", ftype, 1, self.seq, len(payload)) + payload
        body += struct.pack("<I", zlib.crc32(body))
        out = bytearray([END])
        for b in body:
            out += bytes([ESC, ESC_END]) if b == END else bytes([ESC, ESC_ESC]) if b == ESC else bytes([b])
        self.sock.sendall(bytes(out) + bytes([END]))
        while True:
            while END not in self.buf[1:] or self.buf.count(END) < 2:
                data = self.sock.recv(4096)
                if not data:
                    raise Failure("the device closed the link")
                self.buf += data
            start = self.buf.index(END)
            end = self.buf.index(END, start + 1)
            raw, self.buf = bytes(self.buf[start + 1:end]), self.buf[end:]
            if not raw:
                continue
            body = raw.replace(bytes([ESC, ESC_END]), bytes([END])).replace(bytes([ESC, ESC_ESC]), bytes([ESC]))
            ftype, _, seq, length = struct.unpack_from("<BBHH", body)
            if seq == self.seq:
                return ftype, body[6:6 + length]

    def csr(self):
        data, total, at = b"", None, 0
        while total is None or at < total:
            ftype, p = self.request(CSR_READ, struct.pack("<I", at))
            if ftype != CHUNK:
                raise Failure(f"CSR_READ answered 0x{ftype:02x}: {p[8:]!r}")
            total = struct.unpack_from("<I", p)[0]
            data += p[4:]
            at = len(data)
        return data

    def commit(self, cert, ca, broker):
        for item, data in ((1, cert), (2, ca), (3, broker)):
            for at in range(0, len(data), 508):
                ftype, p = self.request(PROV_DATA, struct.pack("<BxxxI", item, at) + data[at:at + 508])
                if ftype != ACK:
                    raise Failure(f"PROV_DATA item {item} answered 0x{ftype:02x}: {p[8:]!r}")
        return self.request(PROV_COMMIT)

    def close(self):
        self.sock.close()


def openssl(tools, *argv, data=None):
    p = subprocess.run(["openssl", *argv], input=data, capture_output=True, timeout=30)
    if p.returncode != 0:
        raise Failure(f"openssl {' '.join(argv)}: {p.stderr.decode(errors='replace')}")
    return p.stdout


def csr_public_key(tools, der):
    path = tools.path("csr.der")
    with open(path, "wb") as f:
        f.write(der)
    out = openssl(tools, "req", "-inform", "DER", "-in", path, "-verify", "-noout", "-pubkey")
    return out


def boot(tools, image, name):
    link = Link()
    dev = Device(tools, image, name, link=link, timeout=60)
    return dev, link


def scenario(tools):
    fleet = tools.path("fleet")
    tools.run(tools.bulwark, "fleet", "init", "--dir", fleet)
    app = tools.app_elf(tools.args.app_a, 1, "app.elf")
    image = tools.image("flash.bin", app, [])

    # First boot: the key is made, nothing else.
    dev, link = boot(tools, image, "boot1")
    dev.wait_for("kernel", r"credentials: device key created", 30)
    dev.wait_for("kernel", r"credentials: not provisioned \(key ready\)", 10)
    dev.wait_for("kernel", r"update: no trusted update key provisioned", 10)
    out_path = tools.path("device.crt")
    prov_out = open(tools.path("provision.out"), "w+")
    proc = subprocess.Popen([tools.bulwark, "device", "provision", "--fleet", fleet, "--listen",
                             "127.0.0.1:0", "--broker", "localhost:8883", "--out", out_path,
                             "--timeout", "30", "--no-register"], stdout=prov_out, stderr=subprocess.STDOUT)
    end = time.monotonic() + 10
    while True:
        text = Device.read(prov_out.name)
        if "listening on 127.0.0.1:" in text:
            break
        if time.monotonic() > end or proc.poll() is not None:
            raise Failure(f"provision did not listen: {text}")
        time.sleep(0.01)
    link.attach(int(text.split("listening on 127.0.0.1:")[1].split()[0]))
    code = proc.wait(timeout=90)
    text = Device.read(prov_out.name)
    if code != 0 or f"device {DEVICE_ID} provisioned for broker localhost:8883" not in text:
        raise Failure(f"provision exit {code}:\n{text}")
    dev.wait_for("kernel", r"credentials: provisioned for broker localhost:8883 \(record 2", 10)
    # The update key sent with the credentials is trusted at once, without a restart.
    dev.wait_for("kernel", r"update: trusted keys from the device credentials \(1\)", 10)

    subject = openssl(tools, "x509", "-in", out_path, "-noout", "-subject", "-issuer").decode()
    if f"CN = {DEVICE_ID}" not in subject or "CN = Bulwark fleet CA" not in subject:
        raise Failure(f"certificate names: {subject}")
    openssl(tools, "verify", "-CAfile", os.path.join(fleet, "ca.crt"), out_path)
    text_form = openssl(tools, "x509", "-in", out_path, "-noout", "-text").decode()
    if "TLS Web Client Authentication" not in text_form:
        raise Failure("the device certificate is not for client auth")
    cert_key = openssl(tools, "x509", "-in", out_path, "-noout", "-pubkey")

    raw = RawLink(link)
    key_before = csr_public_key(tools, raw.csr())
    if key_before != cert_key:
        raise Failure("the certificate's public key is not the device request's")
    raw.close()
    dev.kill()

    # Power cut, boot again: provisioned, the same key, the update key trusted.
    dev, link = boot(tools, image, "boot2")
    dev.wait_for("kernel", rf"credentials: device {DEVICE_ID} provisioned for broker localhost:8883", 30)
    dev.wait_for("kernel", r"update: trusted keys from the device credentials \(1\)", 10)
    if "device key created" in dev.kernel_text():
        raise Failure("a second key was made")
    raw = RawLink(link)
    if csr_public_key(tools, raw.csr()) != key_before:
        raise Failure("the device's key changed across the power cut")

    # Refused: a certificate for another key (signed by the fleet CA) ...
    ca_der = openssl(tools, "x509", "-in", os.path.join(fleet, "ca.crt"), "-outform", "DER")
    ext = tools.path("client.ext")
    with open(ext, "w") as f:
        f.write("basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n")
    other_key = tools.path("other.key")
    openssl(tools, "ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", other_key)
    openssl(tools, "req", "-new", "-key", other_key, "-subj", f"/CN={DEVICE_ID}", "-out",
            tools.path("other.csr"))
    other_cert = openssl(tools, "x509", "-req", "-in", tools.path("other.csr"), "-CA",
                         os.path.join(fleet, "ca.crt"), "-CAkey", os.path.join(fleet, "ca.key"),
                         "-set_serial", "7", "-days", "30", "-extfile", ext, "-outform", "DER")
    ftype, p = raw.commit(other_cert, ca_der, b"evil.example:1")
    if ftype != NACK or p[0] != 7 or b"public key is not this device's key" not in p[8:]:
        raise Failure(f"another key's certificate: answer 0x{ftype:02x} {p!r}")
    # ... and one from another CA (for this device's own request).
    openssl(tools, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", tools.path("rogue-ca.key"), "-out", tools.path("rogue-ca.crt"), "-subj",
            "/CN=Rogue CA", "-days", "30", "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign")
    with open(tools.path("device.csr.der"), "wb") as f:
        f.write(raw.csr())
    rogue_cert = openssl(tools, "x509", "-req", "-inform", "DER", "-in", tools.path("device.csr.der"),
                         "-CA", tools.path("rogue-ca.crt"), "-CAkey", tools.path("rogue-ca.key"),
                         "-set_serial", "8", "-days", "30", "-extfile", ext, "-outform", "DER")
    ftype, p = raw.commit(rogue_cert, ca_der, b"evil.example:1")
    if ftype != NACK or p[0] != 7 or b"does not chain to the CA given" not in p[8:]:
        raise Failure(f"another CA's certificate: answer 0x{ftype:02x} {p!r}")
    ftype, p = raw.request(HELLO)
    if ftype != STATUS or (p[2] & 0x18) != 0x18:
        raise Failure(f"STATUS after refusals: flags 0x{p[2]:02x}, want key ready + provisioned")
    raw.close()
    dev.kill()

    dev, link = boot(tools, image, "boot3")
    dev.wait_for("kernel", rf"credentials: device {DEVICE_ID} provisioned for broker localhost:8883", 30)
    raw = RawLink(link)
    if csr_public_key(tools, raw.csr()) != key_before:
        raise Failure("the device's key changed after refused commits")
    raw.close()
    dev.kill()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_common_args(parser)
    parser.add_argument("--name", default="qemu.provision")
    args = parser.parse_args()
    return run_scenario(args, args.name, scenario)


if __name__ == "__main__":
    sys.exit(main())
