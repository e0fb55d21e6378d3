#!/usr/bin/env bash
# Takes the README's screenshots of the main screens (landing, notebook, IDE with a terminal,
# history, members) with Playwright against a freshly started app, into docs/screenshots/.
# Needs what e2e needs (Postgres, runsc, Debian's Chromium); PNGs are quantized when pngquant exists.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build-web.sh
(cd e2e && npx playwright test --config screenshots.config.ts)
if command -v pngquant >/dev/null; then
  pngquant --force --skip-if-larger --quality 70-95 --ext .png docs/screenshots/*.png || true
fi
ls -l docs/screenshots/*.png
