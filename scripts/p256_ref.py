"""Reference P-256 arithmetic in plain Python integers (affine, slow, exact), for
build and bench tools only: the generator table (gen-p256-table.py) and fixed
bench keys (tests/bench/bench_update.py). Curve constants from SEC 2 / FIPS 186-4."""
import base64

P = 2**256 - 2**224 + 2**192 + 2**96 - 1
N = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
G = (0x6B17D1F2E12C4247F8BCE6E563A440F277037D812DEB33A0F4A13945D898C296,
     0x4FE342E2FE1A7F9B8EE7EB4A7C0F9E162BCE33576B315ECECBB6406837BF51F5)


def add(a, b):
    """a + b, None standing for the point at infinity."""
    if a is None or b is None:
        return b if a is None else a
    (x1, y1), (x2, y2) = a, b
    if x1 == x2:
        if (y1 + y2) % P == 0:
            return None
        lam = (3 * x1 * x1 - 3) * pow(2 * y1, -1, P) % P
    else:
        lam = (y2 - y1) * pow(x2 - x1, -1, P) % P
    x3 = (lam * lam - x1 - x2) % P
    return x3, (lam * (x1 - x3) - y1) % P


def multiply(k, point=G):
    """k * point by double-and-add (public k only: not constant time)."""
    result = None
    for bit in bin(k)[2:]:
        result = add(result, result)
        if bit == "1":
            result = add(result, point)
    return result


def pem_key_pair(d):
    """(private PEM, public PEM) of scalar d: SEC 1 EC private key, SubjectPublicKeyInfo."""
    x, y = multiply(d)
    point = b"\x04" + x.to_bytes(32, "big") + y.to_bytes(32, "big")
    curve = bytes.fromhex("06082a8648ce3d030107")                      # prime256v1
    private = (bytes.fromhex("307702010104 20".replace(" ", "")) + d.to_bytes(32, "big")
               + b"\xa0\x0a" + curve + b"\xa1\x44\x03\x42\x00" + point)
    public = bytes.fromhex("3059301306072a8648ce3d0201") + curve + b"\x03\x42\x00" + point

    def pem(label, der):
        body = base64.b64encode(der).decode()
        lines = [body[i:i + 64] for i in range(0, len(body), 64)]
        return f"-----BEGIN {label}-----\n" + "\n".join(lines) + f"\n-----END {label}-----\n"
    return pem("EC PRIVATE KEY", private), pem("PUBLIC KEY", public)
