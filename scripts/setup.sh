#!/usr/bin/env bash
# Installs everything Kiln needs on a fresh clone of this machine kind, and skips what is already there:
# Debian packages (gVisor's runsc from bookworm-backports, Chromium, Debian's Python with the kernel libraries, debootstrap),
# npm dependencies, the generated Prisma client and the kernel sandbox image. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf 'kiln setup: %s\n' "$*"; }

debian_packages=(
  chromium debootstrap
  python3-ipykernel python3-numpy python3-pandas python3-matplotlib python3-scipy python3-sklearn
  python3-tqdm python3-jupyter-client python3-jupyter-server python3-nbformat
)
missing=()
for p in "${debian_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  log "installing Debian packages: ${missing[*]}"
  sudo_cmd=(); [ "$(id -u)" = 0 ] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# gVisor from bookworm-backports (systrap, nvproxy, faster checkpoints); pins only runsc to backports.
if [ "$(id -u)" = 0 ]; then bash scripts/install-runsc.sh; else sudo bash scripts/install-runsc.sh; fi

# npm install only when package-lock.json changed since the last install.
lock_hash=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ ! -f node_modules/.kiln-lock-hash ] || [ "$(cat node_modules/.kiln-lock-hash)" != "$lock_hash" ]; then
  log "installing npm dependencies"
  # npm ci refuses this lockfile: npm 11 leaves out other platforms' optional binaries (biome, turbo).
  npm install --no-audit --no-fund --loglevel=error
  sha256sum package-lock.json | cut -d' ' -f1 > node_modules/.kiln-lock-hash
fi

node --import tsx packages/db/src/cli.ts generate

if [ -x scripts/build-sandbox-image.sh ]; then
  scripts/build-sandbox-image.sh
fi
