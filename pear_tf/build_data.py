"""Build a data set once, offline: the TFDS build (default) or the resized cache.

    python -m pear_tf.build_data --dataset=aadb --manual_dir=/data/AADB --data_dir=/data/tfds
    python -m pear_tf.build_data --format=resized --dataset=ava --data_dir=/data/AVA \\
        --image_size=224 --cache_dir=/data/ava_224

(``python -m pear_tf.data.build`` runs this command too.) TFDS: train from it with
``--tfds --dataset=aadb --data_dir=/data/tfds``; unreadable images are skipped, counted,
and listed in ``<data_dir>/<dataset>/skipped_images.txt``.

Resized: every split of any data set (the same data flags as training: --dataset,
--data_dir, --synthetic_sizes, --custom_bins, ...) decoded and resized once to
round(S·256/224) px, as sharded TFRecords (see pear_tf.data.resized). Train from it with
``--data_format=resized --cache_dir=DIR`` at the same --image_size; unreadable images are
listed in ``<cache_dir>/skipped_images.txt``.
"""

import os

from absl import app, flags

from pear_tf import cli
from pear_tf.data import build, resized
from pear_tf.data.tfds import BUILDERS

FLAGS = flags.FLAGS


def define_flags():
    cli.define_data_flags()
    flags.DEFINE_enum(
        "format",
        "tfds",
        ["tfds", "resized"],
        "tfds: the TFDS build of ava or aadb from --manual_dir into --data_dir; resized: the decoded-image "
        "cache of any --dataset (read from --data_dir as in training) into --cache_dir.",
    )
    flags.DEFINE_string("manual_dir", None, "The unpacked original data set (--format=tfds).")
    flags.DEFINE_integer("image_size", 224, "The encoder input the cache is for (--format=resized).")


def main(argv):
    del argv
    if FLAGS.format == "resized":
        if not FLAGS.cache_dir:
            raise app.UsageError("--format=resized needs --cache_dir, the folder to write the cache into.")
        description = build.build_resized(cli.data_config_from_flags(), FLAGS.image_size, FLAGS.cache_dir)
        for name, split in description["splits"].items():
            print(f"{FLAGS.dataset} {name}: {split['count']} images of {description['resized_size']} px "
                  f"in {len(split['shards'])} shard(s)")  # fmt: skip
        skipped_file = os.path.join(FLAGS.cache_dir, resized.SKIPPED_FILE)
        print(f"{description['skipped']} image(s) skipped; listed in {skipped_file}")
        return
    if FLAGS.dataset not in BUILDERS or not FLAGS.manual_dir:
        raise app.UsageError(f"--format=tfds builds --dataset={'|'.join(sorted(BUILDERS))} from --manual_dir.")
    data_dir = FLAGS.data_dir or os.path.expanduser("~/tensorflow_datasets")
    builder, skipped = build.build(FLAGS.dataset, FLAGS.manual_dir, data_dir)
    for name, split in builder.info.splits.items():
        print(f"{FLAGS.dataset} {name}: {split.num_examples} examples")
    print(f"{skipped} image(s) skipped; listed in {os.path.join(data_dir, FLAGS.dataset, 'skipped_images.txt')}")


if __name__ == "__main__":
    define_flags()
    cli.key_flags_to_command()
    app.run(cli.guard(main), flags_parser=cli.parse_flags)
