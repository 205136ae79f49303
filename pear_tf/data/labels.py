"""Turning what data sets record (vote counts, mean scores, attributes) into model targets."""

import numpy as np


def normalise_votes(counts):
    """Vote counts [N, d] → rater distributions; rows without votes become NaN (caller drops them)."""
    counts = np.asarray(counts, np.float32)
    totals = counts.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(totals > 0, counts / totals, np.nan).astype(np.float32)


def score_to_distribution(scores, bin_values):
    """The distribution on the bins whose mean is ``score``, mass on the two nearest bins.

    Used where only a mean score is known (AADB without AADB_AllinAll.csv, custom CSVs
    with a ``score`` column): it is the narrowest distribution with the right mean.
    Scores outside the bins are clipped to the end bins.
    """
    bins = np.asarray(bin_values, np.float64)
    scores = np.clip(np.asarray(scores, np.float64), bins[0], bins[-1])
    upper = np.clip(np.searchsorted(bins, scores, side="right"), 1, len(bins) - 1)
    lower = upper - 1
    weight_upper = (scores - bins[lower]) / (bins[upper] - bins[lower])
    distribution = np.zeros((len(scores), len(bins)), np.float32)
    rows = np.arange(len(scores))
    distribution[rows, lower] = 1.0 - weight_upper
    distribution[rows, upper] += weight_upper
    return distribution


def attributes_from_signed(values):
    """AADB attribute ratings in [−1, 1] → Bernoulli probabilities in [0, 1]."""
    return np.clip((np.asarray(values, np.float32) + 1.0) / 2.0, 0.0, 1.0)
