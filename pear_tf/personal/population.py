"""How tastes vary across people: a Gaussian hierarchical model learned from the training workers.

Each training worker i has a taste θᵢ (weights on the taste space's D features, for
their standardised ratings), and the tastes are drawn from one population:

    yᵢ = Xᵢ θᵢ + bᵢ + εᵢ,   εᵢ ~ N(0, σᵢ² I),   θᵢ ~ N(m, S).

(m, S) and every σᵢ² are fitted by EM on all the workers' ratings at once; each worker's
θᵢ stays a posterior, so a worker with few ratings counts for little and S measures how
tastes differ, not how noisy 20 ratings are. The result is the prior of a new person's
taste (pear_tf.personal.adapt). This is what the PIAA literature's meta-learning does:
learn from many people what one person's few ratings should be shrunk towards.

Two choices are made by cross-validation over the training workers (held-out workers'
marginal likelihood, never a test worker): how many content components to use, and how
far S is shrunk towards its diagonal (with tens of workers a full D×D covariance is
poorly determined).
"""

import dataclasses

import numpy as np

from pear_tf.personal import evidence

# Candidates of the cross-validation (the data pick among them).
COMPONENT_GRID = (0, 4, 8, 16, 32)
SHRINKAGE_GRID = (0.1, 0.5, 1.0)
FOLDS = 5
EM_STEPS = 200
# Floor of the population variance of a weight: keeps S invertible (in standardised units).
MIN_VARIANCE = 1e-4


@dataclasses.dataclass(frozen=True)
class Population:
    """A fitted population of tastes over the first ``mean.size`` features of a taste space.

    Attributes:
      mean: m [D], the average person's weights (the generic score's first).
      covariance: S [D, D].
      noise_var: the workers' median σ², for the report.
      num_workers: how many training workers it was learned from.
      shrinkage: the weight of S's diagonal in its shrunk estimate.
    """

    mean: np.ndarray
    covariance: np.ndarray
    noise_var: float
    num_workers: int
    shrinkage: float

    def to_json(self):
        return {"mean": self.mean.tolist(), "covariance": self.covariance.tolist(), "noise_var": self.noise_var,
                "num_workers": self.num_workers, "shrinkage": self.shrinkage}  # fmt: skip

    @classmethod
    def from_json(cls, data):
        return cls(np.asarray(data["mean"], np.float64), np.asarray(data["covariance"], np.float64),
                   float(data["noise_var"]), int(data["num_workers"]), float(data["shrinkage"]))  # fmt: skip


def _shrink(covariance, shrinkage):
    shrunk = (1 - shrinkage) * covariance + shrinkage * np.diag(np.diag(covariance))
    return shrunk + MIN_VARIANCE * np.eye(len(covariance))


def fit_population(stats, shrinkage, steps=EM_STEPS, tolerance=1e-6):
    """EM for (m, S, σᵢ²) from the workers' Sufficient statistics (one per worker, same D).

    Each step is exact for the Gaussian model: the workers' posteriors given (m, S, σᵢ²),
    then (m, S) as their moments (S shrunk towards its diagonal) and each σᵢ² as the
    expected residual. Stops when m and S move less than ``tolerance``.
    """
    dim = len(stats[0].xy)
    xx = np.stack([s.xx for s in stats])
    xy = np.stack([s.xy for s in stats])
    yy = np.array([s.yy for s in stats])
    dof = np.array([s.dof for s in stats], np.float64)
    mean, covariance, noise = np.zeros(dim), np.eye(dim), np.full(len(stats), 0.5)
    for _ in range(steps):
        prior_precision = np.linalg.inv(covariance)
        precision = prior_precision[None] + xx / noise[:, None, None]
        spreads = np.linalg.inv(precision)
        means = np.einsum("wij,wj->wi", spreads, (prior_precision @ mean)[None] + xy / noise[:, None])
        explained = (yy - 2 * np.einsum("wi,wi->w", means, xy) + np.einsum("wi,wij,wj->w", means, xx, means)
                     + np.einsum("wij,wij->w", xx, spreads))  # fmt: skip
        noise = np.maximum(explained / dof, 1e-3)
        new_mean = means.mean(axis=0)
        centred = means - new_mean
        new_covariance = _shrink((centred.T @ centred + spreads.sum(axis=0)) / len(stats), shrinkage)
        moved = max(np.abs(new_mean - mean).max(), np.abs(new_covariance - covariance).max())
        mean, covariance = new_mean, new_covariance
        if moved < tolerance:
            break
    return Population(mean, covariance, float(np.median(noise)), len(stats), shrinkage)


def held_out_evidence(stats, shrinkage, folds=FOLDS, steps=EM_STEPS):
    """Σ over workers of their ratings' log evidence under a population fitted without their fold."""
    total = 0.0
    for fold in range(folds):
        train = [s for i, s in enumerate(stats) if i % folds != fold]
        held = [s for i, s in enumerate(stats) if i % folds == fold]
        population = fit_population(train, shrinkage, steps)
        total += sum(evidence.best_noise(s, population.mean, population.covariance)[1] for s in held)
    return total


def select_and_fit(stats, num_fixed, max_components, progress=None):
    """Chooses (content components, shrinkage) by held-out evidence over workers, then fits on all.

    Args:
      stats: per training worker, Sufficient statistics over all the space's features
        (sorted by worker id, so the folds are deterministic).
      num_fixed: features always kept (the generic score and the attributes).
      max_components: content components available in the space.
      progress: optional callable(message) told about each candidate.

    Returns:
      (population, components, table of {"components", "shrinkage", "held_out_log_evidence"}).
    """
    table = []
    for components in [c for c in COMPONENT_GRID if c <= max_components]:
        columns = np.arange(num_fixed + components)
        subset = [s.select(columns) for s in stats]
        for shrinkage in SHRINKAGE_GRID:
            score = held_out_evidence(subset, shrinkage)
            table.append({"components": components, "shrinkage": shrinkage, "held_out_log_evidence": score})
            if progress:
                progress(f"{components} content components, shrinkage {shrinkage}: held-out log evidence {score:.1f}")
    best = max(table, key=lambda row: row["held_out_log_evidence"])
    columns = np.arange(num_fixed + best["components"])
    population = fit_population([s.select(columns) for s in stats], best["shrinkage"])
    return population, best["components"], table
