"""Score images in bulk on Apache Beam: one machine or a cluster, the same command.

    python -m pear_tf.beam_score --model=savedmodels/demo --input='photos/*.jpg' --output=out/scores
    python -m pear_tf.beam_score --model=savedmodels/demo --input_list=paths.txt --output=out/scores \\
        --format=parquet --min_score=6 --direct_running_mode=multi_processing --direct_num_workers=2
    python -m pear_tf.beam_score --model=/models/pear --input_tfrecord='gs://b/tfrecords/*' \\
        --output=gs://b/scores/pear --runner=DataflowRunner --project=P --region=R --temp_location=gs://b/tmp \\
        --sdk_container_image=IMAGE   # an image with pear_tf and the model at /models/pear (docs/beam.md)

``--model`` may also be a .tflite file (int8 or float; LiteRT with XNNPACK); ``--precision=auto``
has each worker compute in bfloat16 where its CPU does that natively. Each worker process takes
its machine's cores ÷ the worker processes on it as its threads (``--intra_op_threads`` etc.
override; ``--pin_workers`` pins each to its own cores): docs/beam.md has the sizing guide.

Rows go to PREFIX-SSSSS-of-NNNNN.<format>; unreadable or undecodable images to
PREFIX-errors-SSSSS-of-NNNNN.jsonl (path, error); with --min_score, the paths scoring at or
above it to PREFIX-selected-*.txt. Flags this command does not define are Beam's pipeline
options, passed through unchanged; without --runner, DirectRunner runs in this process.
"""

import functools
import logging
import sys

from absl import app, flags

from pear_tf import command_line, startup

startup.filter_library_noise()  # before Beam logs that its Google Cloud extras are missing

from pear_tf.inference import beam as beam_lib  # noqa: E402
from pear_tf.inference.metadata import demo_warning  # noqa: E402
from pear_tf.inference.precision import PRECISIONS  # noqa: E402

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
    flags.DEFINE_enum(
        "precision", None, PRECISIONS,
        "What a SavedModel computes in (unset: as exported). auto: bfloat16 on the workers whose CPU has it "
        "natively (AMX, AVX512-BF16), decided by each worker on its own CPU. Not for a .tflite model.",
    )  # fmt: skip
    flags.DEFINE_integer(
        "intra_op_threads", 0,
        "Each worker process's TensorFlow intra-op threads (a .tflite model: its XNNPACK threads). 0: the "
        "machine's cores divided by the worker processes on it, so that workers do not fight over cores.",
    )  # fmt: skip
    flags.DEFINE_integer("inter_op_threads", 0, "Each worker process's TensorFlow inter-op threads (0: as intra).")
    flags.DEFINE_integer(
        "worker_processes", 0,
        "Scoring processes per machine, for the division above (0: from the runner's options: "
        "--direct_num_workers, one per vCPU on Dataflow, --sdk_worker_parallelism on Flink/Spark).",
    )  # fmt: skip
    flags.DEFINE_boolean("pin_workers", False, "Pin each worker process to its own cores (Linux).")


def main(argv):
    if not FLAGS.output:
        raise app.UsageError("Give --output=PREFIX, e.g. --output=out/scores (writes out/scores-00000-of-00001.jsonl).")
    config = config_from_flags()
    info = beam_lib.check_config(config)  # a bad flag or model: errors.UserError, a message and exit 2 (cli.guard)
    pipeline_args = argv[1:] if FLAGS.verbosity >= 1 else quiet_beam(argv[1:])
    warning = demo_warning(beam_lib.read_model_metadata(info.version_dir))
    if warning:
        print(warning, file=sys.stderr)
    summary = beam_lib.run(config, pipeline_args, info)
    print(
        f"Scored {summary['scored']} images, {summary['failed']} failed (see {FLAGS.output}-errors-*.jsonl), "
        f"in {summary['seconds']:.1f} s: {summary['images_per_s']:.1f} images/s "
        f"(model {info.name} version {info.version})."
    )


def quiet_beam(pipeline_args):
    """Beam's INFO lines (bundles, shard renames) drown the summary: WARNING here, ERROR in worker processes.

    The workers' warnings are Beam's own start-up (options it discards, a missing resource module);
    a failed image is a row in PREFIX-errors-*. --verbosity=1 shows everything.
    """
    logging.getLogger("apache_beam").setLevel(logging.WARNING)
    if any(arg.startswith("--default_sdk_harness_log_level") for arg in pipeline_args):
        return pipeline_args
    return [*pipeline_args, "--default_sdk_harness_log_level=ERROR"]


def config_from_flags():
    return beam_lib.BeamScoreConfig(
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
        precision=FLAGS.precision,
        intra_op_threads=FLAGS.intra_op_threads,
        inter_op_threads=FLAGS.inter_op_threads,
        worker_processes=FLAGS.worker_processes,
        pin_workers=FLAGS.pin_workers,
    )


if __name__ == "__main__":
    define_flags()
    flags.declare_key_flag("flagfile")  # (not pear_tf.cli, which would import TensorFlow here)
    # Flags not defined here are Beam's pipeline options: they reach main's argv untouched.
    app.run(command_line.guard(main), flags_parser=functools.partial(command_line.parse_flags, known_only=True))
