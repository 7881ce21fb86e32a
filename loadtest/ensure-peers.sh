#!/usr/bin/env bash
# What the side-by-side comparison needs besides npm packages: nats-server, nginx and its nchan
# module, and redis-server for nchan's Redis storage (Debian packages), installed with apt when missing.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-system-deps.sh nats-server=nats-server nginx=nginx redis-server=redis-server
if [ ! -f /usr/share/nginx/modules/ngx_nchan_module.so ]; then
  # A module, not a command: ensure-system-deps.sh checks commands, so ask for it through a name
  # that is never on PATH.
  bash scripts/ensure-system-deps.sh ssehub-no-such-command=libnginx-mod-nchan
fi
