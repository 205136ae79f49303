"""Export a trained PEAR run as the next SavedModel version, or a SavedModel as TFLite.

    python -m pear_tf.export --model_dir=runs/demo --export_dir=savedmodels/demo
    python -m pear_tf.export --saved_model_dir=savedmodels/demo --tflite=auto --max_size_mb=6 \\
        --eval_data=test --output=pear.tflite [--tflite_input=uint8]

The first restores the run's latest checkpoint (``--epoch=best``: its best validation
epoch, as train's ``--export=best`` does) and writes ``<export_dir>/<next version>/``
with the ``serving_default``, ``predict_pixels`` and ``predict_images`` signatures (DESIGN.md §6) and a
metadata asset holding the training flags and test metrics. It is calibrated as train's own
export is (``calibrated_score``, the chosen ``score_std``, ``ood_score``/``is_photo_like``): from
the run's calibration.json, or fitted on the splits its flags.txt names (``--nocalibrate``:
not). The second converts the
scoring graph to TFLite with builtin ops only (float32, float16, dynamic, int8, int16x8,
or auto: the smallest of them that passes), in a subprocess
(pear_tf/exporting/tflite.py). int8 and int16x8 calibrate on 500 images of the model's
own training split (``--representative_data``: or a folder, or synthetic). The export
then scores ``--check_images`` held-out images with both models and exits 1 when the
TFLite ranking falls below ``--min_spearman`` (0.98): an int8 model that lost the
ranking is never handed over as if it worked. Full int8 keeps layers in float, chosen
by their measured gain per byte within ``--max_size_mb`` (``--int8_float_layers=auto``).
With ``--eval_data=SPLIT`` (of the model's own data set, or of ``--dataset``/``--data_dir``),
the SRCC against the ratings of the float and the TFLite model are printed side by side,
and a file that loses more than ``--max_srcc_drop`` (0.01) is not written. The file
carries the model's metadata (bins, attribute names, preprocessing, name, version,
training data, calibration) in its flatbuffer: no side file.

``--precision=bfloat16`` (or ``auto`` on a CPU with AMX-BF16/AVX512-BF16) writes a SavedModel whose
backbone computes in bfloat16, after checking it against float32 on real photographs and the
run's validation images (Spearman >= 0.999; exit 1 and nothing written below it). The metadata
records the precision and the check (docs/scoring.md).
"""

import sys

from absl import app, flags, logging

from pear_tf import cli

FLAGS = flags.FLAGS


def define_flags():
    from pear_tf.data.decode import MAX_PIXELS
    from pear_tf.exporting.saved_model import EPOCHS
    from pear_tf.inference.precision import PRECISIONS

    cli.define_data_flags()  # the data set of --eval_data, when it is not the model's own
    _define_tflite_flags()
    flags.DEFINE_string("model_dir", None, "A pear_tf.train run folder (model_config.json, checkpoints/).")
    flags.DEFINE_string("export_dir", None, "The model's base folder, savedmodels/<name>.")
    flags.DEFINE_enum(
        "epoch", "last", EPOCHS,
        "With --model_dir: export the latest checkpoint, or the epoch with the best validation SRCC (best/, what "
        "train's --export=best exports; eval_metrics.json holds that epoch's test metrics).",
    )  # fmt: skip
    flags.DEFINE_integer("mc_samples", 16, "Latent samples behind score_std (0: none).")
    flags.DEFINE_enum(
        "precision", "float32", PRECISIONS,
        "With --model_dir: what the SavedModel's signatures compute in (outputs are float32 either way). bfloat16: "
        "the backbone in bfloat16 (AMX/AVX512-BF16 CPUs run it natively), checked against float32 on real images "
        "first (Spearman >= 0.999, or nothing is written); auto: bfloat16 when THIS machine's CPU has it natively "
        "(export float32 and score with --precision=auto when the scoring machines differ: docs/scoring.md).",
    )  # fmt: skip
    flags.DEFINE_boolean(
        "calibrate", True,
        "With --model_dir: add calibrated_score, the chosen score_std and the photo-likeness flag, from the run's "
        "calibration.json or fitted now on the splits its flags.txt names (--nocalibrate: the model's own outputs).",
    )  # fmt: skip
    flags.DEFINE_integer(
        "max_image_pixels", MAX_PIXELS,
        "With --model_dir: the SavedModel's graph refuses images whose header declares more pixels (bombs).",
    )  # fmt: skip


def _define_tflite_flags():
    from pear_tf.exporting.tflite import CHOICES, FLOAT_DTYPES, INPUT_TYPES

    flags.DEFINE_string("saved_model_dir", None, "With --tflite: a SavedModel, or a base folder (its latest version).")
    flags.DEFINE_enum(
        "tflite", None, CHOICES,
        "Convert --saved_model_dir to this TFLite variant; auto: the smallest that passes the checks (it prints what "
        "it tried, what it picked and why).",
    )  # fmt: skip
    flags.DEFINE_string("output", None, "With --tflite: the .tflite file to write.")
    flags.DEFINE_enum(
        "tflite_input", "float32", INPUT_TYPES,
        "With --tflite: the input tensor. float32 RGB 0..255, or uint8 RGB (the camera's bytes, cast in the graph).",
    )  # fmt: skip
    flags.DEFINE_string(
        "int8_float_layers", "auto",
        "With --tflite=int8: auto (keep layers in float, added by measured agreement gained per byte, until the "
        "Spearman reaches --min_spearman within --max_size_mb), N (keep the N worst in float), or none (all int8).",
    )  # fmt: skip
    flags.DEFINE_enum("float_layers_dtype", "float16", FLOAT_DTYPES, "How int8's float layers store their weights.")
    flags.DEFINE_string(
        "representative_data", None,
        "Calibration (int8, int16x8, auto) and check images: a folder of images, 'synthetic', or 'train' (the "
        "default: the model's own training split, read as its run read it).",
    )  # fmt: skip
    flags.DEFINE_integer("representative_count", 500, "Images used to calibrate int8 and int16x8.")
    flags.DEFINE_float(
        "max_size_mb", 0.0,
        "With --tflite=auto, and int8's search: the largest file in megabytes, 10^6 bytes (0: no budget).",
    )  # fmt: skip
    flags.DEFINE_boolean(
        "tflite_photo_likeness", True,
        "With --tflite: keep the ood_score/is_photo_like outputs (full int8 never has them). "
        "--notflite_photo_likeness leaves their density out: a smaller, faster phone file (BUILD_NOTES has sizes).",
    )  # fmt: skip
    flags.DEFINE_float(
        "max_slowdown", 1.5,
        "With --tflite=auto: reject a quantized file whose invoke() is more than this many times float32's, with 1 "
        "or 2 threads (it fell off the fast kernels: int16x8 on XNNPACK is 15-22x).",
    )  # fmt: skip
    flags.DEFINE_enum(
        "eval_data", None, ["train", "validation", "test", "all"],
        "With --tflite: this split of the model's own data set (or of --dataset/--data_dir when given) is scored "
        "with the SavedModel and the TFLite file against its ratings.",
    )  # fmt: skip
    flags.DEFINE_float(
        "max_srcc_drop", 0.01, "With --eval_data: the SRCC the TFLite file may lose against the SavedModel's."
    )
    flags.DEFINE_integer(
        "check_images", 100, "With --tflite: held-out images scored by both models to check agreement (0: no check)."
    )
    flags.DEFINE_float(
        "min_spearman",
        0.98,
        "With --tflite: fail (exit 1, the file kept for inspection) when the Spearman of the TFLite scores "
        "against the SavedModel's falls below this on the check images.",
    )


def main(argv):
    del argv
    if not FLAGS["verbosity"].present:
        logging.set_verbosity(logging.WARNING)  # the data readers log a line per split they read
    if FLAGS.tflite:
        if not FLAGS.saved_model_dir:
            raise app.UsageError("--tflite needs --saved_model_dir.")
        _export_tflite()
        return
    export_saved_model()


def export_saved_model():
    """--model_dir → the next version of --export_dir, in --precision (bfloat16: checked against float32 first)."""
    if not (FLAGS.model_dir and FLAGS.export_dir):
        raise app.UsageError("Give --model_dir and --export_dir (SavedModel), or --saved_model_dir and --tflite.")
    from pear_tf.exporting.bfloat16 import PrecisionCheckError
    from pear_tf.exporting.saved_model import export_run

    # A run that cannot be calibrated (no flags.txt, its data gone) raises a UserError: exit status 2.
    try:
        export_run(FLAGS.model_dir, FLAGS.export_dir, FLAGS.mc_samples, FLAGS.epoch, max_pixels=FLAGS.max_image_pixels,
                   precision=FLAGS.precision, calibrate=FLAGS.calibrate)  # fmt: skip
    except PrecisionCheckError as error:
        sys.exit(f"ERROR: {error}")


def _eval_data():
    """The labelled set of --eval_data: the given data flags if --dataset is set, else the model's own data set."""
    if not FLAGS.eval_data:
        return None
    from pear_tf.exporting.ratings import LabelledSet
    from pear_tf.exporting.representative import training_split
    from pear_tf.inference.versions import latest_version_dir

    if FLAGS["dataset"].present:
        return LabelledSet(cli.data_config_from_flags(), FLAGS.eval_data)
    return LabelledSet(training_split(latest_version_dir(FLAGS.saved_model_dir)).data, FLAGS.eval_data)


def _export_tflite():
    from pear_tf.exporting import agreement, tflite

    try:
        float_layers = tflite.parse_float_layers(FLAGS.int8_float_layers)
    except ValueError as error:
        raise app.UsageError(str(error)) from None
    try:
        tflite.export_tflite(FLAGS.saved_model_dir, FLAGS.tflite, FLAGS.output, FLAGS.representative_data,
                             FLAGS.representative_count, FLAGS.check_images, FLAGS.min_spearman, FLAGS.tflite_input,
                             float_layers, FLAGS.max_size_mb, _eval_data(), FLAGS.max_srcc_drop,
                             FLAGS.float_layers_dtype, FLAGS.max_slowdown, FLAGS.tflite_photo_likeness)  # fmt: skip
    except agreement.AgreementError as error:
        sys.exit(f"ERROR: {error}")
    except (ValueError, FileNotFoundError) as error:  # no training data here, a bad folder, a mismatched data set
        print(f"ERROR: {error}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    define_flags()
    cli.key_flags_to_command()
    app.run(cli.guard(main), flags_parser=cli.parse_flags)
