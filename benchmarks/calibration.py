"""What calibration does for trained runs (issue 27): the raters' scale, uncertainty against error, the flag.

    python benchmarks/calibration.py --runs=runs/a,runs/b [--output=reports/calibration.json]

For each run folder (its flags.txt names its data set) the ScoreCalibration is fitted as
train's export fits it (validation split, training photos), then on the *test* split:

- ``score`` and ``calibrated_score``: spread ratio (std of predictions / std of truths), MAE,
  RMSE, accuracy at the data set's threshold, SRCC;
- Spearman(candidate, |calibrated_score − truth|) for every uncertainty candidate (latent,
  distribution, combined) and for the exported ``score_std``; the selective curve's SRCC and MAE
  at 10 %, 50 % and 100 %;
- the share flagged as not photo-like: test photos; five sets of inputs that are not photos,
  8 of each kind: the issue's kinds (blank, single colour, noise, text, screenshots:
  tests/not_photos.py, 40), six kinds drawn after the flag was designed
  (tests/other_not_photos.py, 48), eleven kinds a helper wrote without seeing the flag or
  its results (tests/independent_not_photos.py, 88) and ten kinds another helper wrote blind
  to the flag, its code, the other sets and every result, after the flag's form was fixed
  (tests/blind_not_photos.py, 80: the held-out check), and ten more kinds a third helper wrote
  blind in the same way, after an input-pyramid density had been tried on the first four
  (tests/fifth_not_photos.py, 80: the check that turned it down); and five real photographs from
  scikit-learn and scikit-image (out of a synthetic set's distribution too).

Then the mean and std over the runs. Quality figures, not timings: one run, any machine.
"""

import json
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # tests/ (the not-photo sets)

from pear_tf import startup  # noqa: E402

startup.import_tensorflow_quietly()  # before anything imports TensorFlow: no CUDA probing noise on a CPU machine

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from absl import app, flags  # noqa: E402

from pear_tf.calibration import graph, uncertainty  # noqa: E402
from pear_tf.calibration.fit import fit_calibration, truths  # noqa: E402
from pear_tf.data import pipeline, sources  # noqa: E402
from pear_tf.data.preprocessing import preprocess  # noqa: E402
from pear_tf.data.run_flags import data_config_from_flag_lines  # noqa: E402
from pear_tf.evaluation import calibrated as calibrated_report  # noqa: E402
from pear_tf.evaluation.scoring import predict_dataset  # noqa: E402
from pear_tf.exporting.saved_model import restore_model  # noqa: E402
from tests.blind_not_photos import blind_not_photos  # noqa: E402
from tests.fifth_not_photos import fifth_not_photos  # noqa: E402
from tests.independent_not_photos import independent_not_photos  # noqa: E402
from tests.not_photos import not_photos  # noqa: E402
from tests.other_not_photos import other_not_photos  # noqa: E402
from tests.real_images import photo  # noqa: E402

flags.DEFINE_list("runs", [], "pear_tf.train run folders (with flags.txt).")
flags.DEFINE_integer("mc_samples", 16, "Latent samples, as the export's default.")
flags.DEFINE_string("output", None, "Also write every figure as JSON here.")

REAL = ("china", "flower", "astronaut", "coffee", "chelsea")
# (figures key, its row in the summary, the set): the not-photo sets, in the order they were written.
NOT_PHOTO_SETS = (
    ("not_photos_flagged", "the issue's kinds", not_photos),
    ("other_not_photos_flagged", "other kinds", other_not_photos),
    ("independent_not_photos_flagged", "independent kinds", independent_not_photos),
    ("blind_not_photos_flagged", "blind kinds, held out", blind_not_photos),
    ("fifth_not_photos_flagged", "fifth set, blind, held out", fifth_not_photos),
)


def score_function(model, calibration, mc_samples):
    """Raw outputs with internals, plus the calibrated ones under ``calibrated.*``."""
    bins = list(model.config.bin_values)

    def score(images):
        raw = model.score(images, mc_samples=mc_samples, with_internals=True)
        outputs = graph.calibrated_outputs(raw, calibration, bins)
        return {**{k: v for k, v in raw.items() if k != "stage_statistics"}, **{f"calibrated.{k}": v for k, v in outputs.items()}}

    return tf.function(score)


def test_figures(predictions, calibration, scale):
    """Scale and uncertainty figures of the test predictions."""
    bins = scale.bin_values
    exported = {key.split(".", 1)[1]: value for key, value in predictions.items() if key.startswith("calibrated.")}
    report = calibrated_report.report({**predictions, **exported}, scale)
    truth = truths(predictions, bins)
    calibrated = exported["calibrated_score"]
    found = uncertainty.candidates(predictions["distribution"], bins, calibration.score_map(predictions["score_samples"]))
    if "latent" in found:
        found["combined"] = uncertainty.combine(found, calibration.uncertainty.latent_scale,
                                                calibration.uncertainty.distribution_scale)  # fmt: skip
    spearman = {name: uncertainty.error_spearman(values, calibrated, truth) for name, values in found.items()}
    curve = {point["fraction"]: point for point in report["uncertainty"]["selective"]}
    return {
        "score": report["score"],
        "calibrated_score": report["calibrated_score"],
        "test_spearman": {**spearman, "exported": report["uncertainty"]["spearman_score_std_error"]},
        "selective": {f: {"srcc": curve[f]["srcc"], "mae": curve[f]["mae"]} for f in (0.1, 0.5, 1.0)},
        "test_flagged": report["ood"]["flagged_fraction"],
    }


def flagged(score, images, image_size):
    """Share of ``images`` (uint8 arrays) the exported outputs call not photo-like, and their ood_scores."""
    batch = tf.stack([preprocess(tf.constant(image), image_size) for image in images])
    outputs = score(batch)
    return float(np.mean(~outputs["calibrated.is_photo_like"].numpy())), outputs["calibrated.ood_score"].numpy()


def measure(run, mc_samples):
    model, checkpoint = restore_model(run)
    with open(os.path.join(run, "flags.txt")) as f:
        data_config = data_config_from_flag_lines(f.read().splitlines())
    size = model.config.image_size
    splits = sources.load_splits(data_config, size)
    calibration = fit_calibration(model, splits, size, mc_samples=mc_samples)
    score = score_function(model, calibration, mc_samples)
    predictions = predict_dataset(None, pipeline.make_dataset(splits.test, size, 64), score=score)
    figures = {"run": run, "dataset": data_config.dataset, "data_dir": data_config.data_dir, "checkpoint": checkpoint,
               "score_std_source": calibration.uncertainty.source,
               "validation_spearman": calibration.uncertainty.validation_spearman}  # fmt: skip
    figures.update(test_figures(predictions, calibration, splits.scale))
    for key, _, draw in NOT_PHOTO_SETS:
        figures[key] = {kind: flagged(score, images, size)[0] for kind, images in draw(8).items()}
        figures[key]["all"] = float(np.mean(list(figures[key].values())))
    share, scores = flagged(score, [photo(name) for name in REAL], size)
    figures["real_photos"] = {"flagged": share, "ood_score": dict(zip(REAL, np.round(scores, 3).tolist()))}
    return figures


def summary(results):
    """Mean ± std over runs of the headline figures."""
    rows = {
        "score spread ratio": lambda r: r["score"]["spread_ratio"],
        "calibrated spread ratio": lambda r: r["calibrated_score"]["spread_ratio"],
        "score MAE": lambda r: r["score"]["mae"],
        "calibrated MAE": lambda r: r["calibrated_score"]["mae"],
        "score accuracy": lambda r: r["score"]["accuracy"],
        "calibrated accuracy": lambda r: r["calibrated_score"]["accuracy"],
        "Spearman(score_std, |error|)": lambda r: r["test_spearman"]["exported"],
        "Spearman(latent, |error|)": lambda r: r["test_spearman"].get("latent", np.nan),
        "Spearman(distribution, |error|)": lambda r: r["test_spearman"]["distribution"],
        "test photos flagged": lambda r: r["test_flagged"],
        **{f"not-photos flagged ({row})": lambda r, key=key: r[key]["all"] for key, row, _ in NOT_PHOTO_SETS},
        "real photos flagged": lambda r: r["real_photos"]["flagged"],
    }
    return {name: (float(np.nanmean([get(r) for r in results])), float(np.nanstd([get(r) for r in results])))
            for name, get in rows.items()}  # fmt: skip


def main(argv):
    del argv
    results = []
    for run in flags.FLAGS.runs:
        results.append(measure(run, flags.FLAGS.mc_samples))
        r = results[-1]
        print(f"{run}: score_std = {r['score_std_source']}; test Spearman {r['test_spearman']}; calibrated "
              f"{r['calibrated_score']}; flagged test {r['test_flagged']:.3f}, "
              + "".join(f"{row}: {r[key]}, " for key, row, _ in NOT_PHOTO_SETS) + f"real {r['real_photos']}")
    table = summary(results)
    for name, (mean, std) in table.items():
        print(f"{name:40s} {mean:8.3f} ± {std:.3f}  (n={len(results)})")
    if flags.FLAGS.output:
        os.makedirs(os.path.dirname(os.path.abspath(flags.FLAGS.output)), exist_ok=True)
        with open(flags.FLAGS.output, "w") as f:
            json.dump({"runs": results, "summary": table}, f, indent=2, default=float)


if __name__ == "__main__":
    app.run(main)
