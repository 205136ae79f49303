#!/usr/bin/env bash
# The personalisation check of issue 23: two independent generators of people, 5 seeds each,
# the FLICKR-AES protocol (CPU; about 10 minutes a seed on 2 busy cores).
#
#   pipelines/personal_check.sh [OUT] [SEEDS]     # default OUT=runs/personal_check, SEEDS="0 1 2 3 4"
#
# Per generator (synthetic = pear_tf.data.synthetic's attribute tastes, scenes =
# pear_tf.data.scenes's content, palette, contrarian and noisy people) and seed:
# 1. writes the set in FLICKR-AES's layout (3,000 generic photos, 37 test workers x 150);
# 2. trains a demo-sized generic PEAR on the photos no test worker rated (pear_tf.train,
#    demo.flags, 20 epochs, the prior network of step 0);
# 3. fits the taste space and the population prior on the training workers
#    (python -m pear_tf.fit_population);
# 4. runs the protocol (python -m pear_tf.evaluate_personal, 10 trials, k = 10 and 100).
# Step 0 pre-trains one demo-sized prior network on the synthetic AADB-like set, shared by all.
# Then prints the table over seeds (mean and spread), also per kind of person.
# Environment: PYTHON (default python), GENERATORS (default "synthetic scenes").
set -euo pipefail

PYTHON=${PYTHON:-python}
OUT=$(realpath -m "${1:-runs/personal_check}")
SEEDS=${2:-0 1 2 3 4}
GENERATORS=${GENERATORS:-synthetic scenes}
cd "$(dirname "$0")/.."
mkdir -p "$OUT"

if [[ ! -f $OUT/prior/prior_metrics.json ]]; then
  "$PYTHON" -m pear_tf.train_prior --flagfile=pipelines/demo.flags --dataset=synthetic --epochs=15 \
    --model_dir="$OUT/prior" --verbose=2
fi
for generator in $GENERATORS; do
  for seed in $SEEDS; do
    run=$OUT/$generator/seed$seed
    if [[ ! -f $run/data/FLICKR-AES_image_labeled_by_each_worker.csv ]]; then
      if [[ $generator == synthetic ]]; then
        "$PYTHON" -m pear_tf.synthetic_data --layout=flickr_aes --out="$run/data" --image_size=64 \
          --personal_sizes=3000,37,150 --seed="$seed"
      else
        "$PYTHON" -m pear_tf.scenes_data --out="$run/data" --image_size=64 --sizes=3000,37,150 --seed="$seed"
      fi
    fi
    if [[ ! -f $run/generic/eval_metrics.json ]]; then
      "$PYTHON" -m pear_tf.train --flagfile=pipelines/demo.flags --epochs=20 --dataset=flickr_aes \
        --data_dir="$run/data" --prior_checkpoint="$OUT/prior" --seed="$seed" --model_dir="$run/generic" \
        --export_dir="$run/savedmodels/generic" --verbose=2
    fi
    "$PYTHON" -m pear_tf.fit_population --model="$run/savedmodels/generic" --data_dir="$run/data"
    "$PYTHON" -m pear_tf.evaluate_personal --model="$run/savedmodels/generic" --dataset=flickr_aes \
      --data_dir="$run/data" --shots=10,100 --trials=10 --output_dir="$run/protocol"
  done
done

# The table: per generator and k, mean over seeds of the mean per-user SRCC (± std over seeds),
# the gain with its per-seed bootstrap CIs, the share of users hurt; per kind of person on scenes.
"$PYTHON" - "$OUT" $GENERATORS <<'PY'
import glob, json, os, sys
import numpy as np
out, generators = sys.argv[1], sys.argv[2:]
print("| generator | k | seeds | generic | personal | gain (± std over seeds) | gain min..max over seeds | per-seed 95% CIs of the gain | users hurt (< −0.02): mean (min..max) | fits kept generic |")
print("|---|---|---|---|---|---|---|---|---|---|")
kinds = {}
for generator in generators:
    runs = sorted(glob.glob(os.path.join(out, generator, "seed*", "protocol", "personal_eval.json")))
    reports = [json.load(open(r)) for r in runs]
    for k in ("10", "100"):
        s = [r["results"][k]["summary"] for r in reports]
        get = lambda f: np.array([f(x) for x in s])
        g, p, gain = get(lambda x: x["generic"]["mean"]), get(lambda x: x["personal"]["mean"]), get(lambda x: x["gain"]["mean"])
        hurt, kept = get(lambda x: x["gain"]["hurt_share"]), get(lambda x: x["generic_chosen"])
        cis = " ".join(f"[{x['gain']['ci95'][0]:+.3f},{x['gain']['ci95'][1]:+.3f}]" for x in s)
        print(f"| {generator} | {k} | {len(s)} | {g.mean():.3f} ± {g.std():.3f} | {p.mean():.3f} ± {p.std():.3f} | "
              f"{gain.mean():+.3f} ± {gain.std():.3f} | {gain.min():+.3f}..{gain.max():+.3f} | {cis} | "
              f"{hurt.mean():.0%} ({hurt.min():.0%}..{hurt.max():.0%}) | {kept.mean():.0%} |")
    for run, report in zip(runs, reports):
        people_file = os.path.join(os.path.dirname(os.path.dirname(run)), "data", "scenes_people.json")
        if not os.path.exists(people_file):
            continue
        people = json.load(open(people_file))["people"]
        for k in ("10", "100"):
            for worker, r in report["results"][k]["workers"].items():
                kinds.setdefault((people[worker]["kind"], k), []).append(r["gain"])
if kinds:
    print("\n| scenes: kind of person | k | users (all seeds) | mean gain | users hurt (< −0.02) |")
    print("|---|---|---|---|---|")
    for (kind, k), gains in sorted(kinds.items()):
        gains = np.array(gains)
        print(f"| {kind} | {k} | {len(gains)} | {gains.mean():+.3f} | {np.mean(gains < -0.02):.0%} |")
PY
