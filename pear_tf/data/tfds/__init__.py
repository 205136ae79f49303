"""TFDS builders ``ava`` and ``aadb`` over the original layouts (manual download).

Build from Python or with ``python -m pear_tf.data.build``; with apache-beam installed,
``tfds build pear_tf/data/tfds/ava --manual_dir=...`` works too.
"""

from pear_tf import errors
from pear_tf.data.splits import Splits
from pear_tf.data.tfds.aadb import Aadb
from pear_tf.data.tfds.ava import Ava

BUILDERS = {"ava": Ava, "aadb": Aadb}


def load_tfds_splits(dataset, data_dir, validation_fraction=None, seed=None):
    """Reads a built ``ava`` or ``aadb`` from a TFDS ``data_dir`` as Splits of tf.data datasets.

    The validation slice is the one fixed when the data set was built.
    """
    del validation_fraction, seed
    if dataset not in BUILDERS:
        raise errors.BadValue(f"--tfds reads {sorted(BUILDERS)}; --dataset={dataset!r} has no TFDS builder.")
    builder = BUILDERS[dataset](data_dir=data_dir)
    if not builder.is_prepared():
        raise errors.NotFound(
            f"No prepared TFDS '{dataset}' in --data_dir={data_dir!r}. Build it first: "
            f"python -m pear_tf.data.build --dataset={dataset} --manual_dir=<the unpacked original> "
            f"--data_dir={data_dir}"
        )
    train, validation, test = (builder.as_dataset(split=s) for s in ("train", "validation", "test"))
    return Splits(train, validation, test, BUILDERS[dataset].SCALE)
