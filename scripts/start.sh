#!/usr/bin/env bash
# Runs Kiln: sets up what is missing, starts the embedded Postgres when DATABASE_URL is unset, applies
# migrations, builds the web app when its sources changed, then runs the web app (http://localhost:3000)
# and the kernel gateway until Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
mkdir -p .kiln

bash scripts/setup.sh

pids=()
cleanup() {
  trap - EXIT INT TERM
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT INT TERM

if [ -z "${DATABASE_URL:-}" ]; then
  db_port=${KILN_DB_PORT:-54329}
  node --import tsx packages/db/src/cli.ts embedded --migrate --data-dir "$root/.kiln/pgdata" --port "$db_port" \
    > .kiln/db.log 2>&1 &
  pids+=($!)
  for _ in $(seq 1 300); do
    grep -q 'ready at' .kiln/db.log 2>/dev/null && break
    kill -0 "${pids[-1]}" 2>/dev/null || { cat .kiln/db.log; echo "kiln: embedded Postgres failed to start" >&2; exit 1; }
    sleep 0.1
  done
  export DATABASE_URL="postgresql://postgres@127.0.0.1:${db_port}/postgres"
  echo "kiln: embedded Postgres (data in .kiln/pgdata) at $DATABASE_URL"
fi

node --import tsx packages/db/src/cli.ts migrate --url "$DATABASE_URL"

bash scripts/build-web.sh

if [ -z "${KILN_GATEWAY_TOKEN:-}" ]; then
  [ -f .kiln/gateway-token ] || (umask 077; head -c 32 /dev/urandom | base64 | tr -d '/+=' > .kiln/gateway-token)
  KILN_GATEWAY_TOKEN=$(cat .kiln/gateway-token)
fi
export KILN_GATEWAY_TOKEN
export KERNEL_GATEWAY_URL=${KERNEL_GATEWAY_URL:-http://127.0.0.1:${GATEWAY_PORT:-8888}}

if [ -f apps/kernel-gateway/src/main.ts ]; then
  PORT=${GATEWAY_PORT:-8888} KILN_STATE_DIR=${KILN_STATE_DIR:-$root/.kiln/gateway} \
    node --import tsx apps/kernel-gateway/src/main.ts &
  pids+=($!)
fi

NODE_ENV=production node --import tsx apps/web/src/server.ts &
pids+=($!)
echo "kiln: web app on http://localhost:${PORT:-3000}"
wait -n "${pids[@]}"
