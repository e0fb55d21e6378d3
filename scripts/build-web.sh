#!/usr/bin/env bash
# Builds the web app (next build) only when a source it compiles from changed since the last build.
# --print-hash prints the hash of those sources and exits.
#
# The hash covers only source files git knows about (tracked, or new and not ignored) under apps/web and
# packages, plus the lockfile and root configs. Files a build writes itself (next-env.d.ts, .next/, the
# generated Prisma client) are ignored by git, so a build never invalidates its own stamp; the stamp
# lives in .kiln/, outside everything hashed.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p .kiln

source_files() {
  if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    git ls-files -z --cached --others --exclude-standard -- apps/web packages package-lock.json package.json tsconfig.base.json
  else
    # Not a git checkout (an unpacked archive): every source file except what builds write.
    find apps/web packages package-lock.json package.json tsconfig.base.json \
      \( -name node_modules -o -name .next -o -name generated -o -name next-env.d.ts \) -prune -o -type f -print0
  fi
}

# A tracked file deleted in the working tree is still listed by git; hash what exists.
web_hash=$(source_files | sort -z | while IFS= read -r -d '' file; do
  [ -f "$file" ] && printf '%s\0' "$file"
done | xargs -0 sha256sum | sha256sum | cut -d' ' -f1)

if [ "${1:-}" = --print-hash ]; then
  echo "$web_hash"
  exit 0
fi
if [ -f apps/web/.next/BUILD_ID ] && [ "$(cat .kiln/web-build-hash 2>/dev/null)" = "$web_hash" ]; then
  exit 0
fi
# shellcheck source=phase.sh
source scripts/phase.sh
next_build() { (cd apps/web && npx --no-install next build); }
phase build "web app build (minutes the first time)" next_build
echo "$web_hash" > .kiln/web-build-hash
