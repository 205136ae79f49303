"""TFLite variants side by side: size, single-image latency, agreement with the SavedModel.

Latency is measured two ways: ``call`` is one Python call of the signature runner
(copying the image in and the outputs out, as tflite_score does), ``invoke`` is the
interpreter's inference alone, the figure TFLite's own benchmark_model reports and what
an app's native call costs. On a sub-millisecond model the Python call's fixed overhead
hides most of the difference between variants.

    python benchmarks/tflite.py --saved_model_dir=savedmodels/demo      # the trained demo model
    python benchmarks/tflite.py                                          # a ResNet50 PEAR at 224 (random weights)

Every variant is converted (in a subprocess), then all are timed in one run on the same
images, interleaved, with the same number of threads; agreement is against the
SavedModel's ``predict_images`` on held-out synthetic images.
"""

import os
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from absl import app, flags  # noqa: E402

from pear_tf import export_lib, tflite_lib  # noqa: E402
from pear_tf.tflite_score import TFLiteScorer  # noqa: E402
from pear_tf.versions import latest_version_dir  # noqa: E402

flags.DEFINE_string(
    "saved_model_dir", None, "A SavedModel or base folder; default: export a random-weight ResNet50 PEAR."
)
flags.DEFINE_integer("images", 200, "Held-out images for agreement.")
flags.DEFINE_integer("timed", 30, "Images timed per variant (interleaved rounds).")
flags.DEFINE_integer("threads", 2, "Interpreter threads.")
flags.DEFINE_integer("repeats", 10, "Invocations per timed image for the invoke figure (sub-ms models need several).")
FLAGS = flags.FLAGS


def invoke_seconds(path, image, repeats):
    """Seconds per ``invoke()`` of a fresh interpreter on one image already in place."""
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_path=path, num_threads=FLAGS.threads)
    interpreter.allocate_tensors()
    interpreter.set_tensor(interpreter.get_input_details()[0]["index"], np.asarray(image, np.float32)[np.newaxis])
    interpreter.invoke()  # warm-up

    def run():
        start = time.perf_counter()
        for _ in range(repeats):
            interpreter.invoke()
        return (time.perf_counter() - start) / repeats

    return run


def main(argv):
    del argv
    with tempfile.TemporaryDirectory() as scratch:
        if FLAGS.saved_model_dir:
            path = latest_version_dir(FLAGS.saved_model_dir)
        else:
            from pear_tf.config import ModelConfig
            from pear_tf.model import PEAR

            model = PEAR(ModelConfig(backbone="resnet50", image_size=224))
            model.build_all()
            path = export_lib.export_saved_model(model, scratch + "/sm", export_lib.export_metadata(model, "benchmark"))
        signature = tf.saved_model.load(path).signatures["predict_images"]
        size = int(signature.structured_input_signature[1]["images"].shape[1])
        images = tflite_lib.representative_images("synthetic", size, FLAGS.images, seed=7)
        representative = tflite_lib.representative_images("synthetic", size, 200, seed=3)
        scorers, sizes = {}, {}
        for variant in tflite_lib.VARIANTS:
            output = os.path.join(scratch, f"{variant}.tflite")
            tflite_lib.convert_in_subprocess(path, variant, output, representative if variant == "int8" else None)
            sizes[variant] = os.path.getsize(output)
            scorers[variant] = TFLiteScorer(output, num_threads=FLAGS.threads)
        latencies = {variant: [] for variant in scorers}
        invokes = {variant: [] for variant in scorers}
        invoke = {v: invoke_seconds(os.path.join(scratch, f"{v}.tflite"), images[0], FLAGS.repeats) for v in scorers}
        for scorer in scorers.values():
            scorer.score(images[0])  # warm-up
        for i in range(FLAGS.timed):  # interleaved, so machine noise hits every variant alike
            for variant, scorer in scorers.items():
                start = time.perf_counter()
                scorer.score(images[i % len(images)])
                latencies[variant].append(time.perf_counter() - start)
                invokes[variant].append(invoke[variant]())
        print(f"model {path} ({size} px); {FLAGS.images} images for agreement; {FLAGS.threads} threads")
        print(
            f"{'variant':<9} {'size MiB':>9} {'vs f32':>7} {'call ms':>9} {'vs f32':>7} {'invoke ms':>10} "
            f"{'vs f32':>7} {'max |Δscore|':>13} {'Spearman':>9}"
        )
        median_ms = lambda values: float(np.median(values)) * 1000  # noqa: E731
        for variant in scorers:
            agreement = tflite_lib.agreement(path, os.path.join(scratch, f"{variant}.tflite"), images)
            call, invoked = median_ms(latencies[variant]), median_ms(invokes[variant])
            print(
                f"{variant:<9} {sizes[variant] / 2**20:9.2f} {sizes[variant] / sizes['float32']:7.2f} {call:9.3f} "
                f"{call / median_ms(latencies['float32']):7.2f} {invoked:10.3f} "
                f"{invoked / median_ms(invokes['float32']):7.2f} {agreement['max_abs_score']:13.5f} "
                f"{agreement['spearman']:9.4f}"
            )


if __name__ == "__main__":
    app.run(main)
