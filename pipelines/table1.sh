#!/usr/bin/env bash
# Reproduce the paper's Table 1: every row on AVA and AADB, then table1.md.
#
#   pipelines/table1.sh DATA_ROOT            # DATA_ROOT/AVA and DATA_ROOT/AADB as distributed; GPUs
#   pipelines/table1.sh DATA_ROOT --smoke    # writes synthetic AVA/AADB layouts into DATA_ROOT; CPU, minutes
#
# Rows (flagfiles in pipelines/table1/): the CE, NIMA and UIAA baselines on PEAR's backbone,
# PEAR, and the ablations λ=0 and no prior, each on AVA and AADB. The AVA PEAR rows use the
# prior network pre-trained on AADB, trained first. Each run's folder is
# $TABLE1_OUT/<ava|aadb>/<row> (default runs/table1); a row that already has
# eval_metrics.json is not run again, and an interrupted row resumes from its checkpoint.
# Environment: PYTHON (default python), TABLE1_OUT.
set -euo pipefail

usage() { echo "usage: $0 DATA_ROOT [--smoke]" >&2; exit 2; }
[[ $# -ge 1 ]] || usage
DATA_ROOT=$(realpath -m "$1")  # absolute: the script runs from the repository root
SMOKE=0
[[ ${2:-} == "--smoke" ]] && SMOKE=1
[[ $# -le 2 && ( $# -eq 1 || $SMOKE -eq 1 ) ]] || usage

PYTHON=${PYTHON:-python}
OUT=$(realpath -m "${TABLE1_OUT:-runs/table1}")
cd "$(dirname "$0")/.."
mkdir -p "$OUT"

SIZES=()
SMOKE_FLAGS=()
SMOKE_PRIOR_FLAGS=()
if [[ $SMOKE -eq 1 ]]; then
  for layout in ava aadb; do
    dir="$DATA_ROOT/${layout^^}"
    [[ -d $dir ]] || "$PYTHON" -m pear_tf.data.synthetic --layout="$layout" --out="$dir" --sizes=160,24,48 --image_size=32
  done
  SMOKE_FLAGS=(--flagfile=pipelines/table1/smoke.flags)
  SMOKE_PRIOR_FLAGS=(--flagfile=pipelines/table1/smoke_prior.flags)
fi
for needed in AVA AADB; do
  [[ -d "$DATA_ROOT/$needed" ]] || { echo "error: no $DATA_ROOT/$needed (the $needed data set as distributed)" >&2; exit 1; }
done

timed() {  # timed RUN_DIR COMMAND...: runs it, records its wall time in RUN_DIR/wall_time_s
  local run_dir=$1; shift
  local start; start=$(date +%s%N)
  "$@"
  local ns=$(( $(date +%s%N) - start ))
  mkdir -p "$run_dir"
  printf "%d.%03d\n" $(( ns / 1000000000 )) $(( ns / 1000000 % 1000 )) > "$run_dir/wall_time_s"
}

PRIOR="$OUT/prior_aadb"
if [[ ! -f $PRIOR/prior_metrics.json ]]; then
  echo "=== prior network on AADB"
  timed "$PRIOR" "$PYTHON" -m pear_tf.train_prior --flagfile=pipelines/table1/prior_aadb.flags "${SMOKE_PRIOR_FLAGS[@]}" \
    --data_dir="$DATA_ROOT/AADB" --model_dir="$PRIOR"
fi

for dataset in ava aadb; do
  for row in ce nima uiaa pear pear_lambda0 pear_no_prior; do
    run_dir="$OUT/$dataset/$row"
    [[ -f $run_dir/eval_metrics.json ]] && { echo "=== $dataset $row: done already"; continue; }
    echo "=== $dataset $row"
    extra=()
    grep -q "^--prior_checkpoint=runs" "pipelines/table1/${dataset}_${row}.flags" && extra+=(--prior_checkpoint="$PRIOR")
    timed "$run_dir" "$PYTHON" -m pear_tf.train --flagfile="pipelines/table1/${dataset}_${row}.flags" "${SMOKE_FLAGS[@]}" \
      --data_dir="$DATA_ROOT/${dataset^^}" --model_dir="$run_dir" --export_dir="$OUT/savedmodels/${dataset}_${row}" \
      "${extra[@]}"
  done
done

smoke_flag=()
[[ $SMOKE -eq 1 ]] && smoke_flag=(--smoke)
"$PYTHON" -m pear_tf.table1 --runs="$OUT" --output="$OUT/table1.md" "${smoke_flag[@]}"
