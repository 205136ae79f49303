"""The taste space: the generic model's per-photo outputs as a few standardised features.

A photo's raw features are the generic model's outputs, ``[score, attributes (11),
content (the content latent's mean, 100)]``. Ten to a hundred ratings cannot fit 112
weights, and content's 100 dimensions are correlated, so the space keeps the generic
score and the attributes, each standardised, and the first principal components of the
content latent, whitened; all of it fitted once on the base model's training photos
(no ratings needed) and stored with the model. The map is affine,

    x = (raw − raw_mean) · projection,

so a personal correction linear in x is linear in the raw outputs, which is how the
personal SavedModel applies it in the graph.
"""

import dataclasses

import numpy as np

from pear_tf.attributes import ATTRIBUTE_NAMES
from pear_tf.errors import BadValue

GENERIC = "generic score"
FIXED = 1 + len(ATTRIBUTE_NAMES)  # the generic score and the attributes, always in the space
# Floor of a feature's std: an attribute the model hardly varies must not divide by zero.
MIN_STD = 1e-9


def raw_features(features):
    """[n, 1 + 11 + C] from a features dict (``score``, ``attributes`` and, if the model has it, ``content``)."""
    parts = [np.asarray(features["score"], np.float64)[:, None], np.asarray(features["attributes"], np.float64)]
    if features.get("content") is not None:
        parts.append(np.asarray(features["content"], np.float64))
    return np.concatenate(parts, axis=1)


@dataclasses.dataclass(frozen=True)
class TasteSpace:
    """The affine map from raw outputs to taste features, and the reference photos' statistics.

    Attributes:
      raw_mean: [R] the reference photos' mean raw features.
      raw_std: [R] their std (for effects per std of an attribute).
      projection: [R, D] raw (centred) → standardised features.
      names: [D] what each feature is: the generic score, the 11 attributes, content components.
      generic_mean, generic_std: the generic score's mean and std over the reference photos,
        the scale a personal score is mapped back to.
      covariance: [D, D] the features' covariance over the reference photos.
      num_photos: how many reference photos it was fitted on.
    """

    raw_mean: np.ndarray
    raw_std: np.ndarray
    projection: np.ndarray
    names: tuple
    generic_mean: float
    generic_std: float
    covariance: np.ndarray
    num_photos: int

    @property
    def num_features(self):
        return len(self.names)

    @property
    def num_content(self):
        return sum(name.startswith("content") for name in self.names)

    def transform(self, raw):
        """Standardised features [n, D] of raw features [n, R]."""
        raw = np.asarray(raw, np.float64)
        if raw.shape[1] != len(self.raw_mean):
            raise BadValue(
                f"the taste space expects {len(self.raw_mean)} raw features per photo (score, attributes"
                f"{', content' if len(self.raw_mean) > 12 else ''}); the model gave {raw.shape[1]}."
            )
        return (raw - self.raw_mean) @ self.projection

    def truncate(self, num_content):
        """The same space with only the first ``num_content`` content components."""
        keep = FIXED + num_content
        return dataclasses.replace(self, projection=self.projection[:, :keep], names=self.names[:keep],
                                   covariance=self.covariance[:keep, :keep])  # fmt: skip

    def to_json(self):
        return {
            "raw_mean": self.raw_mean.tolist(),
            "raw_std": self.raw_std.tolist(),
            "projection": self.projection.tolist(),
            "names": list(self.names),
            "generic_mean": self.generic_mean,
            "generic_std": self.generic_std,
            "covariance": self.covariance.tolist(),
            "num_photos": self.num_photos,
        }

    @classmethod
    def from_json(cls, data):
        return cls(
            raw_mean=np.asarray(data["raw_mean"], np.float64),
            raw_std=np.asarray(data["raw_std"], np.float64),
            projection=np.asarray(data["projection"], np.float64),
            names=tuple(data["names"]),
            generic_mean=float(data["generic_mean"]),
            generic_std=float(data["generic_std"]),
            covariance=np.asarray(data["covariance"], np.float64),
            num_photos=int(data["num_photos"]),
        )


def fit_space(raw, components):
    """Fits the space on reference photos' raw features [n, R] (R = 12 without content).

    Args:
      raw: raw features (see raw_features) of photos the base model was trained on.
      components: content principal components to keep (at most the content's dimension
        and n − 1); 0 keeps the score and attributes only.
    """
    raw = np.asarray(raw, np.float64)
    count, width = raw.shape
    fixed = FIXED
    mean = raw.mean(axis=0)
    centred = raw - mean
    std = np.maximum(centred[:, :fixed].std(axis=0), MIN_STD)
    blocks = [np.diag(1.0 / std)]
    components = min(components, width - fixed, count - 1)
    if components > 0:
        # Principal axes of the content latent, each scaled to unit variance (whitened).
        _, singular, axes = np.linalg.svd(centred[:, fixed:], full_matrices=False)
        scale = np.maximum(singular[:components] / np.sqrt(count), MIN_STD)
        blocks.append(axes[:components].T / scale)
    projection = np.zeros((width, sum(b.shape[1] for b in blocks)))
    projection[:fixed, :fixed] = blocks[0]
    if components > 0:
        projection[fixed:, fixed:] = blocks[1]
    # Every other feature loses its linear part in the generic score and is scaled back to unit
    # variance: the generic score's weight then means "agrees with the crowd" whatever else
    # is in the space, and the other weights are tastes beside the crowd's.
    features = centred @ projection
    along = features[:, 1:].T @ features[:, 0] / max(features[:, 0] @ features[:, 0], MIN_STD)
    untangle = np.eye(projection.shape[1])
    untangle[0, 1:] = -along
    residual_std = np.maximum((features @ untangle)[:, 1:].std(axis=0), MIN_STD)
    untangle[:, 1:] /= residual_std
    projection = projection @ untangle
    names = (GENERIC, *ATTRIBUTE_NAMES, *(f"content {i + 1}" for i in range(max(components, 0))))
    features = centred @ projection
    return TasteSpace(mean, centred.std(axis=0), projection, names, float(mean[0]), float(std[0]),
                      np.cov(features, rowvar=False, bias=True), count)  # fmt: skip
