#!/usr/bin/env bash
# Runs every Kiln test: unit and integration tests (Vitest; real Postgres on 127.0.0.1:5432, real runsc
# sandboxes) and the browser suite (Playwright in Debian's Chromium against the built web app).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=phase.sh
source scripts/phase.sh

bash scripts/setup.sh

if ! pg_isready -q -h 127.0.0.1 -p 5432; then
  echo "kiln test: starting the local PostgreSQL"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql)" main start
fi

status=0
npx --no-install biome check . || status=$?
npx --no-install turbo run typecheck --output-logs=errors-only || status=$?
npx --no-install tsc -p scripts --noEmit || status=$?
# The benches are no workspace's typecheck: checked here so they keep compiling against the packages.
npx --no-install tsc -p bench --noEmit || status=$?
npx --no-install vitest run || status=$?

bash scripts/build-web.sh
(cd e2e && npx --no-install playwright test) || status=$?

exit $status
