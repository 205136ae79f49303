"""The TF Serving model layout: ``<base>/<version>/`` with numeric versions.

Paths go through ``storage`` (``tf.io.gfile`` for a URL), so a model on any filesystem TensorFlow
knows (``gs://`` included) is read the same way as a local one (Beam workers on a cluster).
"""

import os

from pear_tf import errors
from pear_tf.inference import storage

# The export's metadata asset: <version>/assets/pear_metadata.json.
METADATA_FILE = "pear_metadata.json"


def list_versions(base_dir):
    """Numeric version folders of a model base folder, ascending (hidden temp folders ignored)."""
    if not storage.isdir(base_dir):
        return []
    names = (name.rstrip("/") for name in storage.listdir(base_dir))  # object stores end folders with /
    return sorted(int(name) for name in names if name.isdigit())


def latest_version_dir(base_dir):
    """The highest version folder of ``base_dir``; the folder itself if it is a SavedModel."""
    if storage.exists(os.path.join(base_dir, "saved_model.pb")):
        return base_dir
    versions = list_versions(base_dir)
    if not versions:
        raise errors.NotFound(
            f"{base_dir!r} holds no SavedModel versions (<base>/<number>/saved_model.pb); "
            "export one with python -m pear_tf.train or pear_tf.export."
        )
    return os.path.join(base_dir, str(versions[-1]))
