"""Images for int8 calibration and for the agreement check, preprocessed as the model expects.

A source is a folder of images, ``synthetic`` (the embedded set), or the model's own
training split (``train``, the default of ``pear_tf.export``): a SavedModel exported
from a run keeps the run's flags, so the data set it learned from is known. Its images
go through the training pipeline's evaluation path (the data set's reader, ``read_image``
and ``preprocess``: the decode and preprocessing the SavedModel serves with).
"""

import dataclasses
import os

import keras
import numpy as np
import tensorflow as tf

from pear_tf import errors
from pear_tf.data import pipeline, sources, synthetic
from pear_tf.data.images import SkipLog, read_image
from pear_tf.data.preprocessing import preprocess, resize_size
from pear_tf.data.splits import DataConfig, data_config_from_dict, data_config_from_flag_lines
from pear_tf.inference.metadata import read_metadata
from pear_tf.inference.paths import expand_paths

TRAINING_SPLIT = "train"


@dataclasses.dataclass(frozen=True)
class TrainingSplit:
    """The training split of the data set a model was trained on (``data``: its DataConfig)."""

    data: DataConfig

    def __str__(self):
        if self.data.dataset == "synthetic":
            return f"the training split of the synthetic {self.data.synthetic_flavour}-like set (seed {self.data.seed})"
        return f"the training split of {self.data.dataset} ({self.data.data_dir})"


def training_split(saved_model_dir):
    """The TrainingSplit of a SavedModel exported by a pear_tf.train run.

    Training's own export records the run's config (``train_config``); ``pear_tf.export
    --model_dir`` records the run's flags (``training_flags``).
    """
    metadata = read_metadata(saved_model_dir)
    data = (metadata.get("train_config") or {}).get("data")
    if data:
        return TrainingSplit(data_config_from_dict(data))
    if metadata.get("training_flags"):
        return TrainingSplit(data_config_from_flag_lines(metadata["training_flags"]))
    raise errors.BadValue(
        f"{saved_model_dir} does not record the data it was trained on (not exported from a pear_tf.train run): "
        "give --representative_data=FOLDER (photos like the app's) or 'synthetic'."
    )


def resolve_source(source, saved_model_dir):
    """``train`` becomes the model's TrainingSplit; folders and ``synthetic`` stay as they are."""
    return training_split(saved_model_dir) if source == TRAINING_SPLIT else source


def representative_images(source, image_size, count=200, seed=0, skip=0):
    """Preprocessed images [N, S, S, 3] for int8 calibration or for checking agreement.

    Args:
      source: a folder of images (walked recursively), ``synthetic`` (the embedded
        set's train images), or a TrainingSplit.
      seed: of the synthetic images.
      skip: folder or training-split images to pass over first (held-out images come
        after the calibration ones).
    """
    if isinstance(source, TrainingSplit):
        return _training_images(source, image_size, count, skip)
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
        raise errors.NotFound(f"--representative_data={source!r}: give a folder of images, 'synthetic' or 'train'.")
    if not raw:
        raise errors.BadValue(f"--representative_data={source!r} holds no readable image.")
    return np.stack([preprocess(image, image_size).numpy() for image in raw])


def _training_images(source, image_size, count, skip):
    """Images skip..skip+count-1 of a fixed shuffle of the training split, through the evaluation pipeline."""
    config = source.data
    if config.dataset == "synthetic":
        # Example i is the same whatever the set's size: generate only the first ones needed.
        config = dataclasses.replace(config, synthetic_sizes=(min(config.synthetic_sizes[0], skip + count), 1, 1))
    try:
        train = sources.load_splits(config, image_size).train
    except FileNotFoundError as error:
        raise errors.NotFound(
            f"The model's training data, {source}, cannot be read here ({error}). Give --representative_data=FOLDER "
            "(photos like the app's) or 'synthetic'."
        ) from None
    if isinstance(train, tf.data.Dataset):  # a TFDS build or the resized cache: in its own order
        subset = train.skip(skip).take(count)
    else:
        size = pipeline.split_size(train)
        # A fixed shuffle (files are listed in an order that may follow content); synthetic examples are iid.
        order = np.arange(size) if config.dataset == "synthetic" else np.random.default_rng(0).permutation(size)
        index = order[skip : skip + count]
        if not len(index):
            raise errors.BadValue(f"{source} has no image past the first {skip}.")
        subset = {key: value[index] for key, value in train.items()}
    batches = []
    progbar = keras.utils.Progbar(count, unit_name="image")
    for batch in pipeline.make_dataset(subset, image_size, 50):
        batches.append(batch["image"].numpy())
        progbar.add(len(batches[-1]))
    if not batches:
        raise errors.BadValue(f"{source} has no readable image past the first {skip}.")
    return np.concatenate(batches)
