"""Which spread becomes ``score_std``: chosen by how well it predicts the error, on the validation split.

Candidates, each per photo:

- ``latent``: the std of ``calibrated_score`` over the Monte-Carlo latent samples (each
  sample's mean score put through the monotone map): how much the latents' own
  uncertainty moves the answer, on the raters' scale.
- ``distribution``: the std of the predicted rater distribution: how much raters are
  expected to disagree about the photo.
- ``combined``: √((latent/m_l)² + (distribution/m_d)²), each divided by its validation median.
- ``constant``: the same spread for every photo, the fallback when no candidate's Spearman
  with the error is positive on the validation split.

The one with the highest Spearman(candidate, |calibrated_score − truth|) on the validation
split is exported, multiplied by the factor that makes ``calibrated_score ± score_std``
cover 68.3 % of the validation photos' truths (a one-sigma interval on the raters' scale).
"""

import dataclasses

import numpy as np
from scipy import stats

CANDIDATES = ("latent", "distribution", "combined")
COVERAGE = 0.6827  # a normal's ±1 std
SELECTIVE_FRACTIONS = tuple(round(0.1 * k, 1) for k in range(1, 11))


def distribution_std(distributions, bin_values):
    """The std of each predicted distribution over the bin values, [N]."""
    p, v = np.asarray(distributions, np.float64), np.asarray(bin_values, np.float64)
    mean = p @ v
    return np.sqrt(np.maximum(p @ v**2 - mean**2, 0.0))


def candidates(distributions, bin_values, calibrated_samples=None):
    """{name: [N]} of the raw candidates (``latent`` only with samples [N, M] on the raters' scale)."""
    spread = distribution_std(distributions, bin_values)
    found = {"distribution": spread}
    if calibrated_samples is not None and np.asarray(calibrated_samples).shape[-1] > 1:
        found["latent"] = np.asarray(calibrated_samples, np.float64).std(axis=-1)
    return found


def error_spearman(uncertainty, predicted, truth):
    """Spearman(uncertainty, |predicted − truth|); NaN when either side is constant."""
    uncertainty, error = np.asarray(uncertainty), np.abs(np.asarray(predicted) - np.asarray(truth))
    if len(error) < 3 or np.ptp(uncertainty) == 0 or np.ptp(error) == 0:
        return float("nan")
    return float(stats.spearmanr(uncertainty, error)[0])


def selective_curve(uncertainty, predicted, truth, fractions=SELECTIVE_FRACTIONS):
    """SRCC and MAE of the most confident ``fraction`` of photos, for each fraction.

    Photos are ordered by uncertainty, ties by their position (stable sort), so the curve
    is the same on every run. Returns a list of {fraction, count, srcc, mae}.
    """
    predicted, truth = np.asarray(predicted, np.float64), np.asarray(truth, np.float64)
    order = np.argsort(np.asarray(uncertainty), kind="stable")
    curve = []
    for fraction in fractions:
        kept = order[: max(int(round(fraction * len(order))), 1)]
        p, t = predicted[kept], truth[kept]
        srcc = float(stats.spearmanr(p, t)[0]) if len(kept) > 2 and np.ptp(p) > 0 and np.ptp(t) > 0 else float("nan")
        curve.append({"fraction": fraction, "count": int(len(kept)), "srcc": srcc, "mae": float(np.mean(np.abs(p - t)))})
    return curve


@dataclasses.dataclass(frozen=True)
class UncertaintyChoice:
    """What ``score_std`` is: ``factor`` × the ``source`` candidate (see the module docstring).

    Attributes:
      source: one of CANDIDATES or "constant".
      factor: the multiplier that gives 68.3 % coverage on the validation split.
      latent_scale, distribution_scale: the validation medians that ``combined`` divides by.
      validation_spearman: {candidate: Spearman with |error| on the validation split}.
    """

    source: str
    factor: float
    latent_scale: float = 1.0
    distribution_scale: float = 1.0
    validation_spearman: dict = dataclasses.field(default_factory=dict)

    def to_dict(self):
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data):
        return cls(**data)


def combine(found, latent_scale, distribution_scale):
    """The ``combined`` candidate from ``latent`` and ``distribution``."""
    return np.sqrt((found["latent"] / latent_scale) ** 2 + (found["distribution"] / distribution_scale) ** 2)


def choose(found, calibrated, truth):
    """The UncertaintyChoice for validation candidates ``found``, calibrated scores and truths [N].

    Highest validation Spearman with |error| wins (ties: CANDIDATES' order); no positive
    one: ``constant``. Nothing here looks at the test split.
    """
    found = dict(found)
    scales = {"latent_scale": 1.0, "distribution_scale": 1.0}
    if "latent" in found and np.median(found["latent"]) > 0 and np.median(found["distribution"]) > 0:
        scales = {"latent_scale": float(np.median(found["latent"])),
                  "distribution_scale": float(np.median(found["distribution"]))}  # fmt: skip
        found["combined"] = combine(found, **scales)
    spearman = {name: error_spearman(found[name], calibrated, truth) for name in CANDIDATES if name in found}
    usable = [name for name in CANDIDATES if name in spearman and np.isfinite(spearman[name]) and spearman[name] > 0]
    source = max(usable, key=lambda name: (spearman[name], -CANDIDATES.index(name))) if usable else "constant"
    base = found[source] if source != "constant" else np.ones(len(calibrated))
    error = np.abs(np.asarray(calibrated, np.float64) - np.asarray(truth, np.float64))
    ratio = error[base > 0] / base[base > 0]
    factor = float(np.quantile(ratio, COVERAGE)) if len(ratio) else 0.0
    return UncertaintyChoice(source, factor, validation_spearman=spearman, **scales)


def apply_choice(choice, found):
    """``score_std`` [N] of candidates ``found`` (numpy), as the exported graph computes it."""
    if choice.source == "constant":
        return np.full(len(found["distribution"]), choice.factor)
    if choice.source == "combined":
        return choice.factor * combine(found, choice.latent_scale, choice.distribution_scale)
    return choice.factor * found[choice.source]
