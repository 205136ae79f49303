"""One person's taste as a Bayesian linear correction of the generic model.

The person's ratings y (standardised: any numeric scale will do) are modelled on the
photos' generic features, standardised over the rated photos:

    y = β·g + Σⱼ wⱼ·zⱼ + ε,   ε ~ N(0, σ²),   β ~ N(β₀, τ_β²),   wⱼ ~ N(0, τ_w²)

with g the generic score and zⱼ the 11 attribute probabilities. The prior says "this person
rates like the crowd" (β₀ > 0, w = 0); ratings move it only as far as they carry evidence,
so 10 ratings change little and 100 change more. The posterior is closed form (conjugate
Gaussian, σ² fixed), so fitting takes microseconds once the features are computed.

The personal score stays on the generic scale: holding the generic score's weight at 1,

    personal = generic + Σⱼ tⱼ·(zⱼ − mⱼ),   tⱼ = wⱼ·sd(g) / (β·sd(zⱼ))

ranks photos exactly as β·g + Σ wⱼ·zⱼ does (β > 0), and tⱼ, the taste, is in generic score
points per unit of attribute probability: how much more (tⱼ > 0) or less this person weighs
attribute j than the generic model. mⱼ is the mean attribute of the rated photos, where the
correction is zero.
"""

import dataclasses

import numpy as np

from pear_tf import errors


@dataclasses.dataclass(frozen=True)
class Prior:
    """The prior of the correction; fixed in advance, never tuned on a person's held-out photos.

    Attributes:
      generic_slope: β₀, the expected weight of the generic score on standardised ratings
        (about the correlation of a person with the generic model).
      generic_slope_std: τ_β.
      weight_std: τ_w, the prior spread of an attribute's weight per standard deviation of
        the attribute; small = strong shrinkage toward the generic model.
      noise_var: σ², the share of a person's rating variance no model explains.
      min_slope: β is kept at least this large, so that a person who disagrees with the
        crowd cannot blow the taste up by a division by a β near zero.
    """

    generic_slope: float = 0.5
    generic_slope_std: float = 0.2
    weight_std: float = 0.12
    noise_var: float = 0.7
    min_slope: float = 0.15


DEFAULT_PRIOR = Prior()


@dataclasses.dataclass(frozen=True)
class Taste:
    """A fitted correction (numpy arrays over the 11 attributes, AADB order).

    Attributes:
      weights: tⱼ, generic score points per unit of attribute probability, relative to the generic model.
      covariance: the posterior covariance of ``weights`` [11, 11].
      centre: mⱼ, the rated photos' mean attributes.
      spread: the attributes' standard deviation over the rated photos (for the report's effects).
      generic_slope: β's posterior mean (after ``min_slope``) and ``generic_slope_std`` its std.
      num_ratings: k.
    """

    weights: np.ndarray
    covariance: np.ndarray
    centre: np.ndarray
    spread: np.ndarray
    generic_slope: float
    generic_slope_std: float
    num_ratings: int

    @property
    def weights_std(self):
        return np.sqrt(np.diag(self.covariance))

    @property
    def effects(self):
        """(effect, std): score points that a one-std difference of each attribute adds beyond the generic model.

        Per unit of probability, an attribute the generic model hardly varies gets a large,
        uncertain weight that matters little; per std, the report compares like with like.
        """
        return self.weights * self.spread, self.weights_std * self.spread

    def predict(self, generic_scores, attributes):
        """Personal scores on the generic scale for generic scores [N] and attributes [N, 11]."""
        return np.asarray(generic_scores) + (np.asarray(attributes) - self.centre) @ self.weights


def _standardise(values):
    values = np.asarray(values, np.float64)
    centre = values.mean(axis=0)
    # The floor keeps an attribute that hardly varies among the rated photos from dividing by 0.
    spread = values.std(axis=0) + 1e-3
    return (values - centre) / spread, centre, spread


def fit_taste(generic_scores, attributes, ratings, prior=DEFAULT_PRIOR):
    """Fits one person's Taste from k rated photos.

    Args:
      generic_scores: the generic model's scores of the photos [k].
      attributes: its attribute probabilities [k, 11].
      ratings: the person's ratings [k], on any numeric scale.
      prior: the Prior.

    Raises:
      ValueError: when the ratings do not vary (they say nothing about taste).
    """
    ratings = np.asarray(ratings, np.float64)
    if ratings.std() == 0:
        raise errors.BadValue(f"all {len(ratings)} ratings are {ratings[0]:g}: equal ratings say nothing about taste.")
    y = (ratings - ratings.mean()) / ratings.std()
    g, _, g_spread = _standardise(np.asarray(generic_scores)[:, None])
    z, centre, z_spread = _standardise(attributes)
    x = np.concatenate([g, z], axis=1)
    prior_mean = np.concatenate([[prior.generic_slope], np.zeros(z.shape[1])])
    prior_precision = np.concatenate([[prior.generic_slope_std**-2], np.full(z.shape[1], prior.weight_std**-2)])
    precision = x.T @ x / prior.noise_var + np.diag(prior_precision)
    covariance = np.linalg.inv(precision)
    mean = covariance @ (x.T @ y / prior.noise_var + prior_precision * prior_mean)
    slope = max(float(mean[0]), prior.min_slope)
    to_points = g_spread[0] / (slope * z_spread)  # standardised weight → score points per unit probability
    return Taste(
        weights=mean[1:] * to_points,
        covariance=covariance[1:, 1:] * np.outer(to_points, to_points),
        centre=centre,
        spread=z_spread,
        generic_slope=slope,
        generic_slope_std=float(np.sqrt(covariance[0, 0])),
        num_ratings=len(ratings),
    )
