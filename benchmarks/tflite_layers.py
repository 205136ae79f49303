"""Where does full int8 lose precision? Per-layer error of a SavedModel's int8 conversion.

    python benchmarks/tflite_layers.py --saved_model_dir=savedmodels/aadb [--representative_data=photos/]

Runs TFLite's QuantizationDebugger on the scoring graph that ``pear_tf.export
--tflite=int8`` converts, with the same calibration images, and prints each layer's
root-mean-square error in quantization steps (rmse / scale) in graph order, then the
worst layers. Pure rounding gives about 0.29 (1/√12); a layer far above that is where
an int8 model goes wrong (this is how the RGB→BGR flip bug was found, BUILD_NOTES.md).
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from pear_tf import startup  # noqa: E402

startup.import_tensorflow_quietly()  # before anything imports TensorFlow: no CUDA probing noise on a CPU machine

import tensorflow as tf  # noqa: E402
from absl import app, flags  # noqa: E402

from pear_tf.exporting.converter import calibration_dataset, scoring_converter  # noqa: E402
from pear_tf.exporting.layer_ranking import activation_spread, float_model, layer_errors, ranked_layers  # noqa: E402
from pear_tf.exporting.representative import representative_images  # noqa: E402
from pear_tf.inference.metadata import image_size, read_metadata  # noqa: E402
from pear_tf.inference.versions import latest_version_dir  # noqa: E402

flags.DEFINE_string("saved_model_dir", None, "A SavedModel, or a base folder (its latest version).")
flags.DEFINE_string("representative_data", "synthetic", "Calibration images: a folder, or 'synthetic'.")
flags.DEFINE_integer("representative_count", 200, "Calibration images (as pear_tf.export).")
flags.DEFINE_integer("debug_images", 50, "Images the debugger compares float and int8 on.")
flags.DEFINE_integer("worst", 10, "Worst layers to list.")
flags.DEFINE_enum("tflite_input", "float32", ["float32", "uint8"], "The input tensor, as pear_tf.export's flag.")
flags.mark_flag_as_required("saved_model_dir")
FLAGS = flags.FLAGS


def main(argv):
    del argv
    path = latest_version_dir(FLAGS.saved_model_dir)
    size = image_size(read_metadata(path))
    calibration = representative_images(FLAGS.representative_data, size, FLAGS.representative_count)
    debug = representative_images(FLAGS.representative_data, size, FLAGS.debug_images, seed=1)
    # The converter pear_tf.export's int8 search uses (exporting/int8_search.py).
    converter = scoring_converter(path, FLAGS.tflite_input)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = calibration_dataset(calibration, FLAGS.tflite_input)
    debugger = tf.lite.experimental.QuantizationDebugger(
        converter=converter, debug_dataset=calibration_dataset(debug, FLAGS.tflite_input)
    )
    debugger.run()
    rows = layer_errors(debugger, activation_spread(float_model(path, FLAGS.tflite_input), FLAGS.tflite_input, debug))
    print(
        f"{path}: {len(rows)} quantized layers; rmse in quantization steps (rounding alone ≈ 0.29) "
        "and over the float activation's std (what the export's int8 search ranks by)"
    )
    for index, row in enumerate(rows):
        print(f"{index:4d} {row['op']:<18} {row['steps']:8.3f} {row['relative']:8.4f}  {row['tensor'][-80:]}")
    print(f"\nworst {FLAGS.worst} (the order in which --int8_float_layers keeps them in float):")
    for row in ranked_layers(rows)[: FLAGS.worst]:
        print(f"     {row['op']:<18} {row['steps']:8.3f} {row['relative']:8.4f}  {row['tensor'][-80:]}")


if __name__ == "__main__":
    app.run(main)
