"""Fitting a ScoreCalibration for a trained model: its validation split and its training photos.

``fit_calibration(model, splits, image_size)`` runs at the end of training (and in ``export``
of an older run folder, on the splits its flags.txt names). The validation split's ratings
fit the monotone map and choose ``score_std``; the training split's photos (up to
``max_photos``, evenly spaced) fit the feature density behind ``ood_score``. The test split
is never looked at.
"""

import dataclasses
import os

import numpy as np
import tensorflow as tf

from pear_tf import errors, metrics
from pear_tf.calibration import density as density_lib
from pear_tf.calibration import monotone
from pear_tf.calibration import uncertainty as uncertainty_lib
from pear_tf.calibration import record
from pear_tf.calibration.record import ScoreCalibration
from pear_tf.data import pipeline, sources
from pear_tf.data.run_flags import data_config_from_flag_lines
from pear_tf.evaluation.scoring import predict_dataset
from pear_tf.model import stages

MAX_TRAINING_PHOTOS = 5000


def truths(predictions, bin_values):
    """What the map is fitted to: the official scores where the data set has them, else the raters' mean."""
    if "true_score" in predictions:
        return np.asarray(predictions["true_score"], np.float64)
    return metrics.mean_scores(predictions["true_distribution"], bin_values)


def evenly_spaced(split, max_photos):
    """At most ``max_photos`` of a split, every n-th from the first (deterministic)."""
    size = pipeline.split_size(split)
    if size is None:
        return split.take(max_photos)
    return pipeline.shard(split, max(1, -(-size // max_photos)), 0)


def fit_from_predictions(validation, training_statistics, bin_values, spreads=None):
    """The ScoreCalibration from validation predictions (score, distribution, score_samples, truth) and the
    training photos' stage statistics (model/stages.py; ``spreads``: its ``spread_mask``, logged)."""
    truth = truths(validation, bin_values)
    score_map = monotone.fit_isotonic(validation["score"], truth, bin_values)
    calibrated = score_map(validation["score"])
    samples = score_map(validation["score_samples"]) if "score_samples" in validation else None
    found = uncertainty_lib.candidates(validation["distribution"], bin_values, samples)
    choice = uncertainty_lib.choose(found, calibrated, truth)
    density = (density_lib.fit_density(training_statistics, logged=spreads) if len(training_statistics) >= 20
               else None)  # fmt: skip
    fitted = {
        "method": "isotonic map (PAVA) on the validation split; score_std chosen there; feature density on "
        "training photos",
        "validation_photos": int(len(truth)),
        "training_photos": int(len(training_statistics)),
        "validation": {
            "score_mae": float(np.mean(np.abs(validation["score"] - truth))),
            "calibrated_mae": float(np.mean(np.abs(calibrated - truth))),
        },
    }
    return ScoreCalibration(score_map, choice, density, fitted)


def fit_calibration(model, splits, image_size, batch_size=64, mc_samples=16, max_photos=MAX_TRAINING_PHOTOS,
                    verbose=0):  # fmt: skip
    """Scores the validation split and up to ``max_photos`` training photos; returns the ScoreCalibration.

    Raises pear_tf.errors.BadValue when the validation split has fewer than 3 photos (nothing to fit on).
    """
    bins = list(splits.scale.bin_values)
    score = tf.function(lambda images: model.score(images, mc_samples=mc_samples, with_internals=True))
    validation = predict_dataset(None, pipeline.make_dataset(splits.validation, image_size, batch_size),
                                 verbose=verbose, score=score)  # fmt: skip
    if len(validation["score"]) < 3:
        raise errors.BadValue(f"The validation split has {len(validation['score'])} photos: too few to calibrate on.")
    statistics = tf.function(
        lambda images: {"stage_statistics": model.score(images, with_internals=True)["stage_statistics"]}
    )
    training = predict_dataset(None, pipeline.make_dataset(evenly_spaced(splits.train, max_photos), image_size,
                                                           batch_size), verbose=verbose, score=statistics)  # fmt: skip
    spreads = stages.spread_mask(model.backbone)
    calibration = fit_from_predictions(validation, training["stage_statistics"], bins, spreads)
    calibration = dataclasses.replace(calibration, fitted={**calibration.fitted, "mc_samples": int(mc_samples)})
    print(describe(calibration))
    return calibration


def describe(calibration):
    """One paragraph: what was fitted and how it did on the validation split."""
    fitted, choice = calibration.fitted, calibration.uncertainty
    spearman = ", ".join(f"{k} {v:.3f}" for k, v in choice.validation_spearman.items())
    text = (
        f"Calibrated on {fitted['validation_photos']} validation photos: MAE {fitted['validation']['score_mae']:.3f} "
        f"(score) → {fitted['validation']['calibrated_mae']:.3f} (calibrated_score); score_std = "
        f"{choice.factor:.3g} × {choice.source} (validation Spearman with |error|: {spearman or 'none'})."
    )
    density = calibration.density
    if density is not None:
        texture = f"; texture density {density.texture.components.shape[1]}" if density.texture is not None else ""
        text += (f" Photo-likeness from {fitted['training_photos']} training photos "
                 f"({density.components.shape[1]} directions{texture}).")  # fmt: skip
    return text


def calibration_for_run(model, model_dir, checkpoint, mc_samples=16):
    """The run's calibration.json when it was fitted for ``checkpoint``; else one fitted now and saved there.

    The splits are those the run's flags.txt names (its data set, data_dir, seed, sizes).

    Raises:
      pear_tf.errors.NotFound: the run has no flags.txt, or its data set is no longer where it was.
      pear_tf.errors.BadValue: the validation split is too small to fit on.
    """
    calibration = record.load(model_dir, checkpoint)
    if calibration is not None:
        return calibration
    flags_path = os.path.join(model_dir, "flags.txt")
    if not os.path.exists(flags_path):
        raise errors.NotFound(
            f"{model_dir} has no flags.txt, so its validation split is unknown: export it with --nocalibrate "
            "(score only, no calibrated_score map, no photo-likeness flag)."
        )
    with open(flags_path) as f:
        data_config = data_config_from_flag_lines(f.read().splitlines())
    print(f"Calibrating {checkpoint} on the {data_config.dataset} splits of {flags_path}.")
    splits = sources.load_splits(data_config, model.config.image_size)
    calibration = fit_calibration(model, splits, model.config.image_size, mc_samples=mc_samples)
    calibration = dataclasses.replace(calibration, fitted={**calibration.fitted, "checkpoint": checkpoint})
    record.save(calibration, model_dir)
    return calibration
