"""A SavedModel's scoring signatures, with its metadata: the one SavedModel scorer."""

import numpy as np
import tensorflow as tf

from pear_tf.errors import op_error_summary
from pear_tf.inference.metadata import read_metadata
from pear_tf.inference.versions import latest_version_dir


class SavedModelScorer:
    """The latest version of a model base folder (or one version folder), ready to score.

    Attributes:
      path: the version folder loaded.
      metadata: its metadata asset (bins, attribute names, preprocessing, data set).

    Example:
      >>> scorer = SavedModelScorer("savedmodels/demo")
      >>> scorer.score_files(["a.jpg", "b.png"])  # rows with path, score, score_std, ...
    """

    def __init__(self, model_path):
        self.path = latest_version_dir(model_path)
        self.metadata = read_metadata(self.path)
        signatures = tf.saved_model.load(self.path).signatures
        self.signature = signatures["serving_default"]
        self._predict_images = signatures["predict_images"]

    @property
    def image_size(self):
        return int(self.metadata["model_config"]["image_size"])

    def score_bytes(self, encoded):
        """Outputs (numpy arrays) of ``serving_default`` on a list of encoded images."""
        return {k: np.asarray(v) for k, v in self.signature(image_bytes=tf.constant(encoded)).items()}

    def score_images(self, images):
        """Outputs (tensors) of ``predict_images`` on preprocessed images [B, S, S, 3]."""
        return self._predict_images(images=images)

    def score_files(self, paths, batch_size=16):
        """Rows for many files, scored in batches; a batch with a bad file is redone file by file."""
        rows = []
        for start in range(0, len(paths), batch_size):
            chunk = paths[start : start + batch_size]
            try:
                data = []
                for path in chunk:
                    with open(path, "rb") as f:
                        data.append(f.read())
                outputs = self.score_bytes(data)
            except (OSError, tf.errors.InvalidArgumentError):
                rows.extend(self.score_file(path) for path in chunk)
                continue
            rows.extend({"path": p, **{k: v[i].tolist() for k, v in outputs.items()}} for i, p in enumerate(chunk))
        return rows

    def score_file(self, path):
        """One row: path, score, score_std, distribution, attributes; or path and error."""
        try:
            with open(path, "rb") as f:
                data = f.read()
            outputs = self.score_bytes([data])
        except OSError as e:
            return {"path": path, "error": f"could not read: {e.strerror}"}
        except tf.errors.InvalidArgumentError as e:
            return {"path": path, "error": f"could not decode: {op_error_summary(e.message)}"}
        return {"path": path, **{key: value[0].tolist() for key, value in outputs.items()}}
