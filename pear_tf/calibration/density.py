"""How photo-like an input is: the density of its backbone statistics under the training photos'.

The features are the backbone's maps summarised at every resolution (model/stages.py; the
pooled feature is the last map's mean), each dimension standardised by the training photos'
mean and std. A Gaussian of them is fitted to the training split's photos as probabilistic
PCA (Tipping & Bishop): the leading K directions with their own variances, the rest of the
space with one shared variance. Its Mahalanobis distance d² is large for what the encoder has
never seen (a blank frame, noise, a page of text, a screenshot).

The threshold is the 99th percentile of *out-of-fold* distances of the training photos
(each half scored by the other half's fit), so that 1 % of photos like the training ones,
seen or unseen, exceed it; ``ood_score`` = d² / threshold, and ``is_photo_like`` =
ood_score ≤ 1. The final density is fitted on all of them.
"""

import dataclasses

import numpy as np

EXCEEDING = 0.01  # share of training photos above the threshold
EXPLAINED = 0.999  # K: the fewest leading directions that explain this share of the variance...
MAX_COMPONENTS = 256  # ...but at most this many,
PHOTOS_PER_COMPONENT = 20  # and at most one per this many photos (a sound covariance estimate).
# Floors relative to the mean: a dead feature must not divide by 0, and every constant must stay
# within float16's range (TFLite's float16 variant stores the graph's constants in it).
SCALE_FLOOR = 1e-2
VARIANCE_FLOOR = 1e-3


@dataclasses.dataclass(frozen=True)
class FeatureDensity:
    """A PPCA Gaussian of the backbone's stage statistics and its 1 % threshold.

    Attributes:
      mean, scale: [F], the standardisation (x − mean) / scale;
      components: [F, K] orthonormal directions of the standardised features; variances: [K];
      residual_variance: the shared variance of the other F−K directions;
      threshold: d² exceeded by 1 % of the training photos (out of fold);
      num_photos: training photos it was fitted on.
    """

    mean: np.ndarray
    scale: np.ndarray
    components: np.ndarray
    variances: np.ndarray
    residual_variance: float
    threshold: float = 1.0
    num_photos: int = 0

    def distance(self, features):
        """Mahalanobis d² [N] of features [N, F]."""
        centred = (np.asarray(features, np.float64) - self.mean) / self.scale
        projected = centred @ self.components
        residual = np.sum(centred**2, axis=-1) - np.sum(projected**2, axis=-1)
        return np.sum(projected**2 / self.variances, axis=-1) + np.maximum(residual, 0.0) / self.residual_variance

    def ood_score(self, features):
        return self.distance(features) / self.threshold

    def to_dict(self):
        return {
            "mean": self.mean.tolist(),
            "scale": self.scale.tolist(),
            "components": self.components.tolist(),
            "variances": self.variances.tolist(),
            "residual_variance": self.residual_variance,
            "threshold": self.threshold,
            "num_photos": self.num_photos,
        }

    @classmethod
    def from_dict(cls, data):
        arrays = {key: np.asarray(data[key], np.float64) for key in ("mean", "scale", "components", "variances")}
        return cls(**arrays, residual_variance=float(data["residual_variance"]), threshold=float(data["threshold"]),
                   num_photos=int(data.get("num_photos", 0)))  # fmt: skip


def fit_gaussian(features):
    """The PPCA Gaussian (threshold 1) of features [N, F]; K by the rule of the module's constants."""
    features = np.asarray(features, np.float64)
    count, dims = features.shape
    mean = features.mean(axis=0)
    spread = features.std(axis=0)
    # A feature constant over the training photos (a dead channel) keeps a tiny scale, not 0.
    scale = np.maximum(spread, SCALE_FLOOR * max(float(spread.mean()), 1e-12))
    centred = (features - mean) / scale
    # Eigen-decomposition of the covariance through the SVD of the data: stable for F > N too.
    _, singular, directions = np.linalg.svd(centred, full_matrices=False)
    variances = singular**2 / max(count - 1, 1)
    spectrum = np.zeros(dims)
    spectrum[: len(variances)] = variances
    floor = VARIANCE_FLOOR * max(spectrum.mean(), 1e-12)
    explained = np.cumsum(spectrum) / max(spectrum.sum(), 1e-12)
    limit = max(1, min(MAX_COMPONENTS, count // PHOTOS_PER_COMPONENT, dims - 1))
    k = int(min(np.searchsorted(explained, EXPLAINED) + 1, limit))
    residual = max(float(spectrum[k:].mean()) if k < dims else floor, floor)
    return FeatureDensity(mean, scale, directions[:k].T.copy(), np.maximum(spectrum[:k], floor), residual, 1.0, count)


def fit_density(features, exceeding=EXCEEDING):
    """The FeatureDensity of training features [N, F], its threshold set out of fold (see the module)."""
    features = np.asarray(features, np.float64)
    halves = (features[0::2], features[1::2])
    out_of_fold = np.concatenate([fit_gaussian(halves[1 - i]).distance(halves[i]) for i in range(2)])
    threshold = float(np.quantile(out_of_fold, 1.0 - exceeding))
    return dataclasses.replace(fit_gaussian(features), threshold=threshold)
