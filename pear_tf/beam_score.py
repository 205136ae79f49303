"""Score images in bulk on Apache Beam: one machine or a cluster, the same command.

    python -m pear_tf.beam_score --model=savedmodels/demo --input='photos/*.jpg' --output=out/scores
    python -m pear_tf.beam_score --model=savedmodels/demo --input_list=paths.txt --output=out/scores \\
        --format=parquet --min_score=6 --direct_running_mode=multi_processing --direct_num_workers=2
    python -m pear_tf.beam_score --model=/models/pear --input_tfrecord='gs://b/tfrecords/*' \\
        --output=gs://b/scores/pear --runner=DataflowRunner --project=P --region=R --temp_location=gs://b/tmp \\
        --sdk_container_image=IMAGE   # an image with pear_tf and the model at /models/pear (docs/beam.md)

Rows go to PREFIX-SSSSS-of-NNNNN.<format>; unreadable or undecodable images to
PREFIX-errors-SSSSS-of-NNNNN.jsonl (path, error); with --min_score, the paths scoring at or
above it to PREFIX-selected-*.txt. Flags this command does not define are Beam's pipeline
options, passed through unchanged; without --runner, DirectRunner runs in this process.
"""

import functools
import logging
import sys

from absl import app, flags

from pear_tf import cli
from pear_tf.inference import beam as beam_lib
from pear_tf.inference.metadata import demo_warning, read_metadata

FLAGS = flags.FLAGS


def define_flags():
    flags.DEFINE_string("model", "savedmodels/demo", "A SavedModel version folder or a model base folder.")
    flags.DEFINE_list("input", [], "File patterns of images (local, gs://, s3://, hdfs://), comma-separated.")
    flags.DEFINE_string("input_list", None, "A text file of image paths, one a line.")
    flags.DEFINE_string(
        "input_tfrecord", None, "A pattern of TFRecord files of tf.train.Example (--image_key, --path_key)."
    )
    flags.DEFINE_string("image_key", "image/encoded", "The Example feature with the encoded image (TFDS: image).")
    flags.DEFINE_string("path_key", "image/filename", "The Example feature with the image's path or id (TFDS: id).")
    flags.DEFINE_string("output", None, "PREFIX of the output files: PREFIX-SSSSS-of-NNNNN.<format>.")
    flags.DEFINE_enum("format", "jsonl", list(beam_lib.FORMATS), "Row format of the scores.")
    flags.DEFINE_float("min_score", None, "Also write PREFIX-selected-*.txt: the paths scoring at or above this.")
    flags.DEFINE_integer("batch_size", 16, "Images per model call.")


def main(argv):
    if not FLAGS.output:
        raise app.UsageError("Give --output=PREFIX, e.g. --output=out/scores (writes out/scores-00000-of-00001.jsonl).")
    config = beam_lib.BeamScoreConfig(
        model=FLAGS.model,
        inputs=tuple(FLAGS.input),
        input_list=FLAGS.input_list,
        input_tfrecord=FLAGS.input_tfrecord,
        output=FLAGS.output,
        format=FLAGS.format,
        min_score=FLAGS.min_score,
        batch_size=FLAGS.batch_size,
        image_key=FLAGS.image_key,
        path_key=FLAGS.path_key,
    )
    info = beam_lib.check_config(config)
    if FLAGS.verbosity < 1:  # Beam's INFO lines (bundles, shard renames) drown the summary; --verbosity=1 shows them
        logging.getLogger("apache_beam").setLevel(logging.WARNING)
    warning = demo_warning(read_metadata(info.version_dir))
    if warning:
        print(warning, file=sys.stderr)
    summary = beam_lib.run(config, argv[1:], info)
    print(
        f"Scored {summary['scored']} images, {summary['failed']} failed (see {FLAGS.output}-errors-*.jsonl), "
        f"in {summary['seconds']:.1f} s: {summary['images_per_s']:.1f} images/s "
        f"(model {info.name} version {info.version})."
    )


if __name__ == "__main__":
    define_flags()
    cli.key_flags_to_command()
    # Flags not defined here are Beam's pipeline options: they reach main's argv untouched.
    app.run(cli.guard(main), flags_parser=functools.partial(cli.parse_flags, known_only=True))
