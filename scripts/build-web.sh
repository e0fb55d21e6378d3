#!/usr/bin/env bash
# Builds the web app (next build) only when a source it compiles from changed since the last build.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p .kiln
web_hash=$(find apps/web packages -path '*/node_modules' -prune -o -path '*/.next' -prune -o \
  -path '*/generated' -prune -o -type f \( -name '*.ts' -o -name '*.tsx' -o -name '*.css' -o -name '*.json' -o -name '*.mjs' \) \
  -print0 | sort -z | xargs -0 sha256sum | sha256sum | cut -d' ' -f1)
if [ -f apps/web/.next/BUILD_ID ] && [ "$(cat .kiln/web-build-hash 2>/dev/null)" = "$web_hash" ]; then
  exit 0
fi
echo "kiln: building the web app"
if ! (cd apps/web && npx --no-install next build >../../.kiln/web-build.log 2>&1); then
  tail -60 .kiln/web-build.log
  exit 1
fi
echo "$web_hash" > .kiln/web-build-hash
