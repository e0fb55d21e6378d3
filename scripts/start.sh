#!/usr/bin/env bash
# Runs Kiln: sets up what is missing, starts the embedded Postgres when DATABASE_URL is unset, applies
# migrations, builds the web app when its sources changed, then runs the web app (http://localhost:3000)
# and the kernel gateway (and, without STRIPE_SECRET_KEY, Kiln's local Stripe server) under
# scripts/supervise.ts, which restarts any of them if it crashes, until Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
mkdir -p .kiln
# Secrets (database password, gateway token) and the database itself live here: this user only.
chmod 700 .kiln
# shellcheck source=phase.sh
source scripts/phase.sh
started_at=$SECONDS

bash scripts/setup.sh

db_pid=
cleanup() {
  trap - EXIT INT TERM
  [ -n "$db_pid" ] && kill -TERM "$db_pid" 2>/dev/null && wait "$db_pid" 2>/dev/null
  true
}
trap cleanup EXIT INT TERM

start_embedded_db() {
  [ -s .kiln/db-password ] || (umask 077; head -c 32 /dev/urandom | base64 | tr -d '/+=' > .kiln/db-password)
  node --import tsx packages/db/src/cli.ts embedded --migrate --data-dir "$root/.kiln/pgdata" --port "$db_port" \
    --password-file "$root/.kiln/db-password" > .kiln/logs/db.log 2>&1 &
  db_pid=$!
  for _ in $(seq 1 1200); do
    grep -q 'ready at' .kiln/logs/db.log 2>/dev/null && return 0
    kill -0 "$db_pid" 2>/dev/null || { echo "embedded Postgres exited" >&2; cat .kiln/logs/db.log >&2; return 1; }
    sleep 0.1
  done
  echo "embedded Postgres did not start within 120 s" >&2
  return 1
}

if [ -z "${DATABASE_URL:-}" ]; then
  db_port=${KILN_DB_PORT:-54329}
  # Not through phase(): the database keeps running in the background after this step.
  printf 'kiln: database (embedded Postgres, data in .kiln/pgdata)...\n'
  db_started=$SECONDS
  start_embedded_db
  export DATABASE_URL="postgresql://postgres:$(cat .kiln/db-password)@127.0.0.1:${db_port}/postgres"
  printf 'kiln: database up at 127.0.0.1:%s in %d s (migrations applied; password in .kiln/db-password)\n' "$db_port" $((SECONDS - db_started))
else
  # The embedded database applies migrations as it starts (--migrate); a given one gets them here.
  phase migrate "database migrations" node --import tsx packages/db/src/cli.ts migrate --url "$DATABASE_URL"
fi

bash scripts/build-web.sh

if [ -z "${KILN_GATEWAY_TOKEN:-}" ]; then
  [ -f .kiln/gateway-token ] || (umask 077; head -c 32 /dev/urandom | base64 | tr -d '/+=' > .kiln/gateway-token)
  KILN_GATEWAY_TOKEN=$(cat .kiln/gateway-token)
fi
export KILN_GATEWAY_TOKEN
if [ -z "${KILN_SECRETS_KEY:-}" ]; then
  [ -f .kiln/secrets.key ] || (umask 077; head -c 32 /dev/urandom | base64 > .kiln/secrets.key)
  KILN_SECRETS_KEY=$(cat .kiln/secrets.key)
fi
export KILN_SECRETS_KEY
gateway_port=${GATEWAY_PORT:-8888}
web_port=${PORT:-3000}
export KERNEL_GATEWAY_URL=${KERNEL_GATEWAY_URL:-http://127.0.0.1:${gateway_port}}

# Without a Stripe key, billing talks to Kiln's local Stripe server (its Checkout page completes an
# upgrade without payment), which delivers signed webhooks to this web app and keeps its state in .kiln.
stripe_local=()
if [ -z "${STRIPE_SECRET_KEY:-}" ]; then
  stripe_port=${STRIPE_LOCAL_PORT:-12111}
  export STRIPE_API_URL=${STRIPE_API_URL:-http://127.0.0.1:${stripe_port}}
  export STRIPE_WEBHOOK_SECRET=${STRIPE_WEBHOOK_SECRET:-whsec_kiln_local_development}
  stripe_local=(--process "stripe=env STRIPE_LOCAL_PORT=$stripe_port KILN_WEBHOOK_URL=http://127.0.0.1:${web_port}/api/stripe/webhook STRIPE_LOCAL_STATE_FILE=$(printf %q "$root/.kiln/stripe-local.json") node --import tsx packages/stripe-local/src/cli.ts")
fi

printf 'kiln: setup took %d s; starting the kernel gateway%s and the web app\n' $((SECONDS - started_at)) \
  "$([ ${#stripe_local[@]} -gt 0 ] && printf ', the local Stripe server')"
node --import tsx scripts/supervise.ts \
  "${stripe_local[@]}" \
  --process "gateway=env PORT=$gateway_port KILN_STATE_DIR=$(printf %q "${KILN_STATE_DIR:-$root/.kiln/gateway}") node --import tsx apps/kernel-gateway/src/main.ts" \
  --process "web=env NODE_ENV=production NEXT_TELEMETRY_DISABLED=1 PORT=$web_port node --import tsx apps/web/src/server.ts" \
  --ready "web=http://127.0.0.1:${web_port}/sign-in=web app on http://localhost:${web_port}"
# In the foreground: Ctrl-C reaches the supervisor, which stops both children; bash then runs cleanup.
