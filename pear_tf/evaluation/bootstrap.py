"""Bootstrap confidence intervals of the DESIGN.md §3 metrics, resampling images."""

import numpy as np

from pear_tf import metrics


def bootstrap_intervals(true_distributions, predicted_distributions, scale, samples, seed=0, level=0.95,
                        true_scores=None):  # fmt: skip
    """Percentile bootstrap confidence intervals of every §3 metric, resampling images.

    ``true_scores``: official scores, as for metrics.aesthetic_metrics.

    Returns:
      {metric: {"low", "high", "std"}} over ``samples`` resamples of the images.
    """
    rng = np.random.default_rng(seed)
    count = len(true_distributions)
    draws = {}
    for _ in range(samples):
        index = rng.integers(0, count, count)
        scores = None if true_scores is None else np.asarray(true_scores)[index]
        resampled = metrics.aesthetic_metrics(true_distributions[index], predicted_distributions[index], scale, scores)
        for key, value in resampled.items():
            if key != "num_images":
                draws.setdefault(key, []).append(value)
    tail = (1.0 - level) / 2.0 * 100.0
    return {
        key: {
            "low": float(np.nanpercentile(values, tail)),
            "high": float(np.nanpercentile(values, 100.0 - tail)),
            "std": float(np.nanstd(values)),
        }
        for key, values in draws.items()
    }
