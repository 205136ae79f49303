"""The export's metadata asset (``<version>/assets/pear_metadata.json``): the one reader."""

import json
import os

import tensorflow as tf

from pear_tf import errors
from pear_tf.inference.versions import METADATA_FILE

# The README section to read when a model was trained on the embedded synthetic set.
DEMO_README_SECTION = "docs/training.md, 'Training on real photos'"


def read_metadata(version_dir):
    """The metadata dict of one SavedModel version folder."""
    path = os.path.join(version_dir, "assets", METADATA_FILE)
    try:
        with tf.io.gfile.GFile(path) as f:  # gs:// and other filesystems TensorFlow knows
            return json.load(f)
    except (FileNotFoundError, tf.errors.NotFoundError):
        raise errors.NotFound(
            f"{version_dir} has no {METADATA_FILE} asset: it was not exported by pear_tf (export it again)."
        ) from None


def image_size(metadata):
    """Side of the model's square input."""
    return int(metadata["model_config"]["image_size"])


def demo_warning(metadata):
    """A plain warning when the model learned from the synthetic demo set, else None.

    Its scores follow the demo's generative rule, not photographic taste.
    """
    if metadata.get("dataset") != "synthetic":
        return None
    return (
        "WARNING: this model was trained on the synthetic demo set; its scores mean nothing for real "
        f"photos. To rate real photos, train on AVA, AADB or your own ratings: see {DEMO_README_SECTION}."
    )
