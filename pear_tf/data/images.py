"""Reading image files for training without ever crashing or losing track of a bad one.

``decode_checked`` decides whether encoded bytes can be used at all: empty data, a header
declaring more than ``max_pixels`` (a decompression bomb, refused before any pixel is
decoded), and anything TensorFlow's decoder (the SavedModel's) rejects. The training
pipeline uses it and skips and lists bad files; the server checks only the header
(pear_tf/serving/image_header.py) and lets the model decode.

Files are decoded with TensorFlow's own decoder (the SavedModel's), so a photo means the
same pixels in training and serving. A file that cannot be used (missing, empty,
truncated, not an image, or with more pixels than ``max_pixels``) is skipped, and
the ``SkipLog`` records its path and reason; the run writes them to
``<model_dir>/skipped_images.txt``.
"""

import io
import os
import threading

import numpy as np
import tensorflow as tf
from absl import logging
from PIL import Image

from pear_tf.errors import op_error_summary

# Data-set files: PIL's own decompression-bomb limit; larger images are refused before decoding.
# (The server has its own, lower limit: REQUEST_MAX_PIXELS in pear_tf/serving/core.py.)
DATASET_MAX_PIXELS = 89_478_485


def decode_checked(data, max_pixels):
    """(uint8 RGB image [H, W, 3], None) or (None, the reason it cannot be used)."""
    if not data:
        return None, "empty (zero bytes)"
    try:
        with Image.open(io.BytesIO(data)) as header:  # reads the header only
            width, height = header.size
    except Image.DecompressionBombError:
        return None, "too many pixels declared (decompression bomb)"
    except Exception:  # noqa: BLE001 - a format PIL does not know; TF's decoder decides below
        width = height = 0
    if width * height > max_pixels:
        return None, f"{width}x{height} pixels declared, over the limit of {max_pixels}"
    try:
        return tf.io.decode_image(data, channels=3, dtype=tf.uint8, expand_animations=False).numpy(), None
    except tf.errors.InvalidArgumentError as e:
        return None, f"not decodable: {op_error_summary(e.message)}"


class SkipLog:
    """Thread-safe record of skipped files: path → reason (each path once).

    ``entries``: (path, reason) pairs known before any image is read (Splits.dropped).
    """

    def __init__(self, entries=()):
        self._lock = threading.Lock()
        self._reasons = {}
        for path, reason in entries:
            self.add(path, reason)

    def add(self, path, reason):
        with self._lock:
            if path not in self._reasons:
                self._reasons[path] = reason
                logging.warning("Skipping %s: %s", path, reason)

    def __len__(self):
        with self._lock:
            return len(self._reasons)

    def items(self):
        with self._lock:
            return sorted(self._reasons.items())

    def write(self, path):
        """Writes ``<file>\\t<reason>`` lines; returns the count."""
        items = self.items()
        with open(path, "w") as f:
            f.writelines(f"{p}\t{reason}\n" for p, reason in items)
        return len(items)


def missing_or_empty(path):
    """A reason the file cannot be used at all, found without reading it; None if it may be fine."""
    try:
        size = os.stat(path).st_size
    except OSError:
        return "missing"
    return "empty file" if size == 0 else None


def read_image(path, skip_log, max_pixels=DATASET_MAX_PIXELS):
    """Reads and decodes one file to uint8 RGB, or records why not and returns None."""
    reason = missing_or_empty(path)
    if reason is None:
        try:
            with open(path, "rb") as f:
                image, reason = decode_checked(f.read(), max_pixels)
        except OSError as e:
            image, reason = None, f"unreadable ({e.strerror})"
        if image is not None:
            return image
    skip_log.add(path, reason)
    return None


def load_image_op(path, skip_log, max_pixels=DATASET_MAX_PIXELS):
    """tf.data map function: path → (uint8 [H, W, 3] image, ok). Bad files give ok=False."""

    def load(path_tensor):
        image = read_image(path_tensor.numpy().decode("utf-8"), skip_log, max_pixels)
        if image is None:
            return np.zeros([1, 1, 3], np.uint8), False
        return image, True

    image, ok = tf.py_function(load, [path], [tf.uint8, tf.bool])
    image.set_shape([None, None, 3])
    ok.set_shape([])
    return image, ok
