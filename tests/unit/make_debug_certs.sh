#!/bin/sh
# Makes tests/unit/debug_certs.h for test_debug_session and fuzz_debug_session
# (docs/SPEC.md §21.2): a fleet CA and another CA; device certificates (P-256,
# CN = device ID) issued by them, as `bulwark device provision` issues them
# (and one padded past OPENED's 410 bytes, so its tail comes in CERT_PART);
# the device keys as raw scalars. Valid to 2099. Run from the repository root
# with openssl; the output is committed.
set -eu
d=$(mktemp -d)
trap 'rm -rf "$d"' EXIT
id=BW0123456789ABCDEF0123456789ABCDEF
other=BWFFFF456789ABCDEF0123456789ABCDEF
key() { openssl ecparam -name prime256v1 -genkey -noout -out "$d/$1.key"; }
ca() {
    key "$1"
    openssl req -new -x509 -key "$d/$1.key" -subj "/CN=$2/O=Bulwark" -days 27000 -sha256 \
        -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign \
        -outform DER -out "$d/$1.der"
}
device() {   # name, CA, CN, extra extension (or -)
    key "$1"
    openssl req -new -key "$d/$1.key" -subj "/CN=$3" -out "$d/$1.csr"
    printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=critical,clientAuth\n' > "$d/$1.ext"
    [ "$4" = - ] || printf '%s\n' "$4" >> "$d/$1.ext"
    openssl x509 -req -in "$d/$1.csr" -CA "$d/$2.der" -CAform DER -CAkey "$d/$2.key" -set_serial 0x$(openssl rand -hex 16) \
        -days 27000 -sha256 -extfile "$d/$1.ext" -outform DER -out "$d/$1.der"
}
ca fleet_ca "Bulwark fleet CA"
ca other_ca "Bulwark fleet CA"
device dev fleet_ca $id -
device dev_big fleet_ca $id "subjectAltName=$(i=0; s=; while [ $i -lt 12 ]; do s="${s}DNS:padding-$i.device.bulwark.example,"; i=$((i+1)); done; echo "${s%,}")"
device dev_other_id fleet_ca $other -
device dev_other_ca other_ca $id -
arr() { printf 'static const uint8_t %s[] = {' "$1"; od -An -v -tx1 | tr -s ' \n' ' ' | sed 's/ \([0-9a-f][0-9a-f]\)/0x\1,/g'; printf '};\n'; }
scalar() { openssl ec -in "$d/$1.key" -text -noout 2>/dev/null | sed -n '/priv:/,/pub:/p' | sed '1d;$d' | tr -d ' :\n' | xxd -r -p | tail -c 32; }
{
    echo "/* Made by tests/unit/make_debug_certs.sh: test certificates and keys, not secrets. */"
    echo "#include <stdint.h>"
    for n in fleet_ca other_ca dev dev_big dev_other_id dev_other_ca; do arr "${n}_der" < "$d/$n.der"; done
    for n in dev dev_big dev_other_id dev_other_ca; do scalar $n | arr "${n}_key"; done
} > tests/unit/debug_certs.h
