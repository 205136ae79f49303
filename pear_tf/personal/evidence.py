"""The Gaussian linear model of one person's ratings: posterior and marginal likelihood (evidence).

A person's k ratings, standardised to mean 0 and std 1, are modelled on D standardised
features of the photos:

    y = X θ + b + ε,   ε ~ N(0, σ² I),   θ ~ N(m, S),   b (an intercept) flat.

The flat intercept is integrated out by centring X and y over the rated photos (the
restricted likelihood of the k − 1 contrasts), so a person's mean rating says nothing
about their taste. Everything a fit needs is in ``Sufficient`` (XᵀX, Xᵀy, yᵀy of the
centred data), so the evidence of many priors and noise levels costs D×D algebra only:
microseconds for D ≈ 40, whatever k is.
"""

import dataclasses

import numpy as np

from pear_tf.errors import BadValue


@dataclasses.dataclass(frozen=True)
class Sufficient:
    """Centred sufficient statistics of one person's ratings: xx [D, D], xy [D], yy, dof (k − 1)."""

    xx: np.ndarray
    xy: np.ndarray
    yy: float
    dof: int

    def select(self, columns):
        """The statistics of a subset of the features."""
        columns = np.asarray(columns)
        return Sufficient(self.xx[np.ix_(columns, columns)], self.xy[columns], self.yy, self.dof)


def standardise_ratings(ratings):
    """(ratings − mean) / std; raises ValueError when they do not vary (they say nothing about taste)."""
    ratings = np.asarray(ratings, np.float64)
    if len(ratings) < 2 or ratings.std() == 0:
        raise BadValue(f"all {len(ratings)} ratings are {ratings[0]:g}: equal ratings say nothing about taste.")
    return (ratings - ratings.mean()) / ratings.std()


def sufficient(features, ratings):
    """Sufficient statistics of features [k, D] and ratings [k] (standardised here), both centred."""
    y = standardise_ratings(ratings)
    x = np.asarray(features, np.float64)
    x = x - x.mean(axis=0)
    return Sufficient(x.T @ x, x.T @ y, float(y @ y), len(y) - 1)


def _solve(stats, mean, covariance, noise_var):
    """(posterior precision's Cholesky factor, posterior mean, prior precision) of θ."""
    prior_precision = np.linalg.inv(covariance)
    precision = prior_precision + stats.xx / noise_var
    factor = np.linalg.cholesky(precision)
    rhs = prior_precision @ mean + stats.xy / noise_var
    posterior_mean = np.linalg.solve(factor.T, np.linalg.solve(factor, rhs))
    return factor, posterior_mean, prior_precision


def posterior(stats, mean, covariance, noise_var):
    """The posterior (mean [D], covariance [D, D]) of θ."""
    factor, posterior_mean, _ = _solve(stats, mean, covariance, noise_var)
    inverse = np.linalg.inv(factor)
    return posterior_mean, inverse.T @ inverse


def log_evidence(stats, mean, covariance, noise_var):
    """log p(y | prior N(mean, covariance), σ² = noise_var), the restricted (k − 1 contrasts) likelihood.

    By the matrix determinant lemma and Woodbury's identity on the D×D posterior precision:
    −½ [n log 2πσ² + log|S| + log|S⁻¹ + XᵀX/σ²| + (yᵀy − 2mᵀXᵀy + mᵀXᵀXm)/σ² − cᵀ(S⁻¹+XᵀX/σ²)⁻¹c],
    c = Xᵀ(y − Xm)/σ².
    """
    mean = np.asarray(mean, np.float64)
    residual = stats.yy - 2 * mean @ stats.xy + mean @ stats.xx @ mean
    c = (stats.xy - stats.xx @ mean) / noise_var
    precision = np.linalg.inv(covariance) + stats.xx / noise_var
    factor = np.linalg.cholesky(precision)
    half = np.linalg.solve(factor, c)
    _, logdet_prior = np.linalg.slogdet(covariance)
    logdet_posterior_precision = 2 * np.log(np.diag(factor)).sum()
    return -0.5 * (
        stats.dof * np.log(2 * np.pi * noise_var)
        + logdet_prior
        + logdet_posterior_precision
        + residual / noise_var
        - half @ half
    )


# σ² candidates for standardised ratings: from a rater the features explain almost entirely
# (0.05) to one they do not explain at all (1, and above it for the chance of fitting noise).
NOISE_GRID = np.geomspace(0.05, 1.5, 25)


def best_noise(stats, mean, covariance, grid=NOISE_GRID):
    """(σ², log evidence) maximising the evidence over ``grid``: type-II maximum likelihood of σ²."""
    values = [log_evidence(stats, mean, covariance, v) for v in grid]
    best = int(np.argmax(values))
    return float(grid[best]), float(values[best])

