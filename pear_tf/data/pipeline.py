"""tf.data pipelines: decoding, preprocessing, augmentation, batching, sharding.

A split is a dict of numpy arrays: either ``image`` (uint8 [N, H, W, 3], in memory) or
``path`` (strings, files decoded in parallel), and the labels ``distribution`` [N, d],
``attributes`` [N, 11] in [0, 1], ``attribute_mask`` [N, 11]; or a tf.data.Dataset of
such dicts with decoded ``image`` (a TFDS build). Every element the pipeline yields is a
dict with ``image`` float32 [S, S, 3] in 0..255 and the labels.
"""

import numpy as np
import tensorflow as tf

from pear_tf.data.images import DATASET_MAX_PIXELS, SkipLog, load_image_op
from pear_tf.data.preprocessing import preprocess

LABEL_KEYS = ("distribution", "attributes", "attribute_mask")
# Carried along when a split of arrays has them: cached prior outputs, the example index,
# the data set's official score (AADB; evaluation measures SRCC and PLCC against it).
OPTIONAL_KEYS = ("prior", "index", "score")


# Shuffle buffer for data sets streamed from TFDS (in-memory and file splits shuffle fully).
STREAM_SHUFFLE_BUFFER = 10_000


def split_size(split):
    """Number of examples of a split, or None if a streamed data set does not know it."""
    if isinstance(split, tf.data.Dataset):
        cardinality = int(split.cardinality())
        return cardinality if cardinality >= 0 else None
    return len(split["image"] if "image" in split else split["path"])


def _is_readable(example):
    return example["ok"]


def _without_flag(example):
    return {key: value for key, value in example.items() if key != "ok"}


def make_dataset(split, image_size, batch_size, training=False, seed=0, skip_log=None, max_pixels=DATASET_MAX_PIXELS,
                 data_service_address=None):  # fmt: skip
    """Builds a batched, prefetched dataset from a split.

    Args:
      split: a dict of arrays, with ``image`` or ``path`` and LABEL_KEYS.
      image_size: encoder input side.
      batch_size: global batch size.
      training: shuffle, random crop and flip, and drop the last partial batch.
      seed: seed of the shuffle and the augmentation; the output is deterministic given it.
      skip_log: where unreadable files are recorded (file splits); a new one if None.
      max_pixels: larger images are skipped rather than decoded.
      data_service_address: a tf.data service dispatcher to run the pipeline on.
    """
    if data_service_address:
        raise NotImplementedError("--data_service_address: the tf.data service is being added (issue 15).")
    if isinstance(split, tf.data.Dataset):
        source = "image"
        ds = split.map(lambda example: {key: example[key] for key in (source, *LABEL_KEYS)})
    else:
        source = "image" if "image" in split else "path"
        keys = (source, *LABEL_KEYS, *(key for key in OPTIONAL_KEYS if key in split))
        ds = tf.data.Dataset.from_tensor_slices({key: split[key] for key in keys})
    if training:
        size = split_size(split)
        ds = ds.shuffle(min(size or STREAM_SHUFFLE_BUFFER, STREAM_SHUFFLE_BUFFER * 100), seed=seed,
                        reshuffle_each_iteration=True)  # fmt: skip
    if source == "path":
        skip_log = SkipLog() if skip_log is None else skip_log

        def load(example):
            image, ok = load_image_op(example.pop("path"), skip_log, max_pixels)
            return {**example, "image": image, "ok": ok}

        ds = ds.map(load, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
        ds = ds.filter(_is_readable).map(_without_flag)
    if training:
        # One stateless seed pair per element, fresh each epoch.
        seeds = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True).batch(2)
        ds = tf.data.Dataset.zip(ds, seeds).map(
            lambda ex, s: {**ex, "image": preprocess(ex["image"], image_size, True, s)},
            num_parallel_calls=tf.data.AUTOTUNE,
            deterministic=True,
        )
    else:
        ds = ds.map(
            lambda ex: {**ex, "image": preprocess(ex["image"], image_size)},
            num_parallel_calls=tf.data.AUTOTUNE,
            deterministic=True,
        )
    ds = ds.batch(batch_size, drop_remainder=training).prefetch(tf.data.AUTOTUNE)
    options = tf.data.Options()
    options.deterministic = True
    # Training shards its list per worker itself (shard); a data set handed to
    # experimental_distribute_dataset is sharded by element, so workers read disjoint parts.
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    return ds.with_options(options)


def steps_per_epoch(split, batch_size):
    """Global batches per epoch: the train split's size (as listed) over the batch size."""
    size = split_size(split)
    if size is None:
        size = int(split.reduce(0, lambda count, _: count + 1))
    if size < batch_size:
        raise ValueError(f"--batch_size={batch_size} is larger than the train split ({size} examples).")
    return size // batch_size


def shard(split, num_shards, index):
    """Every ``num_shards``-th example of a split from ``index``: one worker's part."""
    if num_shards == 1:
        return split
    if isinstance(split, tf.data.Dataset):
        return split.shard(num_shards, index)
    return {key: value[index::num_shards] for key, value in split.items()}


def epoch_seed(seed, epoch, worker):
    """The shuffle and augmentation seed of one epoch on one worker: a restart redraws it exactly."""
    return int(np.random.SeedSequence([seed, epoch, worker]).generate_state(1)[0])
