#!/usr/bin/env bash
# Starts a GPU kernel on this host (root, NVIDIA GPU, runsc with nvproxy) and checks nvidia-smi and the
# CUDA device count from inside its sandbox. Exit 0 pass, 1 fail, 2 no GPU here.
#   scripts/gpu-check.sh [--out bench/results/gpu-check.md]
set -euo pipefail
cd "$(dirname "$0")/.."
exec node --import tsx apps/kernel-gateway/scripts/gpu-check.ts "$@"
