"""Export a trained PEAR run as the next SavedModel version, or a SavedModel as TFLite.

    python -m pear_tf.export --model_dir=runs/demo --export_dir=savedmodels/demo
    python -m pear_tf.export --saved_model_dir=savedmodels/demo --tflite=int8 \\
        --representative_data=synthetic --output=pear_int8.tflite [--tflite_input=uint8]

The first restores the run's latest checkpoint (``--epoch=best``: its best validation
epoch, as train's ``--export=best`` does) and writes ``<export_dir>/<next version>/``
with the ``serving_default``, ``predict_pixels`` and ``predict_images`` signatures (DESIGN.md §6) and a
metadata asset holding the training flags and test metrics. It is calibrated as train's own
export is (``calibrated_score``, the chosen ``score_std``, ``ood_score``/``is_photo_like``): from
the run's calibration.json, or fitted on the splits its flags.txt names (``--nocalibrate``:
not). The second converts the
scoring graph to TFLite with builtin ops only (float32, float16, dynamic or int8), in
a subprocess (pear_tf/exporting/tflite.py). It then scores ``--check_images`` held-out
images with both models and exits 1 when the TFLite ranking falls below
``--min_spearman`` (0.98): an int8 model that lost the ranking is never handed over as
if it worked. Full int8 keeps the fewest layers in float that bring it over the bar
(``--int8_float_layers=auto``, ranked by TFLite's QuantizationDebugger) and says which,
and what they cost. The file carries the model's metadata (bins, attribute names,
preprocessing, name, version, training data) in its flatbuffer: no side file.

``--precision=bfloat16`` (or ``auto`` on a CPU with AMX-BF16/AVX512-BF16) writes a SavedModel whose
backbone computes in bfloat16, after checking it against float32 on real photographs and the
run's validation images (Spearman >= 0.999; exit 1 and nothing written below it). The metadata
records the precision and the check (docs/scoring.md).
"""

import sys

from absl import app, flags

from pear_tf import cli

FLAGS = flags.FLAGS


def define_flags():
    from pear_tf.data.decode import MAX_PIXELS
    from pear_tf.exporting.saved_model import EPOCHS
    from pear_tf.exporting.tflite import INPUT_TYPES, VARIANTS
    from pear_tf.inference.precision import PRECISIONS

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
    flags.DEFINE_string("saved_model_dir", None, "With --tflite: a SavedModel, or a base folder (its latest version).")
    flags.DEFINE_enum("tflite", None, VARIANTS, "Convert --saved_model_dir to this TFLite variant.")
    flags.DEFINE_string("output", None, "With --tflite: the .tflite file to write.")
    flags.DEFINE_enum(
        "tflite_input", "float32", INPUT_TYPES,
        "With --tflite: the input tensor. float32 RGB 0..255, or uint8 RGB (the camera's bytes, cast in the graph).",
    )  # fmt: skip
    flags.DEFINE_string(
        "int8_float_layers", "auto",
        "With --tflite=int8: auto (keep the fewest layers with the largest quantization error in float that bring "
        "the Spearman to --min_spearman), N (keep the N worst in float), or none (all int8).",
    )  # fmt: skip
    flags.DEFINE_string("representative_data", None, "With --tflite=int8: a folder of images, or 'synthetic'.")
    flags.DEFINE_integer("representative_count", 200, "Images used to calibrate int8.")
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
    if FLAGS.tflite:
        from pear_tf.exporting import agreement, tflite

        if not FLAGS.saved_model_dir:
            raise app.UsageError("--tflite needs --saved_model_dir.")
        if FLAGS.tflite == "int8" and not FLAGS.representative_data:
            raise app.UsageError("--tflite=int8 needs --representative_data (a folder of images, or 'synthetic').")
        try:
            tflite.export_tflite(FLAGS.saved_model_dir, FLAGS.tflite, FLAGS.output, FLAGS.representative_data,
                                 FLAGS.representative_count, FLAGS.check_images, FLAGS.min_spearman,
                                 FLAGS.tflite_input, tflite.parse_float_layers(FLAGS.int8_float_layers))  # fmt: skip
        except agreement.AgreementError as error:
            sys.exit(f"ERROR: {error}")
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


if __name__ == "__main__":
    define_flags()
    cli.key_flags_to_command()
    app.run(cli.guard(main), flags_parser=cli.parse_flags)
