"""Build the ``ava`` or ``aadb`` TFDS data set from the unpacked original, offline.

    python -m pear_tf.data.build --dataset=aadb --manual_dir=/data/AADB --data_dir=/data/tfds

Then train from it with ``--tfds --dataset=aadb --data_dir=/data/tfds``. Images that
cannot be read are skipped, counted, and listed in ``<data_dir>/<dataset>/skipped_images.txt``.
"""

import os

import tensorflow_datasets as tfds
from absl import app, flags

from pear_tf.data.tfds import BUILDERS


def build(dataset, manual_dir, data_dir):
    """Prepares the TFDS data set; returns (builder, number of skipped images)."""
    builder = BUILDERS[dataset](data_dir=data_dir)
    builder.download_and_prepare(download_config=tfds.download.DownloadConfig(manual_dir=manual_dir))
    skipped = builder.skip_log.write(os.path.join(data_dir, dataset, "skipped_images.txt")) if builder.skip_log else 0
    return builder, skipped


def main(argv):
    del argv
    cfg = flags.FLAGS
    builder, skipped = build(cfg.dataset, cfg.manual_dir, cfg.data_dir)
    for name, split in builder.info.splits.items():
        print(f"{cfg.dataset} {name}: {split.num_examples} examples")
    print(f"{skipped} image(s) skipped; listed in {os.path.join(cfg.data_dir, cfg.dataset, 'skipped_images.txt')}")


if __name__ == "__main__":
    flags.DEFINE_enum("dataset", None, sorted(BUILDERS), "Which data set to build.")
    flags.DEFINE_string("manual_dir", None, "The unpacked original data set.")
    flags.DEFINE_string("data_dir", os.path.expanduser("~/tensorflow_datasets"), "TFDS data_dir to build into.")
    flags.mark_flags_as_required(["dataset", "manual_dir"])
    app.run(main)
