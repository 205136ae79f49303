"""Scoring encoded images of every supported format through a SavedModel: where the one decode runs.

An image the SavedModel's graph decodes exactly (JPEG, PNG, GIF, BMP, WebP without a colour
profile to convert) is sent as bytes to ``serving_default``: the model decodes it, exactly as
TF Serving would. Any other (TIFF, HEIC/HEIF, AVIF, an ICC profile, CMYK with a profile) is
decoded on the host (pear_tf/data/host_decode.py), preprocessed by the same function the graph
uses, and sent to ``predict_images``. Both halves run as one batch each; the outputs come back
in the order of the inputs. predict, explain, Beam, personalisation and both servers score here.
"""

import numpy as np
import tensorflow as tf

from pear_tf.data import host_decode
from pear_tf.data.preprocessing import preprocess, resize_size


def check_images(encoded, max_pixels=host_decode.MAX_PIXELS):
    """The Header of each encoded image; ImageError (with its ``index``) for the first that cannot be used."""
    headers = []
    for index, data in enumerate(encoded):
        try:
            headers.append(host_decode.probe(bytes(data), max_pixels))
        except host_decode.ImageError as e:
            raise host_decode.ImageError(str(e), index) from None
    return headers


def host_images(encoded, image_size, max_pixels=host_decode.MAX_PIXELS):
    """float32 [N, S, S, 3] model input of encoded images decoded on the host (ImageError names a bad one)."""
    images = []
    for index, data in enumerate(encoded):
        try:
            pixels = host_decode.decode_bytes(bytes(data), resize_size(image_size), max_pixels)
        except host_decode.ImageError as e:
            raise host_decode.ImageError(str(e), index) from None
        images.append(preprocess(pixels, image_size))
    return tf.stack(images)


def graph_decodes(metadata):
    """Whether a SavedModel's graph holds the one decode (exported with issue 22's pear_tf or later).

    An older export's graph ignores EXIF orientation: every image is then decoded on the host.
    """
    return "formats_in_graph" in metadata.get("preprocessing", {})


def score_encoded(signatures, encoded, image_size, max_pixels=host_decode.MAX_PIXELS, headers=None, in_graph=True):
    """{output name: numpy [N, ...]} of a list of encoded images, in their order.

    Args:
      signatures: the SavedModel's signatures (``serving_default`` and ``predict_images``).
      encoded: the images' bytes.
      image_size: the model's input side (its metadata's model_config.image_size).
      max_pixels: images declaring more pixels are refused before decoding.
      headers: check_images(encoded) when the caller has it already.
      in_graph: send what the graph decodes exactly as bytes (False: decode all on the host;
        graph_decodes(metadata) says which a model needs).

    Raises:
      host_decode.ImageError: an image cannot be used (``index`` says which).
      tf.errors.InvalidArgumentError: the graph refused a batch (an image damaged past its header).
    """
    headers = check_images(encoded, max_pixels) if headers is None else headers
    as_bytes = [i for i, header in enumerate(headers) if in_graph and header.host_reason is None]
    on_host = [i for i in range(len(encoded)) if i not in set(as_bytes)]
    parts = []
    if as_bytes:
        tensor = tf.constant([bytes(encoded[i]) for i in as_bytes], tf.string)
        parts.append((as_bytes, signatures["serving_default"](image_bytes=tensor)))
    if on_host:
        try:
            images = host_images([encoded[i] for i in on_host], image_size, max_pixels)
        except host_decode.ImageError as e:
            raise host_decode.ImageError(str(e), on_host[e.index]) from None
        parts.append((on_host, signatures["predict_images"](images=images)))
    return merge_outputs(parts, len(encoded))


def merge_outputs(parts, count):
    """{name: numpy [count, ...]} from (indices, outputs of those indices) parts that cover 0..count-1."""
    outputs = {}
    for indices, part in parts:
        for key, value in part.items():
            value = np.asarray(value)
            if key not in outputs:
                outputs[key] = np.zeros((count,) + value.shape[1:], value.dtype)
            outputs[key][indices] = value
    return outputs
