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


def aesthetic_metrics(true_distributions, predicted_distributions, scale, true_scores=None):
    """SRCC, PLCC, binary accuracy and EMD (r=1, r=2) of predictions on one split.

    Args:
      true_distributions, predicted_distributions: [N, d] arrays.
      scale: the RatingScale (bin values and the accuracy threshold).
      true_scores: [N] official scores on the bins' scale, where the data set publishes
        them (AADB): SRCC and PLCC are then measured against them, as prior work reports
        AADB; else against the true distributions' means.

    Returns:
      A dict with keys srcc, plcc, accuracy, emd_r1, emd_r2 and num_images.
    """
    true_means = mean_scores(true_distributions, scale.bin_values)
    predicted_means = mean_scores(predicted_distributions, scale.bin_values)
    reference = true_means if true_scores is None else np.asarray(true_scores, np.float64)
    return {
        "srcc": float(stats.spearmanr(predicted_means, reference)[0]),
        "plcc": float(stats.pearsonr(predicted_means, reference)[0]),
        "accuracy": binary_accuracy(true_means, predicted_means, scale.threshold),
        "emd_r1": float(np.mean(emd(true_distributions, predicted_distributions, r=1))),
        "emd_r2": float(np.mean(emd(true_distributions, predicted_distributions, r=2))),
        "num_images": int(len(true_means)),
    }


def _spearman(a, b):
    """Spearman's rho, or NaN where either side is constant."""
    if np.std(a) == 0 or np.std(b) == 0:
        return float("nan")
    return float(stats.spearmanr(a, b)[0])


def attribute_agreement(predicted, true, mask, names):
    """Per attribute, over the examples where it is observed: binary accuracy and Spearman.

    Args:
      predicted, true: [N, k] attribute probabilities in [0, 1].
      mask: [N, k], 1 where the true attribute is known.
      names: the k attribute names.

    Returns:
      {"per_attribute": {name: {"accuracy", "srcc", "count"}}, "mean_accuracy", "mean_srcc"}
      (means over attributes with a defined value; NaN where none).
    """
    predicted, true, mask = (np.asarray(x, np.float64) for x in (predicted, true, mask))
    per_attribute = {}
    for i, name in enumerate(names):
        rows = mask[:, i] > 0
        p, t = predicted[rows, i], true[rows, i]
        per_attribute[name] = {
            "accuracy": float(np.mean((p > 0.5) == (t > 0.5))) if rows.any() else float("nan"),
            "srcc": _spearman(p, t) if rows.sum() > 1 else float("nan"),
            "count": int(rows.sum()),
        }

    def mean(key):
        values = [v[key] for v in per_attribute.values() if not np.isnan(v[key])]
        return float(np.mean(values)) if values else float("nan")

    return {"per_attribute": per_attribute, "mean_accuracy": mean("accuracy"), "mean_srcc": mean("srcc")}


def correlation_matrix(attributes, scores):
    """Pearson correlations of [k attributes, score] across images: a (k+1)×(k+1) matrix."""
    return np.corrcoef(
        np.column_stack([np.asarray(attributes, np.float64), np.asarray(scores, np.float64)]), rowvar=False
    )


def attribute_correlation_difference(predicted_attributes, predicted_scores, true_attributes, true_scores):
    """Paper Fig. 3 (left): mean |difference| of the predicted and true correlation matrices.

    The paper does not say whether the diagonal (always 0) is in the mean: this is the
    full-matrix mean; ``offdiagonal_mean`` gives the other reading.

    Returns:
      (the mean absolute difference, predicted matrix, true matrix). Entries undefined
      for a constant column are ignored in the mean.
    """
    predicted = correlation_matrix(predicted_attributes, predicted_scores)
    true = correlation_matrix(true_attributes, true_scores)
    return float(np.nanmean(np.abs(predicted - true))), predicted, true


def offdiagonal_mean(difference):
    """Mean |entry| of a square matrix without its diagonal (NaN entries ignored)."""
    difference = np.abs(np.asarray(difference, np.float64))
    return float(np.nanmean(difference[~np.eye(len(difference), dtype=bool)]))


def json_safe(value):
    """NaN and Inf (an undefined correlation) → None, in nested dicts and lists: standard JSON."""
    if isinstance(value, dict):
        return {key: json_safe(v) for key, v in value.items()}
    if isinstance(value, list):
        return [json_safe(v) for v in value]
    return None if isinstance(value, float) and not np.isfinite(value) else value
