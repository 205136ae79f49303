"""Export a trained PEAR run as the next SavedModel version, or a SavedModel as TFLite.

    python -m pear_tf.export --model_dir=runs/demo --export_dir=savedmodels/demo
    python -m pear_tf.export --saved_model_dir=savedmodels/demo --tflite=int8 \\
        --representative_data=synthetic --output=pear_int8.tflite

The first restores the run's latest checkpoint and writes ``<export_dir>/<next version>/``
with the ``serving_default`` and ``predict_images`` signatures (DESIGN.md §6) and a
metadata asset holding the training flags and test metrics. The second converts the
scoring graph to TFLite with builtin ops only (float32, float16, dynamic or int8), in
a subprocess; see pear_tf/tflite_lib.py. It then scores ``--check_images`` held-out
images with both models and exits 1 when the TFLite ranking falls below
``--min_spearman`` (0.98): an int8 model that lost the ranking is never handed over as
if it worked.
"""

import os
import sys

from absl import app, flags

from pear_tf import export_lib, tflite_lib
from pear_tf.versions import latest_version_dir

flags.DEFINE_string("model_dir", None, "A pear_tf.train run folder (model_config.json, checkpoints/).")
flags.DEFINE_string("export_dir", None, "The model's base folder, savedmodels/<name>.")
flags.DEFINE_integer("mc_samples", 16, "Latent samples behind score_std (0: none).")
flags.DEFINE_string("saved_model_dir", None, "With --tflite: a SavedModel, or a base folder (its latest version).")
flags.DEFINE_enum("tflite", None, tflite_lib.VARIANTS, "Convert --saved_model_dir to this TFLite variant.")
flags.DEFINE_string("output", None, "With --tflite: the .tflite file to write.")
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
FLAGS = flags.FLAGS


def export_tflite():
    import json

    from pear_tf.versions import METADATA_FILE

    path = latest_version_dir(FLAGS.saved_model_dir)
    with open(os.path.join(path, "assets", METADATA_FILE)) as f:
        image_size = json.load(f)["model_config"]["image_size"]
    representative = None
    if FLAGS.tflite == "int8":
        if not FLAGS.representative_data:
            raise app.UsageError("--tflite=int8 needs --representative_data (a folder of images, or 'synthetic').")
        representative = tflite_lib.representative_images(
            FLAGS.representative_data, image_size, FLAGS.representative_count
        )
    output = FLAGS.output or f"{os.path.basename(os.path.normpath(FLAGS.saved_model_dir))}_{FLAGS.tflite}.tflite"
    tflite_lib.convert_in_subprocess(path, FLAGS.tflite, output, representative)
    print(f"Wrote {output} ({os.path.getsize(output) / 2**20:.2f} MiB, {FLAGS.tflite}) from {path}")
    if FLAGS.check_images:
        check_agreement(path, output, image_size)


def check_agreement(saved_model_dir, output, image_size):
    """Scores held-out images with both models; exits 1 if the TFLite model loses the ranking."""
    source = FLAGS.representative_data or "synthetic"
    # Held out: folder images after the calibration ones, or synthetic images of another seed.
    skip = FLAGS.representative_count if FLAGS.tflite == "int8" else 0
    try:
        images = tflite_lib.representative_images(source, image_size, FLAGS.check_images, seed=1, skip=skip)
        held_out = "held-out"
    except ValueError:  # a small folder: every image went into calibration
        images = tflite_lib.representative_images(source, image_size, FLAGS.check_images, seed=1)
        held_out = "calibration (no held-out image left in the folder)"
    result = tflite_lib.agreement(saved_model_dir, output, images)
    print(
        f"Agreement with the SavedModel on {result['images']} {held_out} images from {source}: "
        f"Spearman {result['spearman']:.4f}, max |Δscore| {result['max_abs_score']:.4f}"
    )
    if not result["spearman"] >= FLAGS.min_spearman:
        sys.exit(
            f"ERROR: {output} does not keep the SavedModel's ranking (Spearman {result['spearman']:.4f} < "
            f"--min_spearman={FLAGS.min_spearman}). The file is kept for inspection; do not ship it. A "
            "float16 or dynamic export, or calibration images closer to what the app will score, may do better."
        )


def main(argv):
    del argv
    if FLAGS.tflite:
        if not FLAGS.saved_model_dir:
            raise app.UsageError("--tflite needs --saved_model_dir.")
        export_tflite()
        return
    if not (FLAGS.model_dir and FLAGS.export_dir):
        raise app.UsageError("Give --model_dir and --export_dir (SavedModel), or --saved_model_dir and --tflite.")
    model, checkpoint = export_lib.restore_model(FLAGS.model_dir)
    metadata = export_lib.run_metadata(model, FLAGS.model_dir, checkpoint)
    path = export_lib.export_saved_model(model, FLAGS.export_dir, metadata, FLAGS.mc_samples)
    print(f"Exported {checkpoint} to {path}")


if __name__ == "__main__":
    app.run(main)
