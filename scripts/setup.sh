#!/usr/bin/env bash
# Installs what Bulwark needs on a Debian 12 machine and brings the mbedTLS
# source from Debian's source package into .cache/ (MBEDTLS_SOURCE_DIR overrides).
# Idempotent: does nothing when everything is already present.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)

packages=(gcc-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm gdb-multiarch
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

# mbedTLS source: Debian's source package, unpacked once into .cache/.
if [ -n "${MBEDTLS_SOURCE_DIR:-}" ]; then
  [ -f "$MBEDTLS_SOURCE_DIR/include/mbedtls/version.h" ] || {
    echo "setup: MBEDTLS_SOURCE_DIR=$MBEDTLS_SOURCE_DIR holds no mbedTLS source" >&2; exit 1; }
  exit 0
fi
cache="$top/.cache"
if [ -f "$cache/mbedtls/include/mbedtls/version.h" ]; then exit 0; fi
mkdir -p "$cache"
src_list=/etc/apt/sources.list.d/bulwark-deb-src.sources
if ! grep -rqs '^Types:.*deb-src\|^deb-src' /etc/apt/sources.list /etc/apt/sources.list.d/; then
  # The source archive is the machine's own Debian archive: copy its deb822
  # stanzas for the release's main component with Types: deb-src.
  echo "setup: adding deb-src entries mirroring the machine's Debian sources ($src_list)"
  tmp=$(mktemp)
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] && [ "$f" != "$src_list" ] || continue
    awk 'BEGIN { RS = ""; ORS = "\n\n" }
         /debian-archive-keyring/ && /Types:[^\n]*deb/ { sub(/Types:[^\n]*/, "Types: deb-src"); print }' "$f" >> "$tmp"
  done
  if [ -f /etc/apt/sources.list ]; then
    sed -n 's/^deb \(.*\)/deb-src \1/p' /etc/apt/sources.list > "$tmp.list"
    [ -s "$tmp.list" ] && as_root cp "$tmp.list" /etc/apt/sources.list.d/bulwark-deb-src.list
    rm -f "$tmp.list"
  fi
  [ -s "$tmp" ] && as_root cp "$tmp" "$src_list"
  rm -f "$tmp"
  apt_updated=0
fi
apt_update_once
work=$(mktemp -d "$cache/mbedtls-src.XXXXXX")
echo "setup: fetching the mbedtls source package"
(cd "$work" && apt-get source -q --download-only mbedtls >/dev/null \
  && dpkg-source --no-check -x mbedtls_*.dsc unpacked >/dev/null)
rm -rf "$cache/mbedtls"
mv "$work/unpacked" "$cache/mbedtls"
rm -rf "$work"
echo "setup: mbedTLS $(grep -o '"[0-9.]*"' "$cache/mbedtls/include/mbedtls/version.h" | head -1) in $cache/mbedtls"
