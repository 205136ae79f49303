"""Where does full int8 lose precision? Per-layer error of a SavedModel's int8 conversion.

    python benchmarks/tflite_layers.py --saved_model_dir=savedmodels/aadb [--representative_data=photos/]

Runs TFLite's QuantizationDebugger on the scoring graph that ``pear_tf.export
--tflite=int8`` converts, with the same calibration images, and prints each layer's
root-mean-square error in quantization steps (rmse / scale) in graph order, then the
worst layers. Pure rounding gives about 0.29 (1/√12); a layer far above that is where
an int8 model goes wrong (this is how the RGB→BGR flip bug was found, BUILD_NOTES.md).
"""

import csv
import io
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from absl import app, flags  # noqa: E402

from pear_tf import tflite_lib  # noqa: E402
from pear_tf.versions import latest_version_dir  # noqa: E402

flags.DEFINE_string("saved_model_dir", None, "A SavedModel, or a base folder (its latest version).")
flags.DEFINE_string("representative_data", "synthetic", "Calibration images: a folder, or 'synthetic'.")
flags.DEFINE_integer("representative_count", 200, "Calibration images (as pear_tf.export).")
flags.DEFINE_integer("debug_images", 50, "Images the debugger compares float and int8 on.")
flags.DEFINE_integer("worst", 10, "Worst layers to list.")
flags.mark_flag_as_required("saved_model_dir")
FLAGS = flags.FLAGS


def main(argv):
    del argv
    path = latest_version_dir(FLAGS.saved_model_dir)
    loaded = tf.saved_model.load(path)
    function = loaded.predict_images_deterministic.get_concrete_function()
    size = int(function.inputs[0].shape[1])
    calibration = tflite_lib.representative_images(FLAGS.representative_data, size, FLAGS.representative_count)
    debug = tflite_lib.representative_images(FLAGS.representative_data, size, FLAGS.debug_images, seed=1)

    converter = tf.lite.TFLiteConverter.from_concrete_functions([function], loaded)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = lambda: ([image[np.newaxis].astype(np.float32)] for image in calibration)
    debugger = tf.lite.experimental.QuantizationDebugger(
        converter=converter, debug_dataset=lambda: ([image[np.newaxis].astype(np.float32)] for image in debug)
    )
    debugger.run()
    buffer = io.StringIO()
    debugger.layer_statistics_dump(buffer)
    rows = list(csv.DictReader(io.StringIO(buffer.getvalue())))
    for row in rows:
        scale = float(row["scale"])
        row["steps"] = float(row["mean_squared_error"]) ** 0.5 / scale if scale else 0.0
    print(f"{path}: {len(rows)} quantized layers; rmse in quantization steps (rounding alone ≈ 0.29)")
    for index, row in enumerate(rows):
        print(f"{index:4d} {row['op_name']:<18} {row['steps']:8.3f}  {row['tensor_name'][-80:]}")
    print(f"\nworst {FLAGS.worst}:")
    for row in sorted(rows, key=lambda r: -r["steps"])[: FLAGS.worst]:
        print(f"     {row['op_name']:<18} {row['steps']:8.3f}  {row['tensor_name'][-80:]}")


if __name__ == "__main__":
    app.run(main)
