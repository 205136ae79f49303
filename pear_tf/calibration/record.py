"""ScoreCalibration: the fitted map, uncertainty choice and feature density, as one JSON-able record.

A run folder keeps it as ``calibration.json`` (with the checkpoint it was fitted for), so an
export or an evaluation of the run applies the same numbers without scoring the splits again.
"""

import dataclasses
import json
import os

from pear_tf.calibration.density import FeatureDensity
from pear_tf.calibration.monotone import MonotoneMap, identity_map
from pear_tf.calibration.uncertainty import UncertaintyChoice

FILE = "calibration.json"

# What each exported output is: the metadata's ``output_descriptions`` (docs/serving.md says the same).
DESCRIPTIONS = {
    "score": "the mean of the predicted rater distribution over the bins (the paper's score; ranks photos)",
    "score_std": "the spread around calibrated_score on the raters' scale: calibrated_score ± score_std covered "
    "68 % of the validation photos' true means; which spread it is: calibration.score_std.source",
    "distribution": "the predicted share of raters voting each bin",
    "attributes": "the 11 photographic attributes' probabilities, AADB order (attribute_names)",
    "content": "the content latent's mean (the 100-dimensional s), what personalisation's taste space is built on",
    "calibrated_score": "score mapped onto the raters' scale by a monotone map fitted on the validation split "
    "(ranks photos exactly as score does)",
    "ood_score": "how unlike the training photos the input is, to the model: the Mahalanobis distance of its backbone "
    "statistics (each resolution's channel means and spatial stds) and, with a texture density, of the stds' logs, "
    "each over its own 1 % distance; the larger, scaled so that 1 % of training photos exceed 1",
    "is_photo_like": "ood_score <= 1: the input looks like the photos the model was trained on",
}


def output_names(calibration, has_attributes):
    """The exported outputs, in the metadata's order."""
    names = ["score", "score_std", "distribution"] + (["attributes", "content"] if has_attributes else [])
    return names + ["calibrated_score"] + (["ood_score", "is_photo_like"] if calibration.density is not None else [])


def metadata(calibration, has_attributes, mc_samples):
    """The SavedModel metadata keys that describe the outputs and how they were calibrated."""
    names = output_names(calibration, has_attributes)
    choice = calibration.uncertainty
    ood = None
    if calibration.density is not None:
        density = calibration.density
        ood = {"feature": "the backbone's maps at every resolution: channel means and spatial stds (model/stages.py)",
               "directions": int(density.components.shape[1]),
               "threshold_d2": density.threshold, "training_photos": density.num_photos,
               "training_photos_exceeding": 0.01}  # fmt: skip
        if density.texture is not None:
            ood["texture"] = {"feature": "log(1 + std / (1 % of its median)) of the spatial stds",
                              "features": int(density.texture.components.shape[0]),
                              "directions": int(density.texture.components.shape[1]),
                              "threshold_d2": density.texture.threshold}  # fmt: skip
    return {
        "outputs": names,
        "output_descriptions": {name: DESCRIPTIONS[name] for name in names},
        "calibration": {
            "score_map": calibration.score_map.to_dict(),
            "score_std": {**choice.to_dict(), "units": "raters' scale, around calibrated_score", "coverage": 0.683},
            "ood": ood,
            "fitted": calibration.fitted,
            "sampling": f"{mc_samples} latent samples with fixed noise (pear_tf.model.latents.scoring_noise): the "
            "same image gives the same outputs on every path, whatever else is in the batch",
        },
    }


@dataclasses.dataclass(frozen=True)
class ScoreCalibration:
    """What the exported graph adds to the model's outputs.

    Attributes:
      score_map: MonotoneMap score → ``calibrated_score`` (identity when nothing was fitted).
      uncertainty: UncertaintyChoice behind ``score_std``.
      density: FeatureDensity behind ``ood_score`` / ``is_photo_like``, or None (no such outputs).
      fitted: how it was fitted (split sizes, checkpoint, figures on the validation split).
    """

    score_map: MonotoneMap
    uncertainty: UncertaintyChoice
    density: FeatureDensity | None = None
    fitted: dict = dataclasses.field(default_factory=dict)

    def to_dict(self):
        return {
            "score_map": self.score_map.to_dict(),
            "uncertainty": self.uncertainty.to_dict(),
            "density": self.density.to_dict() if self.density is not None else None,
            "fitted": self.fitted,
        }

    @classmethod
    def from_dict(cls, data):
        density = FeatureDensity.from_dict(data["density"]) if data.get("density") else None
        return cls(MonotoneMap.from_dict(data["score_map"]), UncertaintyChoice.from_dict(data["uncertainty"]),
                   density, data.get("fitted", {}))  # fmt: skip


def unfitted(bin_values, sampled):
    """The calibration of a model with nothing to fit on: identity map, the raw Monte-Carlo std, no flag.

    ``sampled``: the model draws latent samples (PEAR with mc_samples > 0); a baseline's std is 0.
    """
    uncertainty = UncertaintyChoice("latent", 1.0) if sampled else UncertaintyChoice("constant", 0.0)
    return ScoreCalibration(identity_map(bin_values), uncertainty, None, {"method": "none: no data to fit on"})


def save(calibration, model_dir):
    """Writes ``<model_dir>/calibration.json``; returns its path."""
    path = os.path.join(model_dir, FILE)
    with open(path, "w") as f:
        json.dump(calibration.to_dict(), f)
    return path


def load(model_dir, checkpoint=None):
    """The run's ScoreCalibration, or None when it has none (or one fitted for another ``checkpoint``)."""
    path = os.path.join(model_dir, FILE)
    if not os.path.exists(path):
        return None
    with open(path) as f:
        data = json.load(f)
    fitted_for = data.get("fitted", {}).get("checkpoint")
    if checkpoint is not None and fitted_for is not None and checkpoint_name(fitted_for) != checkpoint_name(checkpoint):
        return None
    return ScoreCalibration.from_dict(data)


def checkpoint_name(path):
    """``checkpoints/ckpt-25`` or ``best/ckpt-3``: a checkpoint's name, whatever path led to the run folder."""
    return "/".join(os.path.normpath(path).split(os.sep)[-2:])
