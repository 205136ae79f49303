"""The export's metadata: the one reader of a SavedModel's asset (``<version>/assets/pear_metadata.json``)
and of a .tflite file's ``pear_metadata`` entry. Neither imports TensorFlow for a local model.
"""

import json
import os

from pear_tf import errors
from pear_tf.inference import storage
from pear_tf.inference.versions import METADATA_FILE

# The name of a .tflite file's Model.metadata entry whose buffer holds the JSON.
METADATA_NAME = "pear_metadata"

# The README section to read when a model was trained on the embedded synthetic set.
DEMO_README_SECTION = "docs/training.md, 'Training on real photos'"


def read_metadata(version_dir):
    """The metadata dict of one SavedModel version folder."""
    path = os.path.join(version_dir, "assets", METADATA_FILE)
    try:
        return json.loads(storage.read_bytes(path).decode("utf-8"))  # gs:// and other filesystems TensorFlow knows
    except FileNotFoundError:
        raise errors.NotFound(
            f"{version_dir} has no {METADATA_FILE} asset: it was not exported by pear_tf (export it again)."
        ) from None


def read_tflite_metadata(path_or_bytes):
    """The ``pear_metadata`` dict of a .tflite file (a local path or its bytes); None when it has none."""
    from ai_edge_litert import schema_py_generated as schema  # the [tflite] extra

    data = bytes(path_or_bytes) if isinstance(path_or_bytes, (bytes, bytearray)) else storage.read_bytes(path_or_bytes)
    model = schema.Model.GetRootAs(data, 0)
    for i in range(model.MetadataLength()):
        entry = model.Metadata(i)
        if entry.Name() is not None and entry.Name().decode() == METADATA_NAME:
            return json.loads(model.Buffers(entry.Buffer()).DataAsNumpy().tobytes().decode("utf-8"))
    return None


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
