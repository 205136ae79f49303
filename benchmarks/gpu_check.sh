#!/usr/bin/env bash
# The prepared GPU check of issue 15: one run on one GPU machine (an H200, 16 cores) within
# 10 minutes, its figures as JSON under $OUT (gpu_check.json sums them up):
#   OUT=/some/dir bash benchmarks/gpu_check.sh              # on the GPU machine
#   OUT=/tmp/check bash benchmarks/gpu_check.sh --dry_run   # anywhere: tiny sizes on the CPU, same code
# Steps, each with its own time limit (a step that runs out leaves the others' figures):
#   1. the GPU and TensorFlow; input images/s, raw JPEGs vs the resized cache; PEAR and CE
#      train steps in float32, bfloat16, bfloat16+XLA (ResNet50, 224 px, batch 128)   ≤ 250 s
#   2. MirroredStrategy over 2 logical GPUs on the chip against one device            ≤ 45 s
#   3. a demo-sized run end to end: build the resized cache (≤ 40 s), then train,
#      evaluate and export from it (≤ 110 s)
#   4. one foundation encoder (benchmarks/foundation_check.py): DINOv2-small, 224 px, batch 64,
#      full / last-4-blocks / cached-features train steps, bfloat16+XLA first, then bfloat16
#      and float32 as time allows: images/s, peak memory, cached ÷ full              ≤ 90 s
#   5. the summary                                                                     ≤ 10 s
# 545 s in all at most (each limit includes TensorFlow's start-up).
# A dry run's figures are not GPU figures; gpu_check.json says they are still to be measured.
# It times the bfloat16+XLA step pair only, and its demo run exports nothing (CI's time).
set -uo pipefail
cd "$(dirname "$0")/.."
: "${OUT:?set OUT to the folder for the figures}"
PY=${PYTHON:-python}
DRY=""
[ "${1:-}" = "--dry_run" ] && DRY="--dry_run"
mkdir -p "$OUT"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
export TF_CPP_MIN_LOG_LEVEL=2

if [ -n "$DRY" ]; then
  DEMO_DATA=(--synthetic_sizes=64,16,8 --image_size=32)
  DEMO_TRAIN=(--recon_size=16 --batch_size=16 --epochs=1 --export=none)
  LIMITS=(600 600 600 600 60 600)       # no time budget on a CPU; the caller's own timeout holds
else
  DEMO_DATA=(--image_size=64)           # the demo set: 4800/300/600 synthetic images
  DEMO_TRAIN=(--epochs=3)
  LIMITS=(250 45 40 110 10 90)
fi

step() {  # step NAME LIMIT COMMAND...: runs it with a time limit, its output into $OUT/NAME.log
  local name=$1 limit=$2; shift 2
  local start=$SECONDS
  timeout --kill-after=10 "$limit" "$@" >"$OUT/$name.log" 2>&1
  local rc=$?
  echo "{\"rc\": $rc, \"wall_s\": $((SECONDS - start)), \"limit_s\": $limit}" >"$OUT/$name.status.json"
  echo "$name: exit $rc after $((SECONDS - start)) s (limit $limit s); log in $OUT/$name.log"
}

command -v nvidia-smi >/dev/null && nvidia-smi >"$OUT/nvidia_smi.txt" 2>&1
step sections "${LIMITS[0]}" "$PY" benchmarks/gpu_check.py --sections=device,input,step --out="$OUT" \
  --budget_s=$((LIMITS[0] - 15)) $DRY
step mirrored "${LIMITS[1]}" "$PY" benchmarks/gpu_check.py --sections=mirrored --out="$OUT" $DRY
step demo_build "${LIMITS[2]}" "$PY" -m pear_tf.data.build --format=resized --dataset=synthetic \
  "${DEMO_DATA[@]}" --cache_dir="$WORK/demo_cache"
step demo_train "${LIMITS[3]}" "$PY" -m pear_tf.train --flagfile=pipelines/demo.flags "${DEMO_DATA[@]}" \
  "${DEMO_TRAIN[@]}" --data_format=resized --cache_dir="$WORK/demo_cache" --model_dir="$WORK/demo_run" \
  --export_dir="$WORK/demo_export" --verbose=2
[ -f "$WORK/demo_run/eval_metrics.json" ] && cp "$WORK/demo_run/eval_metrics.json" "$OUT/demo_eval_metrics.json"
step foundation "${LIMITS[5]}" "$PY" benchmarks/foundation_check.py --out="$OUT" --budget_s=$((LIMITS[5] - 20)) $DRY
step summary "${LIMITS[4]}" "$PY" benchmarks/gpu_check.py --sections=summary --out="$OUT" $DRY
cat "$OUT/summary.log"
