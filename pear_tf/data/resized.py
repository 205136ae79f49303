"""The decoded-image cache: every split written once as sharded TFRecords of images already
resized to R×R (R = resize_size(S), 256 for 224), uint8, with their labels.

    python -m pear_tf.data.build --format=resized --dataset=ava --data_dir=/data/AVA \\
        --image_size=224 --cache_dir=/data/ava_224
    python -m pear_tf.train --dataset=ava --data_format=resized --cache_dir=/data/ava_224

Decoding a photo-sized JPEG and resizing it costs far more than the training step's crop
and flip; the cache pays it once, at build time. Reading a cached image is a copy of its
bytes, so the per-epoch work is the random crop and flip of the one preprocessing
function (an exact identity resize is skipped there). The cost is disk: R·R·3 bytes an
image (196 KB at 224, about 50 GB for AVA).

A cache folder holds:
  description.json      the data set, image size, rating scale, label shapes, and each
                        split's shard files and counts (read first, checked at load time);
  <split>-NNNNN-of-MMMMM.tfrecord   tf.train.Example records: ``image`` (R·R·3 raw uint8
                        bytes), ``distribution``, ``attributes``, ``attribute_mask`` and
                        the optional keys (``score``, ``prior``, ``index``) the source has;
  skipped_images.txt    the images that could not be read at build time, with the reason.
"""

import dataclasses
import json
import math
import os

import numpy as np
import tensorflow as tf

from pear_tf import errors
from pear_tf.attributes import RatingScale
from pear_tf.data import pipeline, preprocessing
from pear_tf.data.images import SkipLog
from pear_tf.data.preprocessing import resize_size
from pear_tf.data.splits import Splits

FORMAT = "pear_tf.resized/1"
DESCRIPTION_FILE = "description.json"
SKIPPED_FILE = "skipped_images.txt"
SPLIT_NAMES = ("train", "validation", "test")
# Shards of at most this size, and at least MIN_SHARDS of them (at most one per
# MIN_SHARD_IMAGES images), so that reads interleave and tf.data service workers each get
# files of their own.
SHARD_BYTES = 128 * 2**20
MIN_SHARDS = 16
MIN_SHARD_IMAGES = 16
# Shards read at once: enough to keep every core busy, few enough to bound open files.
READ_CYCLE = 16


def resize_for_cache(image, image_size):
    """uint8 [R, R, 3]: the resize that preprocessing.preprocess starts with, rounded to uint8.

    Kept equal to it by tests/test_resized_cache.py (the cached image's centre crop is
    preprocess's evaluation view to rounding).
    """
    return tf.cast(tf.round(preprocessing.resize(image, image_size)), tf.uint8)


def write_cache(splits, config, image_size, cache_dir, shard_bytes=SHARD_BYTES):
    """Writes Splits read from their originals (pear_tf.data.sources.load_splits) as the cache.

    Unreadable images are left out and listed, with the reason, in skipped_images.txt
    (with the records the reader dropped before reading any image). The train split is
    written in a random order (``config.seed``), so that reading its shards in turn
    through a bounded shuffle buffer still mixes the whole set.

    Args:
      splits: the data set's Splits (arrays of images or paths, or TFDS datasets).
      config: the DataConfig they were read with (recorded in the description).
      image_size: the encoder input the cache is for; images are stored at resize_size of it.
      cache_dir: the folder to write (shards of an earlier build of a split are replaced).
      shard_bytes: the most image bytes a shard holds.

    Returns:
      The description, also written to ``<cache_dir>/description.json``.
    """
    os.makedirs(cache_dir, exist_ok=True)
    skip_log = SkipLog(splits.dropped)
    features, written = None, {}
    for name in SPLIT_NAMES:
        split = getattr(splits, name)
        if name == "train" and isinstance(split, dict):
            order = np.random.default_rng(config.seed).permutation(pipeline.split_size(split))
            split = {key: np.asarray(value)[order] for key, value in split.items()}
        examples = pipeline.examples(split)
        features = features or label_features(examples.element_spec)
        written[name] = _write_split(examples, name, image_size, cache_dir, skip_log, shard_bytes)
    description = {
        "format": FORMAT,
        "dataset": config.dataset,
        "source": json.loads(json.dumps(dataclasses.asdict(config), default=str)),
        "image_size": image_size,
        "resized_size": resize_size(image_size),
        "scale": dataclasses.asdict(splits.scale),
        "attributes_known": splits.attributes_known,
        "features": features,
        "splits": written,
        "skipped": skip_log.write(os.path.join(cache_dir, SKIPPED_FILE)),
    }
    with open(os.path.join(cache_dir, DESCRIPTION_FILE), "w") as f:
        json.dump(description, f, indent=2)
    return description


def label_features(element_spec):
    """{key: {"shape", "dtype"}} of every label an example carries (all but the image)."""
    return {
        key: {"shape": spec.shape.as_list(), "dtype": spec.dtype.name}
        for key, spec in element_spec.items()
        if key not in ("image", "path")
    }


def _write_split(examples, name, image_size, cache_dir, skip_log, shard_bytes):
    """Decodes, resizes and writes one split round-robin over its shards; returns its count and shards."""
    side = resize_size(image_size)
    size = int(examples.cardinality())  # negative: not known (a streamed source)
    by_bytes = math.ceil(max(size, 0) * side * side * 3 / shard_bytes)
    at_least = MIN_SHARDS if size < 0 else min(MIN_SHARDS, math.ceil(size / MIN_SHARD_IMAGES))
    num_shards = max(1, at_least, by_bytes)
    files = [f"{name}-{i:05d}-of-{num_shards:05d}.tfrecord" for i in range(num_shards)]
    for stale in tf.io.gfile.glob(os.path.join(cache_dir, f"{name}-*.tfrecord")):
        tf.io.gfile.remove(stale)
    ds = pipeline.read_images(examples, skip_log, image_size=image_size).map(
        lambda ex: {**ex, "image": resize_for_cache(ex["image"], image_size)},
        num_parallel_calls=tf.data.AUTOTUNE,
        deterministic=True,
    )
    counts = [0] * num_shards
    writers = [tf.io.TFRecordWriter(os.path.join(cache_dir, file)) for file in files]
    try:
        for i, example in enumerate(ds.prefetch(tf.data.AUTOTUNE).as_numpy_iterator()):
            writers[i % num_shards].write(_serialize(example))
            counts[i % num_shards] += 1
    finally:
        for writer in writers:
            writer.close()
    return {"count": sum(counts), "shards": [{"file": f, "count": c} for f, c in zip(files, counts)]}


def _serialize(example):
    feature = {"image": tf.train.Feature(bytes_list=tf.train.BytesList(value=[example["image"].tobytes()]))}
    for key, value in example.items():
        if key == "image":
            continue
        value = np.asarray(value).ravel()
        if value.dtype.kind in "iub":
            feature[key] = tf.train.Feature(int64_list=tf.train.Int64List(value=value.astype(np.int64)))
        else:
            feature[key] = tf.train.Feature(float_list=tf.train.FloatList(value=value.astype(np.float32)))
    return tf.train.Example(features=tf.train.Features(feature=feature)).SerializeToString()


def load_resized_splits(config, image_size):
    """The cache in ``config.cache_dir`` as Splits of tf.data datasets of decoded examples.

    Each split reads its shards interleaved, in a fixed order (so an epoch is a function
    of its seed, as training's resume needs); ``image`` is uint8 [R, R, 3]. The images
    skipped at build time are the Splits' ``dropped``, so a run lists them too.

    Raises:
      ValueError: no --cache_dir, or a cache built for another --image_size or --dataset.
      FileNotFoundError: no cache in ``config.cache_dir``.
    """
    cache_dir = config.cache_dir
    if not cache_dir:
        raise errors.BadValue("--data_format=resized needs --cache_dir: the folder that "
                         "python -m pear_tf.data.build --format=resized --cache_dir=DIR wrote.")  # fmt: skip
    description = read_description(cache_dir)
    if description["image_size"] != image_size:
        raise errors.BadValue(
            f"The resized cache in {cache_dir} holds {description['resized_size']} px images for "
            f"--image_size={description['image_size']}; this run has --image_size={image_size} (it needs "
            f"{resize_size(image_size)} px). Train with --image_size={description['image_size']}, or build a "
            f"cache for it: python -m pear_tf.data.build --format=resized --image_size={image_size} --cache_dir=NEW"
        )
    if description["dataset"] != config.dataset:
        raise errors.BadValue(f"The resized cache in {cache_dir} holds --dataset={description['dataset']}; "
                         f"this run has --dataset={config.dataset}.")  # fmt: skip
    datasets = [split_dataset(cache_dir, description, name) for name in SPLIT_NAMES]
    scale = RatingScale(**{**description["scale"], "bin_values": tuple(description["scale"]["bin_values"])})
    return Splits(*datasets, scale, read_skipped(cache_dir), description["attributes_known"])


def read_description(cache_dir):
    """The cache's description.json, checked to be one."""
    path = os.path.join(cache_dir, DESCRIPTION_FILE)
    if not tf.io.gfile.exists(path):
        raise errors.NotFound(
            f"No resized cache in --cache_dir={cache_dir!r} ({DESCRIPTION_FILE} is missing). Build it first: "
            f"python -m pear_tf.data.build --format=resized --dataset=... --image_size=... --cache_dir={cache_dir}"
        )
    with tf.io.gfile.GFile(path) as f:
        description = json.load(f)
    if description.get("format") != FORMAT:
        raise errors.BadValue(f"{path} is not a {FORMAT} cache description (format {description.get('format')!r}).")
    return description


def read_skipped(cache_dir):
    """[(path, reason)] of the images left out at build time."""
    path = os.path.join(cache_dir, SKIPPED_FILE)
    if not tf.io.gfile.exists(path):
        return []
    with tf.io.gfile.GFile(path) as f:
        return [tuple(line.rstrip("\n").split("\t", 1)) for line in f if line.strip()]


def split_dataset(cache_dir, description, name):
    """One split: its shards read interleaved and parsed, with its count as the cardinality."""
    split = description["splits"][name]
    files = [os.path.join(cache_dir, shard["file"]) for shard in split["shards"] if shard["count"]]
    side = description["resized_size"]
    features = description["features"]
    spec = {"image": tf.io.FixedLenFeature([], tf.string)}
    spec.update({key: tf.io.FixedLenFeature(f["shape"], _stored_dtype(f["dtype"])) for key, f in features.items()})

    def parse(record):
        example = tf.io.parse_single_example(record, spec)
        image = tf.reshape(tf.io.decode_raw(example.pop("image"), tf.uint8), [side, side, 3])
        labels = {key: tf.cast(value, features[key]["dtype"]) for key, value in example.items()}
        return {"image": image, **labels}

    ds = tf.data.Dataset.from_tensor_slices(tf.constant(files, tf.string))
    ds = ds.interleave(tf.data.TFRecordDataset, cycle_length=max(1, min(len(files), READ_CYCLE)),
                       num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)  # fmt: skip
    ds = ds.map(parse, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    return ds.apply(tf.data.experimental.assert_cardinality(split["count"]))


def _stored_dtype(name):
    return tf.int64 if tf.as_dtype(name).is_integer or tf.as_dtype(name).is_bool else tf.float32
