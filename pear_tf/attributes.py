"""The photographic attributes and rating scales that every part of PEAR shares.

Nothing here imports TensorFlow, so the model, the data readers and the serving
code can all depend on it without depending on each other.
"""

import dataclasses

# AADB's 11 attributes, spelled exactly as in its label files (``BalacingElements``
# included) and in this order everywhere: latent z, SavedModel outputs, charts.
ATTRIBUTE_NAMES = (
    "BalacingElements",
    "ColorHarmony",
    "Content",
    "DoF",
    "Light",
    "MotionBlur",
    "Object",
    "Repetition",
    "RuleOfThirds",
    "Symmetry",
    "VividColor",
)
NUM_ATTRIBUTES = len(ATTRIBUTE_NAMES)


@dataclasses.dataclass(frozen=True)
class RatingScale:
    """The bins of a rater vote distribution.

    Attributes:
      name: the data set the scale comes from.
      bin_values: the score each bin stands for (AVA 1..10, AADB 0..5).
      threshold: mean scores above it count as "high" for binary accuracy.
    """

    name: str
    bin_values: tuple
    threshold: float

    @property
    def num_bins(self):
        return len(self.bin_values)


AVA_SCALE = RatingScale("ava", tuple(float(v) for v in range(1, 11)), 5.0)
AADB_SCALE = RatingScale("aadb", tuple(float(v) for v in range(0, 6)), 2.5)
SCALES = {"ava": AVA_SCALE, "aadb": AADB_SCALE}
