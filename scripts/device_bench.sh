#!/usr/bin/env bash
# One command for a GPU machine that brings its own Python and torch (no `make setup` there): the benchmark on
# CUDA, a 30-epoch Fashion-MNIST run and a 10-epoch AudioSet-layout run with psla. Everything it prints is
# also saved under $OUT (the device tool brings that folder back; ./out/device when OUT is unset).
#
#   here:          scripts/device_prepare.sh            (data + wheels into .device/)
#   device tool:   run(command="bash scripts/device_bench.sh", carry=[".device"], timeout_s=600)
#
# Stages have their own time limits so that one slow stage cannot take the others' share of a 10-minute call.
#
# `bash scripts/device_bench.sh batched [ARGS]` runs only the batched-seeds measurement (issue 23; about 3-4
# minutes on a GPU): S = 1, 2, 4 seeds of Fashion-MNIST (6,000 instances, 3 epochs) as one stacked model vs one
# after another, random and grad_norm, median of 3; it prints separate/stacked ratios. CUDA when torch sees a
# GPU, else the CPU. ARGS go to scripts/batched_seeds_bench.py, e.g. a tiny check:
#   bash scripts/device_bench.sh batched --dataset digits --max-instances 0 --epochs 1 --seeds 1,2 --repeats 1
set -uo pipefail
cd "$(dirname "$0")/.."
MODE=${1:-all}
[ $# -gt 0 ] && shift
OUT=${OUT:-out/device}
mkdir -p "$OUT"
PY=${PYTHON:-python3}
export PYTHONUNBUFFERED=1 WEAKNEG_HOME=/tmp/weakneg_home WEAKNEG_DATA_ROOT=$PWD/.device/data
if ls .device/whl/*.whl >/dev/null 2>&1; then
  "$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site \
    .device/whl/*.whl || exit 1
  export PYTHONPATH=/tmp/site${PYTHONPATH:+:$PYTHONPATH}
fi
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv > "$OUT/gpu.txt" 2>&1

if [ "$MODE" = batched ]; then
  device=$("$PY" -c "import torch; print('cuda' if torch.cuda.is_available() else 'cpu')") || exit 1
  echo "== batched seeds on $device (at most 290s)"
  timeout 290 "$PY" scripts/batched_seeds_bench.py --device "$device" --threads 4 --json "$OUT/batched_seeds.json" \
    "$@" 2>&1 | tee "$OUT/batched_seeds.log"
  exit "${PIPESTATUS[0]}"
fi

"$PY" -c "import torch; assert torch.cuda.is_available(), 'torch sees no CUDA device'; \
print('torch', torch.__version__, torch.cuda.get_device_name())" 2>&1 | tee "$OUT/torch.txt" || exit 1

stage() {  # name, seconds, command...
  local name=$1 limit=$2; shift 2
  echo "== $name (at most ${limit}s)"
  local start=$SECONDS
  timeout "$limit" "$@" > "$OUT/$name.log" 2>&1
  local rc=$?
  tail -n 40 "$OUT/$name.log"
  echo "== $name: exit $rc after $((SECONDS - start))s"
}

# 1. the same figures on CUDA: model, scoring and our samplers on the GPU; the peers (CPU libraries) on one CPU
#    thread, BADGE peers at dim 170 only and without the original (both measured on the CPU run already)
stage bench_cuda 320 "$PY" -m weakneg bench --device cuda --peer-dims 170 --skip-original-badge \
  --out "$OUT/bench_cuda.json"
# 2. 30 epochs of Fashion-MNIST (all 70,000 images) with BADGE, maps of the last epoch saved
stage fashion_mnist_30 140 "$PY" -m weakneg run --dataset fashion_mnist --target-class 0 --sampler badge \
  --epochs 30 --device cuda --save-embeddings last --json
# 3. 10 epochs of PSLA on a generated AudioSet-layout folder (96 + 32 ten-second clips)
"$PY" scripts/audioset_layout.py /tmp/audioset --train 96 --eval 32 > "$OUT/audioset_layout.log" 2>&1
stage audioset_psla_10 90 "$PY" -m weakneg run --dataset audioset --data-root /tmp/audioset --model psla \
  --target-class Speech --sampler badge --epochs 10 --device cuda --save-embeddings none --json
