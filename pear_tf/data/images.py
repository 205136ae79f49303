"""Reading image files for training without ever crashing or losing track of a bad one.

Files are decoded by the one decode (pear_tf/data/host_decode.py: the SavedModel's own
graph decode where it can, Pillow for the formats and colours it cannot), so a photo means
the same pixels in training and serving. A file that cannot be used (missing, empty,
truncated, not an image, a format whose extra is missing, or more pixels than
``max_pixels``) is skipped, and the ``SkipLog`` records its path and reason; the run writes
them to ``<model_dir>/skipped_images.txt``.
"""

import os
import threading

import numpy as np
import tensorflow as tf
from absl import logging

from pear_tf.data import host_decode

# Data-set files: PIL's own decompression-bomb limit; larger images are refused before decoding.
# (The server and the SavedModel have their own limit: pear_tf.data.decode.MAX_PIXELS.)
DATASET_MAX_PIXELS = 89_478_485


def decode_checked(data, max_pixels, target_side=None):
    """(uint8 RGB image [H, W, 3], None) or (None, the reason it cannot be used)."""
    try:
        return host_decode.decode_bytes(data, target_side, max_pixels), None
    except host_decode.ImageError as e:
        return None, str(e)


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


def read_image(path, skip_log, max_pixels=DATASET_MAX_PIXELS, target_side=None):
    """Reads and decodes one file to upright uint8 RGB, or records why not and returns None.

    ``target_side``: the side it will be resized to, so a large JPEG decodes at a DCT scale.
    """
    reason = missing_or_empty(path)
    if reason is None:
        try:
            with open(path, "rb") as f:
                image, reason = decode_checked(f.read(), max_pixels, target_side)
        except OSError as e:
            image, reason = None, f"unreadable ({e.strerror})"
        if image is not None:
            return image
    skip_log.add(path, reason)
    return None


def load_image_op(path, skip_log, max_pixels=DATASET_MAX_PIXELS, target_side=None):
    """tf.data map function: path → (uint8 [H, W, 3] image, ok). Bad files give ok=False."""

    def load(path_tensor):
        image = read_image(path_tensor.numpy().decode("utf-8"), skip_log, max_pixels, target_side)
        if image is None:
            return np.zeros([1, 1, 3], np.uint8), False
        return image, True

    image, ok = tf.py_function(load, [path], [tf.uint8, tf.bool])
    image.set_shape([None, None, 3])
    ok.set_shape([])
    return image, ok
