#!/usr/bin/env bash
# Install knet and start a demonstration node with sample content on SQLite (the embedded default).
# Extra arguments go to `knet demo`, e.g. --port 8080.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
exec .venv/bin/knet demo --instance instance/demo "$@"
