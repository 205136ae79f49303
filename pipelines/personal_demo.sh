#!/usr/bin/env bash
# Personalisation demo on the synthetic FLICKR-AES-like set (CPU, about 40 minutes on 2 busy cores).
#
#   pipelines/personal_demo.sh [OUT]        # default OUT=runs/personal_demo
#
# 1. writes the synthetic set in FLICKR-AES's layout (workers with tastes of their own);
# 2. pre-trains a demo-sized prior network on the synthetic AADB-like set, so that the
#    generic model's 11 latents mean the named attributes (FLICKR-AES has no attribute labels);
# 3. trains a demo-sized generic PEAR on the images no test worker rated;
# 4. fits the taste space and the population prior on the training workers (fit_population);
# 5. personalises it to one synthetic test worker from 100 of their ratings, prints the SRCC
#    of the generic and the personal model on the worker's other images, writes taste.png;
# 6. runs the standard protocol (python -m pear_tf.evaluate_personal) over all test workers.
# Environment: PYTHON (default python), WORKER (default: the first test worker), SHOTS (100).
set -euo pipefail

PYTHON=${PYTHON:-python}
OUT=$(realpath -m "${1:-runs/personal_demo}")
SHOTS=${SHOTS:-100}
cd "$(dirname "$0")/.."
DATA=$OUT/data
mkdir -p "$OUT"

if [[ ! -f $DATA/FLICKR-AES_image_labeled_by_each_worker.csv ]]; then
  "$PYTHON" -m pear_tf.synthetic_data --layout=flickr_aes --out="$DATA" --image_size=64
fi
if [[ ! -f $OUT/prior/prior_metrics.json ]]; then
  "$PYTHON" -m pear_tf.train_prior --flagfile=pipelines/demo.flags --dataset=synthetic --epochs=15 \
    --model_dir="$OUT/prior"
fi
if [[ ! -f $OUT/generic/eval_metrics.json ]]; then
  "$PYTHON" -m pear_tf.train --flagfile=pipelines/demo.flags --dataset=flickr_aes --data_dir="$DATA" \
    --prior_checkpoint="$OUT/prior" --model_dir="$OUT/generic" --export_dir="$OUT/savedmodels/generic" --verbose=2
fi

"$PYTHON" -m pear_tf.fit_population --model="$OUT/savedmodels/generic" --data_dir="$DATA"

# One test worker: SHOTS of their images to adapt on (my_ratings.csv), the rest held out.
WORKER=${WORKER:-$(sed -n 2p pear_tf/data/flickr_aes_test_workers.csv)}
"$PYTHON" - "$DATA" "$WORKER" "$SHOTS" "$OUT" <<'PY'
import csv, os, sys
import numpy as np
from pear_tf.data import flickr_aes
from pear_tf.personal.protocol import trial_splits
data, worker, shots, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
workers, images, scores = flickr_aes.read_worker_ratings(os.path.join(data, flickr_aes.RATINGS_FILE))
rows = np.flatnonzero(workers == worker)
adapt, held_out = trial_splits(len(rows), shots, 1, seed=0)[0]
for name, index in (("my_ratings.csv", adapt), ("held_out.csv", held_out)):
    with open(os.path.join(out, name), "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["path", "score"])
        writer.writerows((os.path.join(data, flickr_aes.IMAGE_DIR, images[r]), int(scores[r])) for r in rows[index])
print(f"worker {worker}: {len(adapt)} ratings to adapt on, {len(held_out)} held out")
PY

"$PYTHON" -m pear_tf.personalize --model="$OUT/savedmodels/generic" --ratings="$OUT/my_ratings.csv" \
  --export_dir="$OUT/savedmodels/$WORKER" --score_range=1,5

"$PYTHON" - "$OUT" "$WORKER" <<'PY'
import csv, json, os, sys
from scipy import stats
from pear_tf.inference.saved_model import SavedModelScorer
out, worker = sys.argv[1], sys.argv[2]
with open(os.path.join(out, "held_out.csv")) as f:
    rows = list(csv.DictReader(f))
paths, truth = [r["path"] for r in rows], [float(r["score"]) for r in rows]
for name in ("generic", worker):
    scores = [r["score"] for r in SavedModelScorer(os.path.join(out, "savedmodels", name)).score_files(paths)]
    print(f"SRCC of the {'generic' if name == 'generic' else 'personal'} model on {worker}'s "
          f"{len(paths)} held-out images: {stats.spearmanr(scores, truth)[0]:.3f}")
with open(os.path.join(out, "data", "synthetic_tastes.json")) as f:
    truth_taste = json.load(f)["tastes"][worker]
print("true taste (deviation from the crowd's weights):",
      ", ".join(f"{k} {v:+.2f}" for k, v in sorted(truth_taste.items(), key=lambda kv: -abs(kv[1]))[:3]))
print("taste report:", os.path.join(out, "savedmodels", worker, "taste.png"))
PY

"$PYTHON" -m pear_tf.evaluate_personal --model="$OUT/savedmodels/generic" --dataset=flickr_aes --data_dir="$DATA" \
  --shots=10,100 --trials=10 --output_dir="$OUT/protocol"
