"""How photo-like an input is: the density of its backbone statistics under the training photos'.

The features are the backbone's maps summarised at every resolution (model/stages.py; the
pooled feature is the last map's mean), each dimension standardised by the training photos'
mean and std. A Gaussian of them is fitted to the training split's photos as probabilistic
PCA (Tipping & Bishop): the leading K directions with their own variances, the rest of the
space with one shared variance. Its Mahalanobis distance d² is large for what the encoder has
never seen (a blank frame, noise, a page of text, a screenshot).

A second Gaussian, the *texture* density, sees only the spatial standard deviations, on the
log scale. They are scale statistics (never negative, skewed): a Gaussian of the raw values
reaches down to a frame with no texture at all (std 0: a blank or single-colour frame), which
on the log scale lies far below every photo; the log is ``log(1 + std / offset)``, the offset
1 % of the training photos' median of that std (as SCALE_FLOOR, a share of the data's own
scale; no texture is 0, a typical photo near log 101); a std near 0 for most photos (a dead
channel) is left out. An input is photo-like when both Gaussians say so. (Adding the logs to
the first Gaussian instead, or replacing the stds by them, flagged fewer of the not-photos no
one here designed: BUILD_NOTES.)

Thresholds: each Gaussian's d² is divided by its 99th percentile over the training photos
*out of fold* (each half scored by the other half's fit), and the threshold of the larger of
the two is again their 99th percentile, so that 1 % of photos like the training ones, seen
or unseen, exceed it; ``ood_score`` = that ratio, ``is_photo_like`` = ood_score ≤ 1. The
final densities are fitted on all the photos.
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
LOG_OFFSET = 1e-2  # a std's log is log(1 + std / offset), offset = LOG_OFFSET × its median over the photos


@dataclasses.dataclass(frozen=True)
class FeatureDensity:
    """A PPCA Gaussian of the backbone's stage statistics and its 1 % threshold.

    Attributes:
      mean, scale: [F], the standardisation (x − mean) / scale;
      components: [F, K] orthonormal directions of the standardised features; variances: [K];
      residual_variance: the shared variance of the other F−K directions;
      threshold: the d² at which it flags (with ``texture``: the two together flag 1 % of the
        training photos, out of fold);
      num_photos: training photos it was fitted on;
      log_offset: [F] or None: this Gaussian sees only log(1 + max(x, 0) / offset) of the features
        whose offset is > 0 (mean, scale, components cover those);
      texture: a second FeatureDensity (the texture density, with a log_offset) or None.
    """

    mean: np.ndarray
    scale: np.ndarray
    components: np.ndarray
    variances: np.ndarray
    residual_variance: float
    threshold: float = 1.0
    num_photos: int = 0
    log_offset: np.ndarray | None = None
    texture: "FeatureDensity | None" = None

    def transformed(self, features):
        """The features [N, F] as this Gaussian sees them (with a log_offset: the logs of the selected)."""
        return gaussian_features(features, self.log_offset)

    def distance(self, features):
        """Mahalanobis d² [N] of features [N, F]."""
        centred = (self.transformed(features) - self.mean) / self.scale
        projected = centred @ self.components
        residual = np.sum(centred**2, axis=-1) - np.sum(projected**2, axis=-1)
        return np.sum(projected**2 / self.variances, axis=-1) + np.maximum(residual, 0.0) / self.residual_variance

    def ood_score(self, features):
        """d² / threshold [N], the larger of the two Gaussians' with a texture density."""
        score = self.distance(features) / self.threshold
        return score if self.texture is None else np.maximum(score, self.texture.ood_score(features))

    def to_dict(self):
        return {
            "mean": self.mean.tolist(),
            "scale": self.scale.tolist(),
            "components": self.components.tolist(),
            "variances": self.variances.tolist(),
            "residual_variance": self.residual_variance,
            "threshold": self.threshold,
            "num_photos": self.num_photos,
            **({"log_offset": self.log_offset.tolist()} if self.log_offset is not None else {}),
            **({"texture": self.texture.to_dict()} if self.texture is not None else {}),
        }

    @classmethod
    def from_dict(cls, data):
        arrays = {key: np.asarray(data[key], np.float64) for key in ("mean", "scale", "components", "variances")}
        log_offset = np.asarray(data["log_offset"], np.float64) if "log_offset" in data else None
        texture = cls.from_dict(data["texture"]) if data.get("texture") else None  # older runs: none
        return cls(**arrays, residual_variance=float(data["residual_variance"]), threshold=float(data["threshold"]),
                   num_photos=int(data.get("num_photos", 0)), log_offset=log_offset, texture=texture)  # fmt: skip


def gaussian_features(features, log_offset):
    """features [N, F] as they are (no offsets), or log(1 + max(x, 0) / offset) of those whose offset is > 0."""
    features = np.asarray(features, np.float64)
    if log_offset is None:
        return features
    logged = log_offset > 0
    return np.log1p(np.maximum(features[:, logged], 0.0) / log_offset[logged])


def log_offsets(features, logged):
    """[F]: LOG_OFFSET × the training photos' median of each ``logged`` feature, 0 elsewhere.

    A std whose median is below SCALE_FLOOR × the logged features' mean median (a channel dead
    for most photos) gets no log (offset 0): its offset would sit below the network's rounding
    (float16 weights move such a channel by more), and the log would magnify that noise into
    the flag. Written log(1 + x / offset), not log(x + offset): a photo's value is some 4.6,
    not −10 on float16's grid of 0.008 (the float16 variant stores the constants in it).
    """
    logged = np.asarray(logged, bool)
    offsets = np.zeros(features.shape[1])
    if logged.any():
        medians = np.median(np.maximum(features[:, logged], 0.0), axis=0)
        live = medians > SCALE_FLOOR * max(float(medians.mean()), 1e-12)
        offsets[np.flatnonzero(logged)[live]] = LOG_OFFSET * medians[live]
    return offsets


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


def _out_of_fold(features):
    """d² [N] of each half of features [N, F] (even, odd rows) under the other half's Gaussian."""
    distances = np.empty(len(features))
    for i in range(2):
        distances[i::2] = fit_gaussian(features[1 - i :: 2]).distance(features[i::2])
    return distances


def fit_density(features, exceeding=EXCEEDING, logged=None):
    """The FeatureDensity of training features [N, F], its threshold set out of fold (see the module).

    ``logged``: [F] bools, the features that are spreads (model/stages.py's ``spread_mask``): with
    any, a texture density of their logs joins (see the module); None: the one Gaussian.
    """
    features = np.asarray(features, np.float64)
    offsets = log_offsets(features, logged) if logged is not None and np.any(logged) else None
    base = _out_of_fold(features)
    if offsets is None or not np.any(offsets > 0):
        return dataclasses.replace(fit_gaussian(features), threshold=float(np.quantile(base, 1.0 - exceeding)))
    logs = gaussian_features(features, offsets)
    texture = _out_of_fold(logs)
    base_threshold, texture_threshold = (float(np.quantile(d, 1.0 - exceeding)) for d in (base, texture))
    joint = float(np.quantile(np.maximum(base / base_threshold, texture / texture_threshold), 1.0 - exceeding))
    texture_density = dataclasses.replace(fit_gaussian(logs), threshold=texture_threshold * joint, log_offset=offsets)
    return dataclasses.replace(fit_gaussian(features), threshold=base_threshold * joint, texture=texture_density)
