"""The monotone map from the model's score to the raters' scale: isotonic regression (PAVA), piecewise linear.

PEAR's score (the mean of its predicted distribution) ranks photos but is squeezed toward the
middle of the scale: a demo model's scores span 5.36–5.49 where the raters' means span
2.5–8.6. The map is fitted on the validation split: pool-adjacent-violators gives the
non-decreasing step function closest to the truths (least squares); its blocks' centroids
(mean score, mean truth) become the knots of a piecewise-linear map, which rises strictly
between them. Beyond the first and last knot the map keeps rising gently, to the ends of
the bins (by ``END_RISE`` of its span), so ``calibrated_score`` ranks photos exactly as
``score`` does and a photo beyond the validation photos is not pinned to an edge.
"""

import dataclasses

import numpy as np

# Beyond the validation photos' range the map rises by this share of its span, up to the bins' ends.
END_RISE = 0.05


def pava(values, weights):
    """Pool adjacent violators: blocks of a sequence whose weighted means are non-decreasing.

    Args:
      values: [N] targets, in the order of the regressor.
      weights: [N] positive weights.

    Returns:
      (means, weights, sizes) of the blocks, left to right; the means strictly increase.
    """
    means, totals, sizes = [], [], []
    for value, weight in zip(np.asarray(values, np.float64), np.asarray(weights, np.float64)):
        means.append(value)
        totals.append(weight)
        sizes.append(1)
        while len(means) > 1 and means[-2] >= means[-1]:
            weight = totals[-2] + totals[-1]
            means[-2] = (means[-2] * totals[-2] + means[-1] * totals[-1]) / weight
            totals[-2] = weight
            sizes[-2] += sizes[-1]
            del means[-1], totals[-1], sizes[-1]
    return np.array(means), np.array(totals), np.array(sizes)


@dataclasses.dataclass(frozen=True)
class MonotoneMap:
    """A non-decreasing piecewise-linear map, flat nowhere inside [knots_x[0], knots_x[-1]].

    Attributes:
      knots_x, knots_y: the knots, both increasing; outside them the map is constant (the
        outer knots are at the bins' ends, so a score never leaves them).
      method: how it was fitted ("isotonic" or "identity").
    """

    knots_x: tuple
    knots_y: tuple
    method: str = "isotonic"

    def __call__(self, scores):
        return np.interp(np.asarray(scores, np.float64), self.knots_x, self.knots_y)

    def to_dict(self):
        return {"method": self.method, "knots_x": list(self.knots_x), "knots_y": list(self.knots_y)}

    @classmethod
    def from_dict(cls, data):
        return cls(tuple(data["knots_x"]), tuple(data["knots_y"]), data.get("method", "isotonic"))


def identity_map(bin_values):
    """The map that leaves scores as they are (no validation data to fit one on)."""
    low, high = float(bin_values[0]), float(bin_values[-1])
    return MonotoneMap((low, high), (low, high), "identity")


def fit_isotonic(scores, truths, bin_values):
    """The isotonic map of validation ``scores`` [N] to ``truths`` [N] on the scale of ``bin_values``.

    Equal scores are pooled first (one point, their mean truth and their count as weight),
    so the fit does not depend on the order of ties. With fewer than two distinct blocks
    (the scores do not rank the truths at all) the map is flat at the mean truth, plus the
    gentle rise that keeps the ranking.
    """
    scores, truths = np.asarray(scores, np.float64), np.asarray(truths, np.float64)
    low, high = float(bin_values[0]), float(bin_values[-1])
    unique, inverse, counts = np.unique(scores, return_inverse=True, return_counts=True)
    pooled = np.bincount(inverse, truths) / counts
    means, weights, sizes = pava(pooled, counts)
    ends = np.cumsum(sizes)
    x = np.array([np.average(unique[e - s : e], weights=counts[e - s : e]) for e, s in zip(ends, sizes)])
    y = np.clip(means, low, high)
    span = max(y[-1] - y[0], 1e-3 * (high - low))
    knots_x = [low] + list(x) + [high]
    knots_y = [max(low, y[0] - END_RISE * span)] + list(y) + [min(high, y[-1] + END_RISE * span)]
    knots_x, knots_y = _strictly_increasing(knots_x, knots_y)
    return MonotoneMap(tuple(float(v) for v in knots_x), tuple(float(v) for v in knots_y))


def _strictly_increasing(knots_x, knots_y):
    """Drops knots whose x does not exceed the previous one (a centroid at a bin's very end)."""
    xs, ys = [knots_x[0]], [knots_y[0]]
    for x, y in zip(knots_x[1:], knots_y[1:]):
        if x > xs[-1]:
            xs.append(x)
            ys.append(max(y, ys[-1]))
    return xs, ys
