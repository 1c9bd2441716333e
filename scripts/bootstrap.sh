#!/usr/bin/env bash
# Create (or refresh) the project's virtual environment in .venv and install the project.
# Usage: scripts/bootstrap.sh [extra]   e.g. "test" installs the test tools too.
set -euo pipefail
cd "$(dirname "$0")/.."

pick_python() {
  for candidate in python3.12 python3.11 python3; do
    if command -v "$candidate" >/dev/null 2>&1 &&
       "$candidate" -c 'import sys; sys.exit(not ((3, 11) <= sys.version_info[:2] < (3, 13)))'; then
      echo "$candidate"; return
    fi
  done
  echo "Python 3.11 or 3.12 is required (durable-rules does not build on 3.13)" >&2
  exit 1
}

if [ ! -x .venv/bin/python ]; then
  "$(pick_python)" -m venv .venv
  .venv/bin/python -m pip install --quiet --upgrade pip
fi
extra="${1:-}"
target="."
[ -n "$extra" ] && target=".[$extra]"
# Reinstall only when the declared dependencies changed.
stamp=".venv/.installed-${extra:-main}"
if [ ! -f "$stamp" ] || [ setup.cfg -nt "$stamp" ]; then
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -e "$target"
  touch "$stamp"
fi
# The UI's translations are compiled from the committed .po files.
.venv/bin/pybabel compile -d webapp/translations >/dev/null 2>&1 \
  || .venv/bin/pybabel compile -d webapp/translations
