"""A SavedModel's scoring signatures, with its metadata: the one SavedModel scorer."""

import numpy as np
import tensorflow as tf

from pear_tf.data.host_decode import MAX_PIXELS, ImageError
from pear_tf.errors import op_error_summary
from pear_tf.inference.encoded import graph_decodes, score_encoded
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

    def __init__(self, model_path, max_pixels=MAX_PIXELS):
        self.path = latest_version_dir(model_path)
        self.metadata = read_metadata(self.path)
        self.signatures = tf.saved_model.load(self.path).signatures
        self.signature = self.signatures["serving_default"]
        self._predict_images = self.signatures["predict_images"]
        self.max_pixels = max_pixels

    @property
    def image_size(self):
        return int(self.metadata["model_config"]["image_size"])

    def score_bytes(self, encoded):
        """Outputs (numpy arrays) of a list of encoded images of any supported format (inference/encoded.py).

        Raises ImageError (an image that cannot be used) or InvalidArgumentError (a batch the graph refused).
        """
        return score_encoded(self.signatures, encoded, self.image_size, self.max_pixels,
                             in_graph=graph_decodes(self.metadata))  # fmt: skip

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
            except (OSError, ImageError, tf.errors.InvalidArgumentError):
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
        except ImageError as e:
            return {"path": path, "error": f"could not decode: {e}"}
        except tf.errors.InvalidArgumentError as e:
            return {"path": path, "error": f"could not decode: {op_error_summary(e.message)}"}
        return {"path": path, **{key: value[0].tolist() for key, value in outputs.items()}}
