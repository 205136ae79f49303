"""What a run trains and evaluates on: the data-set registry, DataConfig and Splits.

Readers (ava, aadb, custom, synthetic, the TFDS builders) return Splits; sources.load_splits
picks the reader. This module imports none of them, so nothing imports in a circle.
"""

import dataclasses

import numpy as np
import tensorflow as tf

DATASETS = ("synthetic", "ava", "aadb", "custom", "flickr_aes")


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
      data_format: "files" (decode the originals every epoch) or "resized" (the
        decoded-image cache that ``python -m pear_tf.data.build --format=resized`` wrote
        into ``cache_dir``).
      cache_dir: where the resized cache lives (``data_format="resized"``).
      data_service_address: ``grpc://host:port`` of a tf.data service dispatcher that
        runs the preprocessing (None: in this process).
      test_workers: FLICKR-AES only: a one-column CSV (header ``ID``) of the test workers,
        whose images are kept out of generic training (None: the 37 published ids).
    """

    dataset: str = "synthetic"
    data_dir: str | None = None
    tfds: bool = False
    synthetic_flavour: str = "aadb"
    synthetic_sizes: tuple = (4800, 300, 600)
    validation_fraction: float = 0.05
    custom_bins: tuple = tuple(range(1, 11))
    seed: int = 0
    data_format: str = "files"
    cache_dir: str | None = None
    data_service_address: str | None = None
    test_workers: str | None = None


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


def hide_attributes(split):
    """The split with every attribute marked unobserved (the no-prior ablation on AADB)."""
    if isinstance(split, tf.data.Dataset):
        return split.map(lambda example: {**example, "attribute_mask": tf.zeros_like(example["attribute_mask"])})
    return {**split, "attribute_mask": np.zeros_like(split["attribute_mask"])}


def data_config_from_flag_lines(lines):
    """The DataConfig of a run, from its recorded flags (``flags.txt``: ``--name=value`` lines).

    How an export finds the data set a model was trained on (the SavedModel's metadata
    keeps the run's flags as ``training_flags``). Flags the run did not record keep
    DataConfig's defaults; the tf.data service is not used here (a local read).
    """
    values, switches = {}, {}
    for line in lines:
        line = line.strip()
        if line.startswith("--") and "=" in line:
            name, value = line[2:].split("=", 1)
            values[name] = value
        elif line.startswith("--no"):
            switches[line[4:]] = False
        elif line.startswith("--"):
            switches[line[2:]] = True
    default = DataConfig()
    numbers = {
        "synthetic_sizes": lambda v: tuple(int(n) for n in v.split(",")),
        "custom_bins": lambda v: tuple(float(b) for b in v.split(",")),
        "validation_fraction": float,
        "seed": int,
    }
    fields = {
        name: numbers.get(name, str)(values[name])
        for name in ("dataset", "data_dir", "synthetic_flavour", "synthetic_sizes", "validation_fraction",
                     "custom_bins", "seed", "data_format", "cache_dir", "test_workers")
        if name in values
    }  # fmt: skip
    return dataclasses.replace(default, tfds=switches.get("tfds", default.tfds), **fields)


def data_config_from_dict(values):
    """A DataConfig from its JSON form (``dataclasses.asdict``, lists for tuples); unknown keys are ignored."""
    names = {field.name for field in dataclasses.fields(DataConfig)}
    return DataConfig(**{k: tuple(v) if isinstance(v, list) else v for k, v in values.items() if k in names})
