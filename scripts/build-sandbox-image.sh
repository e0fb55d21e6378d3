#!/usr/bin/env bash
# Builds the root filesystem that every Kiln kernel sandbox (runsc) runs on, from Debian packages only.
#
#   scripts/build-sandbox-image.sh            # build if missing, print the image dir
#   scripts/build-sandbox-image.sh --check    # print the image dir if built, else exit 1
#   KILN_IMAGE_CACHE=/elsewhere scripts/build-sandbox-image.sh
#
# The image lives OUTSIDE the repository, at $KILN_IMAGE_CACHE/<hash> (default /var/cache/kiln/images),
# where <hash> covers the recipe version below, packages.txt and the statx shim; a fresh clone on the same
# machine therefore reuses it. To add packages, edit apps/kernel-gateway/image/packages.txt (Debian
# package names) and rerun; the old image stays until removed by hand.
# Packages come from the Debian mirror this machine's own apt sources name for the suite
# (/etc/apt/sources.list.d/*.sources or *.list, /etc/apt/sources.list); KILN_IMAGE_MIRROR overrides it.
# Needs root and debootstrap (installed via apt under /tmp/kiln-apt.lock when missing). Takes a few
# minutes the first time (measured 2-4 min on the 2-core dev VM, mostly downloads; ~1.4 GB), then prints
# the cached path at once.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
packages_file="$repo/apps/kernel-gateway/image/packages.txt"
cache="${KILN_IMAGE_CACHE:-/var/cache/kiln/images}"
suite="${KILN_IMAGE_SUITE:-bookworm}"

# The first URI the machine's apt sources give for "$suite" itself (not -updates or -security).
apt_mirror() {
  local file
  for file in /etc/apt/sources.list.d/*.sources; do
    [ -f "$file" ] || continue
    # deb822: blank-line separated stanzas with Types:, URIs: and Suites: fields.
    awk -v suite="$suite" '
      function flush() { if (types ~ /(^| )deb( |$)/ && (" " suites " ") ~ (" " suite " ") && uris != "") { split(uris, u, " "); print u[1]; found = 1; exit } types = uris = suites = "" }
      /^[[:space:]]*$/ { flush(); next }
      /^#/ { next }
      tolower($1) == "types:" { $1 = ""; types = $0 }
      tolower($1) == "uris:" { $1 = ""; uris = $0 }
      tolower($1) == "suites:" { $1 = ""; suites = $0 }
      END { if (!found) flush() }
    ' "$file" | head -1
  done
  for file in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -f "$file" ] || continue
    # One-line form: deb [options] URI suite components...
    sed -E 's/\[[^]]*\]//' "$file" | awk -v suite="$suite" '$1 == "deb" && $3 == suite { print $2 }'
  done
}
mirror="${KILN_IMAGE_MIRROR:-$(apt_mirror | grep -m1 . || true)}"
mirror="${mirror%/}"

packages="$(grep -v '^\s*#' "$packages_file" | grep -v '^\s*$' | sort -u | paste -sd, -)"
shim="$repo/apps/kernel-gateway/image/statx-shim.c"
# Bump when the build steps below change what ends up in the image; editing comments must not force a
# rebuild on every machine, so the script itself is not hashed.
recipe_version=3
hash="$( (echo "$recipe_version $suite"; cat "$packages_file" "$shim") | sha256sum | cut -c1-16)"
image="$cache/$hash"

if [[ -f "$image/.kiln-image-complete" ]]; then
  echo "$image"
  exit 0
fi
[[ "${1:-}" == --check ]] && exit 1
if [[ -z "$mirror" ]]; then
  echo "no apt source on this machine names Debian $suite; set KILN_IMAGE_MIRROR to a Debian mirror URL" >&2
  exit 1
fi

mkdir -p "$cache"
exec 9>"$cache/.build.lock"
flock 9
# Someone else may have finished it while we waited for the lock.
if [[ -f "$image/.kiln-image-complete" ]]; then
  echo "$image"
  exit 0
fi

if ! command -v debootstrap >/dev/null; then
  echo "installing debootstrap" >&2
  flock /tmp/kiln-apt.lock sh -c 'apt-get install -y debootstrap || (apt-get update && apt-get install -y debootstrap)' >&2
fi

started=$(date +%s)
work="$cache/.build-$hash-$$"
rm -rf "$work"
trap 'rm -rf "$work"' EXIT
echo "building sandbox image $hash ($suite from $mirror: $packages)" >&2
# debootstrap's own resolver cannot pick providers of virtual packages (python3-zmq needs
# python3-cffi-backend-api-*), so it only lays down a minimal base and apt installs the rest.
debootstrap --variant=minbase "$suite" "$work" "$mirror" >&2
cp /etc/resolv.conf "$work/etc/resolv.conf"
printf '#!/bin/sh\nexit 101\n' >"$work/usr/sbin/policy-rc.d" && chmod +x "$work/usr/sbin/policy-rc.d"
chroot "$work" /usr/bin/env DEBIAN_FRONTEND=noninteractive apt-get update >&2
# shellcheck disable=SC2086
chroot "$work" /usr/bin/env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${packages//,/ } >&2
chroot "$work" apt-get clean
rm -f "$work/usr/sbin/policy-rc.d" "$work/etc/resolv.conf"

# A non-root user for kernels; uid 1000 owns nothing on the host that the sandbox can see.
chroot "$work" /usr/sbin/groupadd --gid 1000 kiln
chroot "$work" /usr/sbin/useradd --uid 1000 --gid 1000 --home-dir /workspace --no-create-home --shell /bin/bash kiln
# /usr/local/nvidia: where GPU sandboxes get the host's NVIDIA driver mounted (the root is read-only, so
# mount points must exist); older images lack it and the gateway refuses GPU kernels on them, saying so.
mkdir -p "$work/workspace" "$work/opt/kiln/agent" "$work/opt/kiln/channel" "$work/usr/local/nvidia"
# Work around this gVisor release's statx(AT_NO_AUTOMOUNT) bug for every program (see the shim's comment).
cp "$shim" "$work/tmp/statx-shim.c"
chroot "$work" gcc -shared -fPIC -O2 -o /usr/local/lib/kiln-statx-shim.so /tmp/statx-shim.c -ldl
rm "$work/tmp/statx-shim.c"
echo /usr/local/lib/kiln-statx-shim.so >"$work/etc/ld.so.preload"
# pip in a terminal installs for the user (~ is a tmpfs; the root is read-only): Debian's pip refuses any
# install outside a venv (PEP 668) unless told that is intended.
printf '[global]\nbreak-system-packages = true\n' >"$work/etc/pip.conf"
# The image is mounted read-only; drop what a kernel never needs to keep it small.
rm -rf "$work"/var/cache/apt/archives/*.deb "$work"/var/lib/apt/lists/* "$work"/usr/share/doc/* "$work"/usr/share/man/*
# Byte-compile so no kernel tries to write __pycache__ into the read-only root.
chroot "$work" /usr/bin/python3 -m compileall -q /usr/lib/python3/dist-packages /usr/lib/python3.11 >/dev/null 2>&1 || true
# Fonts cache for matplotlib, built once here instead of in every kernel.
chroot "$work" /usr/bin/env MPLCONFIGDIR=/opt/kiln/mpl /usr/bin/python3 -c 'import matplotlib.pyplot' >&2
chmod -R a+rX "$work/opt/kiln"

echo "$hash" >"$work/.kiln-image-complete"
rm -rf "$image"
mv "$work" "$image"
trap - EXIT
echo "built $image in $(( $(date +%s) - started )) s" >&2
echo "$image"
