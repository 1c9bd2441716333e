#!/usr/bin/env bash
# The product's main job on the embedded default: create the SQLite database in
# instance/, generate the demo province (50,000 lines) and import it through the real
# feed path, then print a summary. Extra arguments go to "custclass demo".
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
exec .venv/bin/custclass demo "$@"
