"""Images for int8 calibration and for the agreement check, preprocessed as the model expects."""

import os

import numpy as np

from pear_tf import errors
from pear_tf.data import synthetic
from pear_tf.data.images import SkipLog, read_image
from pear_tf.data.preprocessing import preprocess, resize_size
from pear_tf.inference.paths import expand_paths


def representative_images(source, image_size, count=200, seed=0, skip=0):
    """Preprocessed images [N, S, S, 3] for int8 calibration or for checking agreement.

    Args:
      source: a folder of images (walked recursively), or ``synthetic`` (the embedded
        set's train images).
      seed: of the synthetic images.
      skip: folder images to pass over first (held-out images come after the calibration ones).
    """
    if source == "synthetic":
        raw = list(synthetic.generate(count, "aadb", resize_size(image_size), seed)["image"])
    elif os.path.isdir(source):
        skip_log = SkipLog()
        raw = [
            image
            for path in list(expand_paths([source]))[skip : skip + count]
            if (image := read_image(path, skip_log)) is not None
        ]
    else:
        raise errors.NotFound(f"--representative_data={source!r}: give a folder of images or 'synthetic'.")
    if not raw:
        raise errors.BadValue(f"--representative_data={source!r} holds no readable image.")
    return np.stack([preprocess(image, image_size).numpy() for image in raw])
