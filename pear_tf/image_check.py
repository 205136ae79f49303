"""Deciding whether encoded image bytes can be used, before they reach a batch or a model.

Shared by the training pipeline (which skips and lists bad files) and the server (which
answers 400): empty data, a header declaring more than ``max_pixels`` (a decompression
bomb, refused before any pixel is decoded), and anything TensorFlow's decoder (the
SavedModel's) rejects.
"""

import io

import tensorflow as tf
from PIL import Image

from pear_tf.errors import op_error_summary


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
