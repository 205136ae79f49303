"""Loading the splits of a data set: the registry's readers, or a TFDS build."""

from absl import logging

from pear_tf import errors
from pear_tf.data import aadb, ava, custom, synthetic
from pear_tf.data.preprocessing import resize_size
from pear_tf.data.splits import DATASETS, Splits


def load_synthetic(flavour, sizes, image_size, seed):
    """The embedded set: train, validation and test are disjoint index ranges of one seed."""
    side = resize_size(image_size)
    logging.info("Generating the synthetic %s-like set: %d/%d/%d images at %d px.", flavour, *sizes, side)
    starts = (0, sizes[0], sizes[0] + sizes[1])
    train, validation, test = (synthetic.generate(n, flavour, side, seed, start) for n, start in zip(sizes, starts))
    return Splits(train, validation, test, synthetic.FLAVOURS[flavour].scale, attributes_known=True)


def load_splits(config, image_size):
    """Loads the splits of ``config.dataset`` (a DataConfig)."""
    if config.data_format == "resized":
        from pear_tf.data import resized  # the decoded-image cache (python -m pear_tf.data.build --format=resized)

        return resized.load_resized_splits(config, image_size)
    if config.tfds:
        from pear_tf.data.tfds import load_tfds_splits

        return load_tfds_splits(config.dataset, config.data_dir, config.validation_fraction, config.seed)
    if config.dataset == "synthetic":
        return load_synthetic(config.synthetic_flavour, config.synthetic_sizes, image_size, config.seed)
    if config.dataset == "ava":
        splits, dropped = ava.read_ava(config.data_dir, config.validation_fraction, config.seed)
        return Splits(*splits, ava.SCALE, dropped)
    if config.dataset == "aadb":
        splits, dropped = aadb.read_aadb(config.data_dir)
        return Splits(*splits, aadb.SCALE, dropped)
    if config.dataset == "custom":
        splits, dropped, scale = custom.read_custom(config.data_dir, config.custom_bins, config.seed)
        return Splits(*splits, scale, dropped)
    if config.dataset == "flickr_aes":
        from pear_tf.data import flickr_aes

        splits, dropped, scale = flickr_aes.read_flickr_aes(
            config.data_dir, config.validation_fraction, config.seed, config.test_workers
        )
        return Splits(*splits, scale, dropped)
    raise errors.BadValue(f"--dataset={config.dataset!r} is not one of {DATASETS}.")
