"""tf.data pipelines: decoding, preprocessing, augmentation, batching, sharding.

A split is a dict of numpy arrays: either ``image`` (uint8 [N, H, W, 3], in memory) or
``path`` (strings, files decoded in parallel), and the labels ``distribution`` [N, d],
``attributes`` [N, 11] in [0, 1], ``attribute_mask`` [N, 11]; or a tf.data.Dataset of
such dicts with decoded ``image`` (a TFDS build, or the resized cache of pear_tf.data.resized).
Every element the pipeline yields is a dict with ``image`` float32 [S, S, 3] in 0..255 and
the labels.
"""

import numpy as np
import tensorflow as tf

from pear_tf import errors
from pear_tf.data.images import DATASET_MAX_PIXELS, SkipLog, load_image_op
from pear_tf.data.preprocessing import preprocess, resize_size

LABEL_KEYS = ("distribution", "attributes", "attribute_mask")
# Carried along when a split of arrays has them: cached prior outputs, the example index,
# the data set's official score (AADB; evaluation measures SRCC and PLCC against it).
OPTIONAL_KEYS = ("prior", "index", "score")


# Shuffle buffer for streamed data sets of decoded images (TFDS, the resized cache): 10 000 images
# of 256 px are 2 GB. In-memory and file splits shuffle fully.
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


def examples(split):
    """A split as a tf.data.Dataset of dicts: ``image`` or ``path``, LABEL_KEYS and the OPTIONAL_KEYS it has."""
    if isinstance(split, tf.data.Dataset):
        keys = ("image", *LABEL_KEYS, *(key for key in OPTIONAL_KEYS if key in split.element_spec))
        return split.map(lambda example: {key: example[key] for key in keys})
    source = "image" if "image" in split else "path"
    keys = (source, *LABEL_KEYS, *(key for key in OPTIONAL_KEYS if key in split))
    return tf.data.Dataset.from_tensor_slices({key: split[key] for key in keys})


def read_images(ds, skip_log, max_pixels=DATASET_MAX_PIXELS, image_size=None):
    """Decodes each example's ``path`` into ``image`` (uint8); unreadable files go to ``skip_log``, not on.

    ``image_size``: the encoder input the images are for (a large JPEG decodes at a DCT scale).
    """
    if "path" not in ds.element_spec:
        return ds
    target_side = resize_size(image_size) if image_size else None

    def load(example):
        image, ok = load_image_op(example.pop("path"), skip_log, max_pixels, target_side)
        return {**example, "image": image, "ok": ok}

    ds = ds.map(load, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    return ds.filter(_is_readable).map(_without_flag)


def make_dataset(split, image_size, batch_size, training=False, seed=0, skip_log=None, max_pixels=DATASET_MAX_PIXELS,
                 data_service_address=None):  # fmt: skip
    """Builds a batched, prefetched dataset from a split.

    Args:
      split: a dict of arrays, with ``image`` or ``path`` and LABEL_KEYS; or a
        tf.data.Dataset of decoded examples (a TFDS build, the resized cache).
      image_size: encoder input side.
      batch_size: global batch size.
      training: shuffle, random crop and flip, and drop the last partial batch.
      seed: seed of the shuffle and the augmentation; the output is deterministic given it.
      skip_log: where unreadable files are recorded (file splits); a new one if None.
      max_pixels: larger images are skipped rather than decoded.
      data_service_address: ``grpc://host:port`` of a tf.data service dispatcher: its
        workers run everything up to the batches (see pear_tf.data.service).
    """
    ds = examples(split)
    if data_service_address and "path" in ds.element_spec:
        raise errors.BadValue(
            "--data_service_address cannot read the original image files: each is checked in Python (PIL), "
            "which tf.data service workers cannot run. Build the resized cache first "
            "(python -m pear_tf.data.build --format=resized) and train with --data_format=resized."
        )
    if training:
        size = split_size(split)
        # Arrays and file lists shuffle fully; a streamed data set (decoded images) through a bounded buffer.
        buffer = size if isinstance(split, dict) else min(size or STREAM_SHUFFLE_BUFFER, STREAM_SHUFFLE_BUFFER)
        ds = ds.shuffle(buffer, seed=seed, reshuffle_each_iteration=True)
    ds = read_images(ds, SkipLog() if skip_log is None else skip_log, max_pixels, image_size)
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
    ds = ds.batch(batch_size, drop_remainder=training)
    if data_service_address:
        ds = distribute(ds, data_service_address)
    ds = ds.prefetch(tf.data.AUTOTUNE)
    options = tf.data.Options()
    options.deterministic = True
    # Training shards its list per worker itself (shard); a data set handed to
    # experimental_distribute_dataset is sharded by element, so workers read disjoint parts.
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    return ds.with_options(options)


def distribute(ds, address):
    """Runs ``ds`` on the tf.data service at ``address``: each element once per epoch, over every worker.

    Dynamic sharding hands the source's splits (the cache's shard files, or the elements
    of an in-memory split) to whichever worker asks next, so adding workers adds speed
    and no element is repeated. The order across workers is not deterministic.
    """
    return ds.apply(
        tf.data.experimental.service.distribute(
            processing_mode=tf.data.experimental.service.ShardingPolicy.DYNAMIC, service=address
        )
    )


def steps_per_epoch(split, batch_size):
    """Global batches per epoch: the train split's size (as listed) over the batch size."""
    size = split_size(split)
    if size is None:
        size = int(split.reduce(0, lambda count, _: count + 1))
    if size < batch_size:
        raise errors.BadValue(f"--batch_size={batch_size} is larger than the train split ({size} examples).")
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
