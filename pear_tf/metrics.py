"""DESIGN.md §3: the one definition of every metric, used by training, evaluate and reports.

All functions take numpy arrays of rater distributions [N, d] and return Python floats
or per-image arrays.
"""

import numpy as np
from scipy import stats


def mean_scores(distributions, bin_values):
    """Σᵢ ŷᵢ vᵢ per image: the mean score of each distribution."""
    return np.asarray(distributions, np.float64) @ np.asarray(bin_values, np.float64)


def emd(true_distributions, predicted_distributions, r=2):
    """Per-image EMD_r = ((1/d) Σₖ |CDF_y(k) − CDF_ŷ(k)|^r)^(1/r), an array [N].

    Average it over images for the reported figure; never compute it on batch means.
    """
    true_cdf = np.cumsum(np.asarray(true_distributions, np.float64), axis=-1)
    predicted_cdf = np.cumsum(np.asarray(predicted_distributions, np.float64), axis=-1)
    return np.mean(np.abs(true_cdf - predicted_cdf) ** r, axis=-1) ** (1.0 / r)


def binary_accuracy(true_means, predicted_means, threshold):
    """Share of images on the same side of the threshold (high = mean score > threshold)."""
    return float(np.mean((np.asarray(true_means) > threshold) == (np.asarray(predicted_means) > threshold)))


def aesthetic_metrics(true_distributions, predicted_distributions, scale):
    """SRCC, PLCC, binary accuracy and EMD (r=1, r=2) of predictions on one split.

    Args:
      true_distributions, predicted_distributions: [N, d] arrays.
      scale: the RatingScale (bin values and the accuracy threshold).

    Returns:
      A dict with keys srcc, plcc, accuracy, emd_r1, emd_r2 and num_images.
    """
    true_means = mean_scores(true_distributions, scale.bin_values)
    predicted_means = mean_scores(predicted_distributions, scale.bin_values)
    return {
        "srcc": float(stats.spearmanr(predicted_means, true_means)[0]),
        "plcc": float(stats.pearsonr(predicted_means, true_means)[0]),
        "accuracy": binary_accuracy(true_means, predicted_means, scale.threshold),
        "emd_r1": float(np.mean(emd(true_distributions, predicted_distributions, r=1))),
        "emd_r2": float(np.mean(emd(true_distributions, predicted_distributions, r=2))),
        "num_images": int(len(true_means)),
    }
