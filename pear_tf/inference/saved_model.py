"""A SavedModel's scoring signatures, with its metadata: the one SavedModel scorer."""

import tensorflow as tf

from pear_tf.data.host_decode import MAX_PIXELS
from pear_tf.inference import files
from pear_tf.inference import precision as precision_lib
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

    def __init__(self, model_path, max_pixels=MAX_PIXELS, precision=None):
        self.path = latest_version_dir(model_path)
        self.metadata = read_metadata(self.path)
        # precision (issue 25): None scores as exported; float32, bfloat16 or auto (inference/precision.py).
        self.signatures, self.precision, self.precision_note = precision_lib.scoring_signatures(
            tf.saved_model.load(self.path).signatures, self.metadata, precision
        )
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
        return files.score_files(self, paths, batch_size)

    def score_file(self, path):
        """One row: path, score, score_std, distribution, attributes; or path and error."""
        return files.score_file(self, path)
