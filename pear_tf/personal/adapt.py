"""One person's taste: a Bayesian linear correction of the generic model, if their ratings ask for one.

The person's k ratings, standardised, are modelled on the taste space's features x
(pear_tf.personal.space: the generic score, the 11 attributes and content components,
standardised on the base model's training photos):

    y = θ·x + b + ε,   ε ~ N(0, σ²),   θ ~ prior.

Two models compete by their marginal likelihood on the k rated photos (empirical Bayes,
pear_tf.personal.evidence), σ² at its best for each:

- **generic**: only the generic score's weight; the person rates like the crowd. When it
  has the higher evidence, the personal model *is* the generic model, score for score.
- **correction**: θ drawn from the prior at one of five scales, each equally likely a
  priori, so the correction's evidence is their average and trying five scales buys no
  extra chance of fitting noise. The prior is the population of tastes learned from the
  training workers (pear_tf.personal.population), θ ~ N(m, α·S), α ∈ ALPHA_GRID, so a
  person more or less unusual than the training workers is served too; without a
  population, θ ~ N(0, diag(1, τ², …)) with τ ∈ WEIGHT_STD_GRID (or ``Prior.weight_std``),
  and the correction is only tried with more ratings than weights (k > D).

The held-out photos of a protocol trial are never seen: everything is a function of the k
rated photos, the space and the population. The posterior mean θ̂ (averaged over the
scales by their evidence) ranks photos; the personal score maps θ̂·x back to the generic
scale (the reference photos' mean and std of the generic score).
"""

import dataclasses

import numpy as np

from pear_tf.personal import evidence
from pear_tf.personal.space import FIXED, fit_space, raw_features

ALPHA_GRID = (0.25, 0.5, 1.0, 2.0, 4.0)
WEIGHT_STD_GRID = (0.03, 0.06, 0.12, 0.25, 0.5)
GENERIC = "generic"
CORRECTION = "correction"
# Without a population: the generic score's weight on standardised ratings, a priori; wide
# enough for a person who agrees fully (≈1), not at all (0) or against the crowd (<0).
FALLBACK_SLOPE_STD = 1.0


@dataclasses.dataclass(frozen=True)
class Prior:
    """What the correction may be, when no population was fitted for the model.

    Attributes:
      weight_std: τ, the prior std of a feature's weight on standardised ratings; None lets
        each person's ratings choose it from WEIGHT_STD_GRID (by evidence).
    """

    weight_std: float | None = None


DEFAULT_PRIOR = Prior()


@dataclasses.dataclass(frozen=True)
class TasteModel:
    """What a person's taste is fitted with: the taste space and, if learned, the population.

    Without a space (``space=None``) each fit standardises the score and attributes over the
    person's own rated photos, the way pear_tf did before populations existed.
    """

    space: object = None
    population: object = None
    prior: Prior = DEFAULT_PRIOR


@dataclasses.dataclass(frozen=True)
class Taste:
    """A fitted correction.

    Attributes:
      space: the TasteSpace of ``weights``.
      weights: θ̂ [D], the posterior mean; when generic, 1 for the generic score and zeros
        elsewhere (the generic model as it is).
      covariance: θ's posterior covariance [D, D].
      chosen: what the evidence chose: "generic" (no correction) or "correction".
      evidence: log evidence (σ² at its best) of "generic", "correction" and each scale.
      scales: {scale: posterior probability} within the correction (empty when generic).
      noise_var: σ² of the chosen model.
      num_ratings: k.
      crowd_slope: the generic score's weight on the standardised ratings when it is the only
        feature (how far this person agrees with the crowd; below 0: against it).
      reference: the average person's weights [D] (the population's mean; zeros without one).
    """

    space: object
    weights: np.ndarray
    covariance: np.ndarray
    chosen: str
    evidence: dict
    scales: dict
    noise_var: float
    num_ratings: int
    crowd_slope: float = 1.0
    reference: np.ndarray = None

    def __post_init__(self):
        if self.reference is None:
            object.__setattr__(self, "reference", np.zeros_like(self.weights))

    @property
    def is_generic(self):
        """Whether the personal model is the generic one (the evidence chose no correction)."""
        return self.chosen == GENERIC

    @property
    def points_per_unit(self):
        """Generic score points per unit of θ·x: the generic score's std over θ·x's."""
        spread = np.sqrt(max(self.weights @ self.space.covariance @ self.weights, 1e-24))
        return self.space.generic_std / spread

    def linear(self):
        """(intercept, coefficients [R]): personal score = intercept + raw · coefficients."""
        coefficients = self.space.projection @ self.weights * self.points_per_unit
        return self.space.generic_mean - self.space.raw_mean @ coefficients, coefficients

    def coefficients_std(self):
        """Posterior std [R] of ``linear()``'s coefficients (the scale held at its posterior mean)."""
        projection = self.space.projection
        return np.sqrt(np.maximum(np.einsum("rd,de,re->r", projection, self.covariance, projection), 0)) * (
            self.points_per_unit
        )

    def correction_covariance(self):
        """Posterior covariance [D−1, D−1] of the non-generic weights, in generic score points."""
        return self.covariance[1:, 1:] * self.points_per_unit**2

    def predict(self, features):
        """Personal scores on the generic scale for a features dict (score, attributes[, content])."""
        intercept, coefficients = self.linear()
        return intercept + raw_features(features)[:, : len(coefficients)] @ coefficients

    @property
    def effects(self):
        """(effect, std) per feature beyond the average person: score points per std of the feature.

        The average person (the population's mean taste; without a population, the crowd)
        is subtracted, generic score aside: what the generic model misses for everyone is
        not this person's taste. Stds are the posterior's, per std of the feature among the
        reference photos.
        """
        beyond = self.weights - self.reference * (self.chosen != GENERIC)
        beyond[0] = self.weights[0]
        return beyond * self.points_per_unit, np.sqrt(np.diag(self.covariance)) * self.points_per_unit

    def attribute_effects(self):
        """(effect [11], std [11]): score points per std of each attribute beyond the average person.

        Through the raw attribute (the generic score and the content held fixed), per its std
        among the reference photos: what this person adds for more of the attribute.
        """
        beyond, _ = self.effects
        beyond = beyond.copy()
        beyond[0] = 0.0
        raw = self.space.projection @ beyond * self.space.raw_std
        return raw[1:FIXED], self.coefficients_std()[1:FIXED] * self.space.raw_std[1:FIXED]


def _candidates(model, dim):
    """(generic prior, {scale name: prior}); a prior is (mean, covariance), the generic one 1-dimensional."""
    population = model.population
    if population is not None:
        mean, covariance = population.mean, population.covariance
        return (mean[:1], covariance[:1, :1]), {f"population ×{a:g}": (mean, a * covariance) for a in ALPHA_GRID}
    slope = (np.zeros(1), np.full((1, 1), FALLBACK_SLOPE_STD**2))
    grid = WEIGHT_STD_GRID if model.prior.weight_std is None else (model.prior.weight_std,)
    return slope, {f"taste τ={t:g}": (np.zeros(dim), np.diag([FALLBACK_SLOPE_STD**2] + [t**2] * (dim - 1)))
                   for t in grid}  # fmt: skip


def _scaled_posterior(stats, priors):
    """Evidence of each scale, and the correction's posterior averaged over scales by their evidence.

    Returns ({scale: log evidence}, {scale: posterior probability}, mean [D], covariance [D, D], σ²).
    """
    values, fits = {}, {}
    for name, (mean, covariance) in priors.items():
        noise_var, values[name] = evidence.best_noise(stats, mean, covariance)
        fits[name] = (*evidence.posterior(stats, mean, covariance, noise_var), noise_var)
    logs = np.array(list(values.values()))
    weights = np.exp(logs - logs.max())
    weights /= weights.sum()
    means = np.array([fits[name][0] for name in priors])
    mean = weights @ means
    second = sum(w * (fits[n][1] + np.outer(m, m)) for w, n, m in zip(weights, priors, means))
    noise_var = float(weights @ np.array([fits[name][2] for name in priors]))
    return values, dict(zip(priors, weights.tolist())), mean, second - np.outer(mean, mean), noise_var


def fit_taste(features, ratings, model=TasteModel()):
    """Fits one person's Taste from k rated photos.

    Two models of the ratings compete by their evidence: *generic* (only the generic score
    counts) and *correction* (the features' weights drawn from the prior at one of its
    scales, each scale equally likely a priori, so its evidence is the scales' average:
    trying five scales buys no extra chance of fitting noise). The correction's weights
    are the posterior averaged over the scales by their evidence.

    Args:
      features: dict of the photos' generic outputs: ``score`` [k], ``attributes`` [k, 11],
        and ``content`` [k, C] when the model (and the space) has it.
      ratings: the person's ratings [k], on any numeric scale.
      model: the TasteModel (space, population, fallback prior).

    Raises:
      ValueError: when the ratings do not vary (they say nothing about taste).
    """
    raw = raw_features(features)
    space = model.space or fit_space(raw[:, :FIXED], components=0)
    x = space.transform(raw[:, : len(space.raw_mean)])
    if model.population is not None:
        x = x[:, : len(model.population.mean)]
        space = space.truncate(len(model.population.mean) - FIXED)
    stats = evidence.sufficient(x, ratings)
    dim = x.shape[1]
    generic_prior, scaled = _candidates(model, dim)
    generic_noise, generic_value = evidence.best_noise(stats.select([0]), *generic_prior)
    values, scales, mean, covariance, noise_var = _scaled_posterior(stats, scaled)
    logs = np.array(list(values.values()))
    correction_value = float(logs.max() + np.log(np.mean(np.exp(logs - logs.max()))))
    record = {GENERIC: generic_value, CORRECTION: correction_value, **values}
    # Without a population, k ≤ D ratings let the correction interpolate any ratings: its
    # evidence is then no test of taste (measured: it chose noise at k = 10), so the generic
    # model stands.
    unidentified = model.population is None and len(ratings) <= dim
    slope = float(evidence.posterior(stats.select([0]), *generic_prior, generic_noise)[0][0])
    if generic_value >= correction_value or unidentified:
        # The generic model as it is: its ranking, whatever the sign of the slope (reversing
        # the crowd would be a correction, and this is the model without one).
        weights = np.zeros(dim)
        weights[0] = 1.0
        return Taste(space, weights, np.zeros((dim, dim)), GENERIC, record, {}, generic_noise, len(ratings), slope)
    reference = model.population.mean if model.population is not None else np.zeros(dim)
    return Taste(space, mean, covariance, CORRECTION, record, scales, noise_var, len(ratings), slope, reference)
