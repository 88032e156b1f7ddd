#!/usr/bin/env bash
# Installs what Bulwark needs on a Debian 12 machine and brings the mbedTLS 3.6
# source from Debian trixie's source package into .cache/ (MBEDTLS_SOURCE_DIR overrides).
# Idempotent: does nothing when everything is already present.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)

packages=(mosquitto mosquitto-clients libmosquitto-dev mosquitto-dev libmicrohttpd-dev libsqlite3-dev sqlite3 libcurl4-openssl-dev libjansson-dev openssl
          gcc-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm gdb-multiarch
          cmake make gcc libc6-dev libcmocka-dev python3 dpkg-dev clang
          libclang-rt-dev binutils-arm-none-eabi)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

apt_updated=0
apt_update_once() {
  if [ $apt_updated -eq 0 ]; then as_root apt-get update -q >/dev/null; apt_updated=1; fi
}

if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  apt_update_once
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >/dev/null
fi

# mbedTLS source: the 3.6 LTS source package of Debian's next release
# (trixie), unpacked once into .cache/. Only a deb-src entry is added for
# trixie, so nothing can ever be installed from it and nothing needs pinning.
mbedtls_suite=trixie
if [ -n "${MBEDTLS_SOURCE_DIR:-}" ]; then
  [ -f "$MBEDTLS_SOURCE_DIR/include/mbedtls/version.h" ] || {
    echo "setup: MBEDTLS_SOURCE_DIR=$MBEDTLS_SOURCE_DIR holds no mbedTLS source" >&2; exit 1; }
  exit 0
fi
cache="$top/.cache"
if grep -qs 'MBEDTLS_VERSION_MAJOR *3' "$cache/mbedtls/include/mbedtls/build_info.h"; then exit 0; fi
mkdir -p "$cache"
src_list=/etc/apt/sources.list.d/bulwark-$mbedtls_suite-src.sources
if [ ! -s "$src_list" ]; then
  # The machine's own Debian archive (its deb822 stanza for the main archive,
  # not the security one), as deb-src with the suite changed to trixie.
  echo "setup: adding a $mbedtls_suite deb-src entry from the machine's Debian sources ($src_list)"
  tmp=$(mktemp)
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] && [[ "$f" != */bulwark-* ]] || continue
    awk -v suite="$mbedtls_suite" 'BEGIN { RS = ""; ORS = "\n\n" }
         /debian-archive-keyring/ && /Types:[^\n]*deb/ && !/debian-security/ && !done {
           sub(/Types:[^\n]*/, "Types: deb-src"); sub(/Suites:[^\n]*/, "Suites: " suite)
           print; done = 1 }' "$f" >> "$tmp"
    [ -s "$tmp" ] && break
  done
  if [ ! -s "$tmp" ] && [ -f /etc/apt/sources.list ]; then
    # One-line format: the first main-archive deb line, same change.
    awk -v suite="$mbedtls_suite" '$1 == "deb" && $0 !~ /security/ {
           $1 = "deb-src"; i = 2; if ($2 ~ /^\[/) while ($i !~ /\]$/) i++; $(i + 2) = suite
           print; exit }' /etc/apt/sources.list > "$tmp"
    [ -s "$tmp" ] && src_list=${src_list%.sources}.list
  fi
  [ -s "$tmp" ] || { echo "setup: found no Debian archive in the apt sources" >&2; rm -f "$tmp"; exit 1; }
  as_root cp "$tmp" "$src_list"
  as_root chmod 644 "$src_list"
  rm -f "$tmp"
  apt_updated=0
fi
apt_update_once
work=$(mktemp -d "$cache/mbedtls-src.XXXXXX")
chmod 755 "$work"   # apt-get source downloads as _apt
echo "setup: fetching the mbedtls source package from $mbedtls_suite"
(cd "$work" && apt-get source -q --download-only "mbedtls/$mbedtls_suite" >/dev/null \
  && dpkg-source --no-check -x mbedtls_*.dsc unpacked >/dev/null)
rm -rf "$cache/mbedtls"
mv "$work/unpacked" "$cache/mbedtls"
rm -rf "$work"
echo "setup: mbedTLS $(sed -n 's/.*MBEDTLS_VERSION_STRING *"\([0-9.]*\)".*/\1/p' "$cache/mbedtls/include/mbedtls/build_info.h") in $cache/mbedtls"
