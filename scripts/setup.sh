#!/usr/bin/env bash
# Installs everything Kiln needs on a fresh clone of this machine kind, and skips what is already there:
# Debian packages (gVisor's runsc from bookworm-backports, Chromium, Debian's Python with the kernel libraries, debootstrap,
# rsync for workspace image builds),
# npm dependencies, the generated Prisma client and the kernel sandbox image. Safe to run again.
# Each phase prints its elapsed time; its output goes to .kiln/logs/<phase>.log.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=phase.sh
source scripts/phase.sh

debian_packages=(
  chromium debootstrap
  # Workspace image builds: rsync (hard links to the base image) and util-linux's unshare.
  rsync util-linux
  python3-ipykernel python3-numpy python3-pandas python3-matplotlib python3-scipy python3-sklearn
  python3-tqdm python3-jupyter-client python3-jupyter-server python3-nbformat
  python3-fastapi python3-uvicorn
)
missing=()
for p in "${debian_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
install_debian() {
  local sudo_cmd=()
  [ "$(id -u)" = 0 ] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y --no-install-recommends "$@"
}
if ((${#missing[@]})); then
  phase debian "Debian packages (${missing[*]})" install_debian "${missing[@]}"
fi

# gVisor from bookworm-backports (systrap, nvproxy, faster checkpoints); pins only runsc to backports.
if [ "$(id -u)" = 0 ]; then bash scripts/install-runsc.sh; else sudo bash scripts/install-runsc.sh; fi

# npm ci only when package-lock.json changed since the last install. ci installs exactly the lockfile
# and never rewrites it, so a first start leaves `git status` clean.
lock_hash=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ ! -f node_modules/.kiln-lock-hash ] || [ "$(cat node_modules/.kiln-lock-hash)" != "$lock_hash" ]; then
  phase npm "npm dependencies" npm ci --no-audit --no-fund --loglevel=error
  echo "$lock_hash" > node_modules/.kiln-lock-hash
fi

# The client is regenerated only when schema.prisma is newer than it.
if [ ! -f packages/db/src/generated/prisma/client.ts ] ||
  [ packages/db/prisma/schema.prisma -nt packages/db/src/generated/prisma/client.ts ]; then
  phase prisma "Prisma client" node --import tsx packages/db/src/cli.ts generate
fi

if [ -x scripts/build-sandbox-image.sh ]; then
  if ! scripts/build-sandbox-image.sh --check >/dev/null 2>&1; then
    phase image "kernel sandbox image (about 1.4 GB under ${KILN_IMAGE_CACHE:-/var/cache/kiln/images}; minutes the first time)" \
      scripts/build-sandbox-image.sh
  fi
fi
