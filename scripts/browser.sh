#!/usr/bin/env bash
# Make sure Debian's Chromium (driven by Playwright in the end-to-end tests) and a font
# with Chinese characters are installed; prints the browser's path. Playwright's own
# browser download is not used: production-like machines reach only package registries.
set -euo pipefail
browser="${CUSTCLASS_CHROMIUM:-/usr/bin/chromium}"
need=()
[ -x "$browser" ] || need+=(chromium)
fc-list 2>/dev/null | grep -qi "wenquanyi\|noto sans cjk" || need+=(fonts-wqy-zenhei)
if [ "${#need[@]}" -gt 0 ]; then
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    echo "missing ${need[*]}: install them (apt-get install ${need[*]}) or set CUSTCLASS_CHROMIUM" >&2
    exit 1
  fi
  echo "installing ${need[*]} from Debian's packages" >&2
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}") >&2
fi
echo "$browser"
