#!/usr/bin/env bash
# The product's main job on the embedded default: create the SQLite database in
# instance/, generate the demo province (50,000 lines), import it through the real feed
# path, publish the default rules and classify everyone, then serve the web UI on
# http://127.0.0.1:8000/ (sign in with a demo account printed above it).
# Arguments go to "custclass demo" (e.g. -n 5000 for a smaller province).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
.venv/bin/custclass demo "$@"
exec .venv/bin/custclass serve --port "${CUSTCLASS_PORT:-8000}"
