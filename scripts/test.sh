#!/usr/bin/env bash
# The whole test suite: installs what it needs into .venv, lints, starts a throwaway
# PostgreSQL and runs every test against SQLite and PostgreSQL. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh test
CUSTCLASS_CHROMIUM="$(scripts/browser.sh)"
export CUSTCLASS_CHROMIUM
.venv/bin/ruff check .
export CUSTCLASS_REQUIRE_POSTGRES=1
scripts/with-postgres.sh .venv/bin/python -m pytest -n 2 -p no:cacheprovider "$@"
