#!/usr/bin/env bash
# Browser tests of the public pages: Debian's Chromium driven by playwright-core against the demo server.
# Needs target/debug/tongban (cargo build -p tongban-cli; or set TONGBAN_BIN) and /usr/bin/chromium
# (apt-get install -y chromium). Screenshots land in tests/browser/artifacts/.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
npm ci --no-audit --no-fund --loglevel=error
node --test
