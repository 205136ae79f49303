"""What the photo-likeness outputs cost a .tflite file: size and invoke() time, with and without, side by side.

    python benchmarks/photo_likeness_cost.py --saved_model_dir=SM [--variants=float32,float16]

For each variant: the file as ``export --tflite=VARIANT`` writes it (with ``ood_score`` and
``is_photo_like``) and as ``--notflite_photo_likeness`` writes it, converted from the same
SavedModel; then every file is timed in rounds (``interleaved_invoke_ms``, 1 and 2 threads)
on one synthetic image of the model's input size. Prints MB, XNNPACK partitions, ms and
each file's ratio to its lean twin.
"""

import os
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from pear_tf import startup  # noqa: E402

startup.import_tensorflow_quietly()  # before anything imports TensorFlow: no CUDA probing noise on a CPU machine

from absl import app, flags  # noqa: E402

from pear_tf.exporting import tflite  # noqa: E402
from pear_tf.exporting.representative import representative_images  # noqa: E402
from pear_tf.exporting.tflite_metadata import PHOTO_LIKENESS_OUTPUTS  # noqa: E402
from pear_tf.inference.metadata import image_size, read_metadata  # noqa: E402
from pear_tf.inference.tflite import as_input, interleaved_invoke_ms, xnnpack_partitions  # noqa: E402
from pear_tf.inference.versions import latest_version_dir  # noqa: E402

flags.DEFINE_string("saved_model_dir", None, "A calibrated SavedModel (a version or base folder).")
flags.DEFINE_list("variants", ["float32", "float16"], "Uncalibrated variants to compare (dynamic works too).")
flags.DEFINE_integer("rounds", 5, "Timing rounds.")
flags.DEFINE_integer("repeats", 20, "invoke() calls per file per round.")
FLAGS = flags.FLAGS


def main(argv):
    del argv
    path = latest_version_dir(FLAGS.saved_model_dir)
    size = image_size(read_metadata(path))
    image = as_input(representative_images("synthetic", size, 1, seed=11)[0], "float32")
    with tempfile.TemporaryDirectory() as scratch:
        files = {}
        for variant in FLAGS.variants:
            for lean in (False, True):
                name = f"{variant}{'_lean' if lean else ''}"
                dropped = PHOTO_LIKENESS_OUTPUTS if lean else ()
                files[name] = tflite.convert_in_subprocess(path, variant, os.path.join(scratch, f"{name}.tflite"),
                                                           drop_outputs=dropped)  # fmt: skip
        times = interleaved_invoke_ms({k: (p, image) for k, p in files.items()}, FLAGS.rounds, FLAGS.repeats)
        print(f"{path}, {size} px; invoke median of {FLAGS.rounds}×{FLAGS.repeats}; × = against the file without "
              "the photo-likeness outputs")  # fmt: skip
        print(f"{'file':<16} {'MB':>7} {'partitions':>10} {'1 thr ms':>9} {'×':>6} {'2 thr ms':>9} {'×':>6}")
        for name, file in files.items():
            lean = name.removesuffix("_lean") + "_lean"
            row = [times[(name, t)] for t in (1, 2)]
            print(f"{name:<16} {os.path.getsize(file) / 1e6:7.2f} {xnnpack_partitions(file, 2):10d} "
                  f"{row[0]:9.3f} {row[0] / times[(lean, 1)]:6.2f} {row[1]:9.3f} {row[1] / times[(lean, 2)]:6.2f}")


if __name__ == "__main__":
    flags.mark_flag_as_required("saved_model_dir")
    app.run(main)
