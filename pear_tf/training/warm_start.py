"""Starting a run from a trained model (--init_from): every variable whose part and shape match.

The source is a training run's folder (its latest checkpoint: every part, the
reconstruction head included) or a SavedModel (a base or version folder: the scoring
parts, backbone, latents and aesthetic head). Parts are matched by role (backbone,
latents, aesthetic head, reconstruction head); a part whose variables differ in shape
(the aesthetic head when the data set's bins differ) starts fresh, and the log says so.
"""

import dataclasses
import os

import tensorflow as tf

from pear_tf import errors
from pear_tf.config import ModelConfig
from pear_tf.exporting.saved_model import restore_model
from pear_tf.inference.metadata import read_metadata
from pear_tf.inference.versions import latest_version_dir
from pear_tf.model import build_rating_model

PARTS = ("backbone", "latents", "aesthetic_head", "reconstruction_head")


def load_source(init_from):
    """The trained model behind ``init_from``, rebuilt in Keras, and the names of its trained parts.

    A run folder's checkpoint holds every part; a SavedModel only the scoring ones.
    """
    if os.path.exists(os.path.join(init_from, "model_config.json")):
        model, _ = restore_model(init_from)
        return model, PARTS
    try:
        path = latest_version_dir(init_from)
    except FileNotFoundError:
        raise errors.NotFound(
            f"--init_from={init_from!r} is neither a pear_tf.train run folder (model_config.json, checkpoints/) "
            "nor a SavedModel (a base folder of versions, or a version folder)."
        ) from None
    config = ModelConfig.from_json_dict(read_metadata(path)["model_config"])
    model = build_rating_model(dataclasses.replace(config, backbone_weights=None))  # every weight is loaded
    model.build_all()
    # The export saved the scoring layers' variables in this order (ScoringModule).
    saved = tf.saved_model.load(path).scoring_variables
    variables = [v for part in model.scoring_layers() for v in part.variables]
    if len(saved) != len(variables):
        raise errors.BadValue(f"{path} holds {len(saved)} scoring variables, its model_config builds {len(variables)}.")
    for target, value in zip(variables, saved):
        target.assign(value)
    return model, tuple(name for name in PARTS if getattr(model, name, None) in model.scoring_layers())


def warm_start(model, init_from):
    """Copies every matching part of the model at ``init_from`` into ``model``.

    Returns:
      {"copied": [part names], "fresh": [(part name, reason)]}.
    """
    source, trained = load_source(init_from)
    copied, fresh = [], []
    for name in PARTS:
        target_part, source_part = getattr(model, name, None), getattr(source, name, None)
        if target_part is None:
            continue
        if source_part is None or name not in trained:
            fresh.append((name, "the source model has none" if source_part is None else "not in a SavedModel"))
            continue
        reason = _mismatch(weights(source_part), weights(target_part))
        if reason:
            fresh.append((name, reason))
            continue
        for target, value in zip(weights(target_part), weights(source_part)):
            target.assign(value)
        copied.append(name)
    return {"copied": copied, "fresh": fresh}


def weights(part):
    """A part's learned state: its variables without the latent sampler's random-stream state."""
    return [v for v in part.variables if "seed_generator" not in v.path]


def _mismatch(source, target):
    if len(source) != len(target):
        return f"{len(source)} variables in the source, {len(target)} here"
    for a, b in zip(source, target):
        if tuple(a.shape) != tuple(b.shape):
            return f"{a.path} is {tuple(a.shape)} in the source, {tuple(b.shape)} here"
    return None
