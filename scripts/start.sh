#!/usr/bin/env bash
# Install knet and start a demonstration network of three peered municipalities with sample content, each
# on SQLite (the embedded default), on ports 5000-5002. Extra arguments go to `knet demo`, e.g. --port 8080.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
exec .venv/bin/knet demo --instance instance/demo "$@"
