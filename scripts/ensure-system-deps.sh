#!/usr/bin/env bash
# Makes sure the Debian packages the tests need are installed: installs them with apt where it can
# (root, or sudo without a password), or stops with a message saying what to install.
# Usage: ensure-system-deps.sh BINARY=PACKAGE ...   e.g. nats-server=nats-server chromium=chromium
set -euo pipefail
missing=()
for pair in "$@"; do
  bin=${pair%%=*}
  pkg=${pair#*=}
  command -v "$bin" >/dev/null 2>&1 || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ]; then
  SUDO=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  SUDO=(sudo -n)
else
  echo "ssehub: the tests need these Debian packages: ${missing[*]}" >&2
  echo "ssehub: install them with: sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "ssehub: the tests need ${missing[*]} and this machine has no apt-get: install them and run again" >&2
  exit 1
fi
echo "ssehub: installing ${missing[*]} with apt-get" >&2
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -qq >&2
"${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
