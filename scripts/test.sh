#!/usr/bin/env bash
# The whole test suite: unit, integration on the embedded bus and on a real nats-server, browser tests in chromium.
# Installs what it needs first (npm dependencies; Debian packages with apt).
# Extra arguments go to vitest (e.g. a file filter). It runs on the first `node` on PATH; TEST_REPORT
# names its JSON report (test-artifacts/vitest.json by default; CI gives each Node's run its own).
set -euo pipefail
cd "$(dirname "$0")/.."
report=${TEST_REPORT:-test-artifacts/vitest.json}
# A report left from an earlier run must not stand in for this one if it stops before the tests.
rm -f "$report"
echo "ssehub: testing on Node $(node --version) ($(command -v node))"
bash scripts/ensure-deps.sh
bash scripts/ensure-system-deps.sh nats-server=nats-server nginx=nginx
# The partition test puts nats-server in a network namespace and drops its packets (ip netns, veth, tc).
bash scripts/ensure-system-deps.sh ip=iproute2 tc=iproute2
# The browser tests drive Debian's chromium with playwright-core (which never downloads a browser);
# the hub serves the client library compiled to client/dist/.
bash scripts/ensure-system-deps.sh chromium=chromium
npm run --silent build:client
mkdir -p test-artifacts
npx tsc -p tsconfig.json --noEmit
exec npx vitest run --reporter=default --reporter=json --outputFile.json="$report" "$@"
