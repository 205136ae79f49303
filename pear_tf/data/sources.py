"""Which examples a run trains and evaluates on: the splits and their rating scale."""

import dataclasses

import numpy as np
import tensorflow as tf

from absl import logging

from pear_tf.data import aadb, ava, custom, synthetic
from pear_tf.data.preprocessing import resize_size

DATASETS = ("synthetic", "ava", "aadb", "custom")


@dataclasses.dataclass(frozen=True)
class DataConfig:
    """Where the data comes from.

    Attributes:
      dataset: one of DATASETS.
      data_dir: the unpacked original (ava, aadb), a ratings CSV (custom), or the
        folder of a TFDS build when ``tfds`` is set.
      tfds: read the TFDS-built data set from ``data_dir`` instead of the raw layout.
      synthetic_flavour: "aadb" or "ava" (synthetic only).
      synthetic_sizes: train, validation, test sizes (synthetic only).
      validation_fraction: share of AVA's train list held out for validation.
      custom_bins: the bins a custom CSV's ``score`` column is on.
      seed: the validation slice, the custom split and the synthetic images.
    """

    dataset: str = "synthetic"
    data_dir: str | None = None
    tfds: bool = False
    synthetic_flavour: str = "aadb"
    synthetic_sizes: tuple = (4800, 300, 600)
    validation_fraction: float = 0.05
    custom_bins: tuple = tuple(range(1, 11))
    seed: int = 0


@dataclasses.dataclass
class Splits:
    """Train, validation and test (dicts of arrays, see pipeline) and their rating scale.

    ``dropped`` lists (path, reason) of records left out before any image was read.
    ``attributes_known`` says that ``attributes`` holds the truth even where the mask
    hides it from training (the synthetic AVA-like set), for analysis only.
    """

    train: dict
    validation: dict
    test: dict
    scale: object
    dropped: list = dataclasses.field(default_factory=list)
    attributes_known: bool = False


def load_synthetic(flavour, sizes, image_size, seed):
    """The embedded set: train, validation and test are disjoint index ranges of one seed."""
    side = resize_size(image_size)
    logging.info("Generating the synthetic %s-like set: %d/%d/%d images at %d px.", flavour, *sizes, side)
    starts = (0, sizes[0], sizes[0] + sizes[1])
    train, validation, test = (synthetic.generate(n, flavour, side, seed, start) for n, start in zip(sizes, starts))
    return Splits(train, validation, test, synthetic.FLAVOURS[flavour].scale, attributes_known=True)


def load_splits(config, image_size):
    """Loads the splits of ``config.dataset`` (a DataConfig)."""
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
    raise ValueError(f"--dataset={config.dataset!r} is not one of {DATASETS}.")


def hide_attributes(split):
    """The split with every attribute marked unobserved (the no-prior ablation on AADB)."""
    if isinstance(split, tf.data.Dataset):
        return split.map(lambda example: {**example, "attribute_mask": tf.zeros_like(example["attribute_mask"])})
    return {**split, "attribute_mask": np.zeros_like(split["attribute_mask"])}
