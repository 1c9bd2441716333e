#!/usr/bin/env bash
# Keep the UI translations in step with the code: extract the marked texts, merge them
# into webapp/translations/*/LC_MESSAGES/messages.po (then translate the new ones), and
# compile. "scripts/translations.sh compile" only compiles (bootstrap.sh does that).
set -euo pipefail
cd "$(dirname "$0")/.."
pybabel=".venv/bin/pybabel"
if [ "${1:-}" != compile ]; then
  "$pybabel" extract -F babel.cfg -k _l -k say --no-location --sort-output \
    --ignore-dirs=".venv .git var bench tests migrations" -o webapp/translations/messages.pot .
  "$pybabel" update -i webapp/translations/messages.pot -d webapp/translations \
    --no-fuzzy-matching
fi
"$pybabel" compile --statistics -d webapp/translations
