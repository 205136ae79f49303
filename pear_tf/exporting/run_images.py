"""A training run's own validation images, read back from the flags it recorded (flags.txt).

The bfloat16 check (exporting/bfloat16.py) scores them beside the package photos: they are the
images the model will meet. A run whose data cannot be read any more (a moved data_dir) gives
none, with the reason, and the check goes on with the photos.
"""

import os

import numpy as np

from pear_tf.data import pipeline, sources
from pear_tf.data.run_flags import data_config_from_flag_lines


def validation_images(model_dir, image_size, count=100):
    """(preprocessed float32 [N, S, S, 3], what they are), or (None, why not) for the run in ``model_dir``."""
    flags_path = os.path.join(model_dir, "flags.txt")
    if not os.path.exists(flags_path):
        return None, f"{model_dir} has no flags.txt"
    with open(flags_path) as f:
        config = data_config_from_flag_lines(f.read().splitlines())
    try:
        splits = sources.load_splits(config, image_size)
        dataset = pipeline.make_dataset(splits.validation, image_size, batch_size=16).unbatch().take(count)
        images = np.stack([example["image"].numpy() for example in dataset])
    except Exception as e:  # noqa: BLE001 - a data set no longer where the run read it: the photos still check
        return None, f"its validation split could not be read ({type(e).__name__}: {str(e).splitlines()[0]})"
    return images, f"validation images of the run ({config.dataset})"
