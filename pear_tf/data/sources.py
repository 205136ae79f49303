"""Which examples a run trains and evaluates on: the split arrays and their rating scale."""

import dataclasses

from absl import logging

from pear_tf.data import synthetic
from pear_tf.data.preprocessing import resize_size

DATASETS = ("synthetic",)


@dataclasses.dataclass
class Splits:
    """Train, validation and test examples (dicts of numpy arrays) and their scale."""

    train: dict
    validation: dict
    test: dict
    scale: object
    skipped: list = dataclasses.field(default_factory=list)


def load_synthetic(flavour, sizes, image_size, seed):
    """The embedded set: train, validation and test are disjoint index ranges of one seed."""
    num_train, num_val, num_test = sizes
    side = resize_size(image_size)
    logging.info("Generating the synthetic %s-like set: %d/%d/%d images at %d px.", flavour, *sizes, side)
    starts = (0, num_train, num_train + num_val)
    train, validation, test = (
        synthetic.generate(n, flavour, side, seed, start) for n, start in zip(sizes, starts)
    )
    return Splits(train, validation, test, synthetic.FLAVOURS[flavour].scale)


def load_splits(dataset, image_size, seed, synthetic_flavour="aadb", synthetic_sizes=(4800, 300, 600)):
    """Loads the splits of a data set by name (see DATASETS)."""
    if dataset == "synthetic":
        return load_synthetic(synthetic_flavour, synthetic_sizes, image_size, seed)
    raise ValueError(f"--dataset={dataset!r} is not one of {DATASETS}.")
