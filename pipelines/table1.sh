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
# Environment: PYTHON (default python), TABLE1_OUT, TABLE1_JOBS (default 1): train up to that
# many rows at a time after the prior, each logging to its folder's train.log (bash 5.1+).
# It is for the CPU smoke or several GPUs' worth of work: every row sees every visible GPU,
# so on one GPU leave it at 1.
set -euo pipefail

usage() { echo "usage: $0 DATA_ROOT [--smoke]" >&2; exit 2; }
[[ $# -ge 1 ]] || usage
DATA_ROOT=$(realpath -m "$1")  # absolute: the script runs from the repository root
SMOKE=0
[[ ${2:-} == "--smoke" ]] && SMOKE=1
[[ $# -le 2 && ( $# -eq 1 || $SMOKE -eq 1 ) ]] || usage
JOBS=${TABLE1_JOBS:-1}
if [[ ! $JOBS =~ ^[1-9][0-9]*$ ]]; then
  echo "error: TABLE1_JOBS must be a whole number of rows at a time, 1 or more, not '$JOBS'" >&2; exit 2
fi
# wait -n -p (which row finished) is bash 5.1's
if (( JOBS > 1 && BASH_VERSINFO[0] * 100 + BASH_VERSINFO[1] < 501 )); then
  echo "error: TABLE1_JOBS>1 needs bash 5.1 or later" >&2; exit 2
fi

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

run_row() {  # run_row DATASET ROW: trains the row into $OUT/DATASET/ROW, timed
  local dataset=$1 row=$2 run_dir="$OUT/$1/$2" extra=()
  grep -q "^--prior_checkpoint=runs" "pipelines/table1/${dataset}_${row}.flags" && extra+=(--prior_checkpoint="$PRIOR")
  timed "$run_dir" "$PYTHON" -m pear_tf.train --flagfile="pipelines/table1/${dataset}_${row}.flags" "${SMOKE_FLAGS[@]}" \
    --data_dir="$DATA_ROOT/${dataset^^}" --model_dir="$run_dir" --export_dir="$OUT/savedmodels/${dataset}_${row}" \
    "${extra[@]}"
}

# TABLE1_JOBS>1: rows train in the background; the pid of each is a key of running.
declare -A running=()
failed=()
reap() {  # reap: waits for one background row to finish and says how it went
  local pid status=0
  wait -n -p pid "${!running[@]}" || status=$?  # checked here: set -e does not see a background row fail
  local name=${running[$pid]}
  unset "running[$pid]"
  if (( status == 0 )); then
    echo "=== $name: finished in $(cat "$OUT/${name/ //}/wall_time_s")s"
  else
    echo "=== $name: FAILED (exit status $status)"
    failed+=("$name")
  fi
}

for dataset in ava aadb; do
  for row in ce nima uiaa pear pear_lambda0 pear_no_prior; do
    run_dir="$OUT/$dataset/$row"
    [[ -f $run_dir/eval_metrics.json ]] && { echo "=== $dataset $row: done already"; continue; }
    if (( JOBS == 1 )); then
      echo "=== $dataset $row"
      run_row "$dataset" "$row"
      continue
    fi
    while (( ${#running[@]} >= JOBS )); do reap; done
    (( ${#failed[@]} == 0 )) || break 2  # as a sequential run would, start no more rows after a failure
    echo "=== $dataset $row (log: $run_dir/train.log)"
    mkdir -p "$run_dir"
    # Background jobs ignore SIGINT in a script; undo that so Ctrl-C stops the rows as well.
    ( trap - INT QUIT; run_row "$dataset" "$row" ) > "$run_dir/train.log" 2>&1 &
    running[$!]="$dataset $row"
  done
done
while (( ${#running[@]} > 0 )); do reap; done
if (( ${#failed[@]} > 0 )); then
  for name in "${failed[@]}"; do
    echo "--- $name: the last 40 lines of $OUT/${name/ //}/train.log"
    tail -n 40 "$OUT/${name/ //}/train.log"
  done >&2
  printf -v names '%s, ' "${failed[@]}"
  echo "error: ${names%, } failed (logs above); table1.md not written" >&2
  exit 1
fi

smoke_flag=()
[[ $SMOKE -eq 1 ]] && smoke_flag=(--smoke)
"$PYTHON" -m pear_tf.table1 --runs="$OUT" --output="$OUT/table1.md" "${smoke_flag[@]}"
