"""A ScoreCalibration as TensorFlow ops: what the SavedModel (and so TF Serving and TFLite) computes.

Only ops that TFLite has as builtins: the monotone map is a sum of clipped hinges
(MINIMUM/MAXIMUM, MUL, SUM), the density GATHER, DIV and LOG, a matrix product and sums, the spreads SQRT
and MEAN. Every number is a constant of the graph. The same functions in numpy
(monotone.py, uncertainty.py, density.py) fit them; tests check that both agree.
"""

import numpy as np
import tensorflow as tf

from pear_tf.calibration import uncertainty as uncertainty_lib

def piecewise_linear(values, knots_x, knots_y):
    """y(x) through the knots, constant outside them: y₀ + Σᵢ slopeᵢ · clip(x − xᵢ, 0, xᵢ₊₁ − xᵢ)."""
    knots_x, knots_y = np.asarray(knots_x, np.float64), np.asarray(knots_y, np.float64)
    widths = np.diff(knots_x)
    slopes = np.diff(knots_y) / widths
    starts = tf.constant(knots_x[:-1], tf.float32)
    hinges = tf.clip_by_value(values[..., tf.newaxis] - starts, 0.0, tf.constant(widths, tf.float32))
    return float(knots_y[0]) + tf.reduce_sum(hinges * tf.constant(slopes, tf.float32), axis=-1)


def distribution_std(distribution, bin_values):
    """The std of each predicted distribution over the bins, [B]."""
    bins = tf.constant(bin_values, tf.float32)
    mean = tf.linalg.matvec(distribution, bins)
    return tf.sqrt(tf.maximum(tf.linalg.matvec(distribution, bins * bins) - mean * mean, 0.0))


def score_std(outputs, calibration, bin_values):
    """``score_std`` [B] as the calibration's UncertaintyChoice says (see uncertainty.py)."""
    choice = calibration.uncertainty
    if choice.source == "constant":
        return tf.fill(tf.shape(outputs["score"]), tf.constant(choice.factor, tf.float32))
    found = {"distribution": distribution_std(outputs["distribution"], bin_values)}
    if "score_samples" in outputs:
        mapped = piecewise_linear(outputs["score_samples"], calibration.score_map.knots_x, calibration.score_map.knots_y)
        # Not reduce_std: see model/pear.py.
        centred = mapped - tf.reduce_mean(mapped, axis=-1, keepdims=True)
        found["latent"] = tf.sqrt(tf.reduce_mean(centred * centred, axis=-1))
    if choice.source == "combined":
        spread = tf.sqrt(tf.square(found["latent"] / choice.latent_scale)
                         + tf.square(found["distribution"] / choice.distribution_scale))  # fmt: skip
    elif choice.source in found:
        spread = found[choice.source]
    else:
        raise ValueError(f"score_std from {choice.source!r} needs latent samples: export with mc_samples > 0.")
    return choice.factor * spread


def ood_score(features, density):
    """d² / threshold [B] of stage statistics [B, F] under the training photos' FeatureDensity
    (the larger of its two Gaussians' with a texture density)."""
    gaussian_input = features
    if density.log_offset is not None:
        # log(1 + max(x, 0) / offset) of the features whose offset is > 0 (GATHER, DIV, LOG: TFLite has
        # no LOG1P). DIV, not a product with 1 / offset: a small offset's inverse would not fit the
        # float16 variant's constants.
        logged = np.flatnonzero(density.log_offset > 0)
        spreads = tf.maximum(tf.gather(features, tf.constant(logged, tf.int32), axis=-1), 0.0)
        gaussian_input = tf.math.log(spreads / tf.constant(density.log_offset[logged], tf.float32) + 1.0)
    centred = (gaussian_input - tf.constant(density.mean, tf.float32)) * tf.constant(1.0 / density.scale, tf.float32)
    components = tf.constant(density.components, tf.float32)
    projected = tf.matmul(centred, components)
    # The residual explicitly (not |c|² − |p|²): float32 would lose it to cancellation.
    residual = centred - tf.matmul(projected, components, transpose_b=True)
    inside = tf.reduce_sum(tf.square(projected) * tf.constant(1.0 / density.variances, tf.float32), axis=-1)
    outside = tf.reduce_sum(tf.square(residual), axis=-1) / density.residual_variance
    score = (inside + outside) / density.threshold
    return score if density.texture is None else tf.maximum(score, ood_score(features, density.texture))


def calibrated_outputs(outputs, calibration, bin_values):
    """The exported outputs from ``model.score(..., with_internals=True)`` and a ScoreCalibration.

    Keeps ``score`` (the paper's distribution mean), ``distribution``, ``attributes`` and ``content``;
    ``score_std`` becomes the chosen spread on the raters' scale; adds ``calibrated_score``
    and, with a density, ``ood_score`` and ``is_photo_like`` (ood_score ≤ 1).
    """
    result = {key: outputs[key] for key in ("score", "distribution", "attributes", "content") if key in outputs}
    result["calibrated_score"] = piecewise_linear(
        outputs["score"], calibration.score_map.knots_x, calibration.score_map.knots_y
    )
    result["score_std"] = score_std(outputs, calibration, bin_values)
    if calibration.density is not None:
        result["ood_score"] = ood_score(outputs["stage_statistics"], calibration.density)
        result["is_photo_like"] = result["ood_score"] <= 1.0
    return result


def numpy_score_std(calibration, distribution, bin_values, score_samples=None):
    """``score_std`` in numpy (for fitting reports and tests): the graph's formula."""
    samples = None if score_samples is None else calibration.score_map(score_samples)
    return uncertainty_lib.apply_choice(
        calibration.uncertainty, uncertainty_lib.candidates(distribution, bin_values, samples)
    )
