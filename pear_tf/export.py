"""Export a trained PEAR run as the next SavedModel version, for TF Serving.

    python -m pear_tf.export --model_dir=runs/demo --export_dir=savedmodels/demo

Restores the run's latest checkpoint and writes ``<export_dir>/<next version>/`` with the
``serving_default`` and ``predict_images`` signatures (DESIGN.md §6) and a metadata asset
holding the training flags and test metrics.
"""

from absl import app, flags

from pear_tf import export_lib

flags.DEFINE_string("model_dir", None, "A pear_tf.train run folder (model_config.json, checkpoints/).")
flags.DEFINE_string("export_dir", None, "The model's base folder, savedmodels/<name>.")
flags.DEFINE_integer("mc_samples", 16, "Latent samples behind score_std (0: none).")
FLAGS = flags.FLAGS


def main(argv):
    del argv
    model, checkpoint = export_lib.restore_model(FLAGS.model_dir)
    metadata = export_lib.run_metadata(model, FLAGS.model_dir, checkpoint)
    path = export_lib.export_saved_model(model, FLAGS.export_dir, metadata, FLAGS.mc_samples)
    print(f"Exported {checkpoint} to {path}")


if __name__ == "__main__":
    flags.mark_flags_as_required(["model_dir", "export_dir"])
    app.run(main)
