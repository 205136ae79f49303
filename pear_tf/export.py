"""Export a trained PEAR run as the next SavedModel version, or a SavedModel as TFLite.

    python -m pear_tf.export --model_dir=runs/demo --export_dir=savedmodels/demo
    python -m pear_tf.export --saved_model_dir=savedmodels/demo --tflite=int8 \\
        --representative_data=synthetic --output=pear_int8.tflite

The first restores the run's latest checkpoint and writes ``<export_dir>/<next version>/``
with the ``serving_default`` and ``predict_images`` signatures (DESIGN.md §6) and a
metadata asset holding the training flags and test metrics. The second converts the
scoring graph to TFLite with builtin ops only (float32, float16, dynamic or int8), in
a subprocess; see pear_tf/tflite_lib.py.
"""

import os

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
FLAGS = flags.FLAGS


def export_tflite():
    import json

    from pear_tf.versions import METADATA_FILE

    path = latest_version_dir(FLAGS.saved_model_dir)
    representative = None
    if FLAGS.tflite == "int8":
        if not FLAGS.representative_data:
            raise app.UsageError("--tflite=int8 needs --representative_data (a folder of images, or 'synthetic').")
        with open(os.path.join(path, "assets", METADATA_FILE)) as f:
            image_size = json.load(f)["model_config"]["image_size"]
        representative = tflite_lib.representative_images(
            FLAGS.representative_data, image_size, FLAGS.representative_count
        )
    output = FLAGS.output or f"{os.path.basename(os.path.normpath(FLAGS.saved_model_dir))}_{FLAGS.tflite}.tflite"
    tflite_lib.convert_in_subprocess(path, FLAGS.tflite, output, representative)
    print(f"Wrote {output} ({os.path.getsize(output) / 2**20:.2f} MiB, {FLAGS.tflite}) from {path}")


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
