#!/usr/bin/env bash
# Builds a workspace image: Kiln's base image plus Debian and Python packages.
#
#   build-layer.sh BASE_DIR OUT_DIR [--debian PKG...] [--python REQ...]
#   env: KILN_PIP_INDEX_URL (required with --python)
#
# How: an overlay (lowerdir = the read-only base image) is mounted in a private mount and PID namespace,
# apt-get and pip run chrooted into it on the HOST network namespace (the build may use the network,
# including a package index on this host's loopback; kernels never get a network), then the result is
# copied to OUT_DIR with rsync --link-dest=BASE_DIR: files the build did not touch are hard links to
# the base image, so an image costs only what its packages add. Nothing ever writes through those links:
# the build writes to the overlay's upper dir, and kernels mount images read-only.
# Killing this script (its process group) ends every process of the build, and the kernel drops the
# namespace's mounts with them: no stale mounts after a timeout.
# Apt uses the machine's own apt configuration (/etc/apt, bind-mounted read-only), so packages come
# from the same sources as the host's.
set -euo pipefail

if [[ -z "${KILN_LAYER_IN_NS:-}" ]]; then
  export KILN_LAYER_IN_NS=1
  exec unshare --mount --pid --fork --kill-child --propagation private "$0" "$@"
fi

base="$1"
out="$2"
shift 2
debian=()
python=()
list=""
for arg in "$@"; do
  case "$arg" in
    --debian) list=debian ;;
    --python) list=python ;;
    -*) echo "unknown option $arg" >&2; exit 2 ;;
    *) if [[ "$list" == debian ]]; then debian+=("$arg"); elif [[ "$list" == python ]]; then python+=("$arg"); else exit 2; fi ;;
  esac
done
if [[ ! -f "$base/.kiln-image-complete" ]]; then
  echo "base image $base is not a complete Kiln image" >&2
  exit 1
fi
if (( ${#python[@]} > 0 )) && [[ -z "${KILN_PIP_INDEX_URL:-}" ]]; then
  echo "Python packages need a package index: the operator sets KILN_PIP_INDEX_URL on the kernel gateway" >&2
  exit 1
fi

work="$out.building"
rm -rf "$work"
mkdir -p "$work/upper" "$work/work" "$work/root" "$work/out"
root="$work/root"
mount -t overlay overlay -o "lowerdir=$base,upperdir=$work/upper,workdir=$work/work" "$root"
mount -t proc proc "$root/proc"
mount -t tmpfs -o mode=0755 tmpfs "$root/dev"
for node in null zero full random urandom tty; do
  touch "$root/dev/$node"
  mount --bind "/dev/$node" "$root/dev/$node"
done
mkdir -p "$root/dev/pts"
mount -t devpts -o newinstance,ptmxmode=0666 devpts "$root/dev/pts"
ln -s pts/ptmx "$root/dev/ptmx"
mount -t tmpfs -o mode=1777 tmpfs "$root/tmp"
mount --bind /etc/apt "$root/etc/apt"
mount -o remount,bind,ro "$root/etc/apt"
cp /etc/resolv.conf "$root/etc/resolv.conf"
printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
chmod +x "$root/usr/sbin/policy-rc.d"

in_root() { chroot "$root" /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root DEBIAN_FRONTEND=noninteractive LANG=C.UTF-8 "$@"; }

apt_packages=("${debian[@]}")
# pip itself, when Python packages are asked for and the base image has none.
if (( ${#python[@]} > 0 )) && ! in_root python3 -m pip --version >/dev/null 2>&1; then
  apt_packages+=(python3-pip)
fi
if (( ${#apt_packages[@]} > 0 )); then
  echo "== apt-get install ${apt_packages[*]}"
  in_root apt-get update
  in_root apt-get install -y --no-install-recommends "${apt_packages[@]}"
  in_root apt-get clean
fi
if (( ${#python[@]} > 0 )); then
  echo "== pip install ${python[*]}"
  pip_args=(--no-cache-dir --disable-pip-version-check --root-user-action=ignore --break-system-packages --index-url "$KILN_PIP_INDEX_URL")
  # An http index named by the operator is trusted as configured (pip ignores it otherwise).
  if [[ "$KILN_PIP_INDEX_URL" == http://* ]]; then
    host="${KILN_PIP_INDEX_URL#http://}"
    host="${host%%/*}"
    pip_args+=(--trusted-host "${host%%:*}")
  fi
  in_root python3 -m pip install "${pip_args[@]}" "${python[@]}"
  # Kernels cannot write __pycache__ into the read-only image.
  in_root python3 -m compileall -q /usr/local/lib >/dev/null 2>&1 || true
fi

echo "== finishing image"
rm -f "$root/usr/sbin/policy-rc.d" "$root/etc/resolv.conf"
rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/var/cache/apt/archives/*.deb "$root"/root/.cache
umount "$root/etc/apt" "$root/tmp"
for node in null zero full random urandom tty; do umount "$root/dev/$node"; done
umount "$root/dev/pts" "$root/dev" "$root/proc"
rsync -aH --numeric-ids --link-dest="$base" "$root/" "$work/out/"
umount "$root"
mv "$work/out" "$out.ready"
rm -rf "$work"
mv "$out.ready" "$out"
echo "== image ready"
