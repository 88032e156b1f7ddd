"""Test fleet made with the openssl CLI: the files `bulwark fleet init` makes
(ca.crt/key, broker.crt/key with SAN localhost + 127.0.0.1, bulwarkd.crt/key,
admin.token, fleet.conf), P-256 keys in PEM, and device certificates
(CN = device ID) signed by the fleet CA or by another CA."""
import os
import secrets
import subprocess


def _openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.PIPE)


def _key(path, cwd):
    _openssl("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", path, cwd=cwd)


def make_ca(directory, name="ca", cn="Bulwark test fleet CA"):
    os.makedirs(directory, exist_ok=True)
    _key(f"{name}.key", directory)
    _openssl("req", "-x509", "-new", "-key", f"{name}.key", "-subj", f"/CN={cn}", "-days", "30",
             "-sha256", "-out", f"{name}.crt", cwd=directory)


def sign(directory, name, cn, ca="ca", san=None):
    """name.key + name.crt, CN=cn, signed by ca.key (paths relative to directory)."""
    _key(f"{name}.key", directory)
    _openssl("req", "-new", "-key", f"{name}.key", "-subj", f"/CN={cn}", "-out", f"{name}.csr",
             cwd=directory)
    ext = f"{name}.ext"
    with open(os.path.join(directory, ext), "w") as f:
        f.write("basicConstraints=CA:FALSE\n")
        if san:
            f.write(f"subjectAltName={san}\n")
    _openssl("x509", "-req", "-in", f"{name}.csr", "-CA", f"{ca}.crt", "-CAkey", f"{ca}.key",
             "-CAcreateserial", "-days", "30", "-sha256", "-extfile", ext, "-out", f"{name}.crt",
             cwd=directory)


def make_fleet(directory):
    make_ca(directory)
    sign(directory, "broker", "localhost", san="DNS:localhost,IP:127.0.0.1")
    sign(directory, "bulwarkd", "bulwarkd")
    token = secrets.token_hex(32)
    with open(os.path.join(directory, "admin.token"), "w") as f:
        f.write(token + "\n")
    with open(os.path.join(directory, "fleet.conf"), "w") as f:
        f.write("# test fleet\n")
    return token


def device_id():
    return "BW" + secrets.token_hex(16).upper()


def make_device(directory, dev_id, ca="ca"):
    sign(directory, dev_id, dev_id, ca=ca)
    return os.path.join(directory, f"{dev_id}.crt"), os.path.join(directory, f"{dev_id}.key")
