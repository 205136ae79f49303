"""The request check of an encoded image, from its header alone: the model decodes it once.

Only the header is read (PIL opens images lazily), so the check costs microseconds: the
bytes are not empty, the format is one the SavedModel's decoder reads, and the declared
size is under the pixel limit (a decompression bomb is refused before any pixel is
decoded). Data that is damaged after its header fails in the model's own decoder; the
server then finds which image it was with ``first_undecodable``.
"""

import io

import tensorflow as tf
from PIL import Image

from pear_tf.errors import op_error_summary

# What tf.io.decode_image in the exported graph reads, by PIL's format names.
FORMATS = ("JPEG", "PNG", "GIF", "BMP", "WEBP")


def header_problem(data, max_pixels):
    """None if the header of ``data`` is acceptable, else the reason it is not."""
    if not data:
        return "empty (zero bytes)"
    try:
        with Image.open(io.BytesIO(data), formats=FORMATS) as image:
            width, height = image.size
    except Image.DecompressionBombError:
        return "too many pixels declared (decompression bomb)"
    except Exception:  # noqa: BLE001 - PIL raises several types for data it cannot identify
        return f"Unknown image file format or unreadable header; send one of {', '.join(FORMATS)}"
    if width * height > max_pixels:
        return f"{width}x{height} pixels declared, too many pixels (the limit is {max_pixels})"
    return None


def first_undecodable(images):
    """(index, reason) of the first encoded image TensorFlow's decoder rejects, or None.

    Runs only after a batch failed, to name the image that failed it.
    """
    for index, data in enumerate(images):
        try:
            tf.io.decode_image(data, channels=3, expand_animations=False)
        except tf.errors.InvalidArgumentError as e:
            return index, op_error_summary(e.message)
    return None
