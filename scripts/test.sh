#!/usr/bin/env bash
# The whole test suite: unit, integration on the embedded bus and on a real nats-server.
# Installs what it needs first (npm dependencies; Debian packages with apt).
# Extra arguments go to vitest (e.g. a file filter).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh
bash scripts/ensure-system-deps.sh nats-server=nats-server nginx=nginx
mkdir -p test-artifacts
exec npx vitest run --reporter=default --reporter=json --outputFile.json=test-artifacts/vitest.json "$@"
