"""Bulk scoring with a .tflite model: the SavedModel scorer's interface over LiteRT (XNNPACK).

``predict`` and ``beam_score`` take a ``.tflite`` file (int8 or float) where they take a
SavedModel: every image goes through the one host decode and the one preprocessing
(inference/encoded.py, as TFLite apps must), then one ``invoke`` per image on XNNPACK with
``num_threads`` threads. The rows and the error rows are the SavedModel scorer's
(inference/files.py); ``score_std`` is the file's own (fixed noise in the graph since issue 27; 0 from older files).
The file is opened through pear_tf/inference/tflite.py's TFLiteScorer only.
"""

import numpy as np

from pear_tf.data.host_decode import MAX_PIXELS
from pear_tf.errors import BadValue
from pear_tf.inference import files
from pear_tf.inference.encoded import host_images
from pear_tf.inference.storage import local_copy
from pear_tf.inference.tflite import TFLiteScorer


class NoMetadataError(BadValue):
    """A .tflite file without pear_metadata: its bins and attribute names are unknown."""


class TFLiteBulkScorer:
    """A .tflite PEAR model scoring files and encoded images, row for row like SavedModelScorer.

    Attributes:
      path: the file; metadata: its ``pear_metadata`` (bins, attribute names, model name, version);
      precision: "int8" or "float32" (what the file's conversion says), num_threads: XNNPACK's threads.

    Raises:
      NoMetadataError: the file carries no pear_metadata (exported before pear_tf wrote it).
    """

    def __init__(self, path, num_threads=None, max_pixels=MAX_PIXELS):
        self.path = path
        self.num_threads = num_threads
        self.scorer = TFLiteScorer(local_copy(path), num_threads=num_threads)
        self.metadata = self.scorer.metadata
        if self.metadata is None:
            raise NoMetadataError(
                f"{path} carries no pear_metadata (exported before pear_tf wrote it): export it again with "
                "python -m pear_tf.export --tflite=... so that its bins and attribute names travel with it."
            )
        self.precision = self.metadata.get("tflite", {}).get("variant", "float32")
        self.max_pixels = max_pixels

    @property
    def image_size(self):
        return self.scorer.image_size

    def score_images(self, images):
        """{output: numpy [N, ...]} of preprocessed images [N, S, S, 3] (float 0..255), one invoke each."""
        outputs = [self.scorer.score(image) for image in np.asarray(images)]
        return {key: np.stack([np.asarray(o[key], np.float32) for o in outputs]) for key in outputs[0]}

    def score_bytes(self, encoded):
        """Outputs of encoded images of any format the one decode reads; ImageError (``index``) for a bad one."""
        return self.score_images(host_images(encoded, self.image_size, self.max_pixels).numpy())

    def score_files(self, paths, batch_size=16):
        """Rows for many files (as SavedModelScorer.score_files)."""
        return files.score_files(self, paths, batch_size)

    def score_file(self, path):
        """One row, or an error row (as SavedModelScorer.score_file)."""
        return files.score_file(self, path)
