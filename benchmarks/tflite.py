"""TFLite variants side by side: size, single-image latency, agreement with the SavedModel.

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
from scipy import stats  # noqa: E402

from pear_tf import export_lib, tflite_lib  # noqa: E402
from pear_tf.tflite_score import TFLiteScorer  # noqa: E402
from pear_tf.versions import latest_version_dir  # noqa: E402

flags.DEFINE_string(
    "saved_model_dir", None, "A SavedModel or base folder; default: export a random-weight ResNet50 PEAR."
)
flags.DEFINE_integer("images", 200, "Held-out images for agreement.")
flags.DEFINE_integer("timed", 30, "Images timed per variant (interleaved rounds).")
flags.DEFINE_integer("threads", 2, "Interpreter threads.")
FLAGS = flags.FLAGS


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
        reference = np.concatenate(
            [signature(images=tf.constant(images[i : i + 25]))["score"].numpy() for i in range(0, len(images), 25)]
        )
        representative = tflite_lib.representative_images("synthetic", size, 200, seed=3)
        scorers, sizes = {}, {}
        for variant in tflite_lib.VARIANTS:
            output = os.path.join(scratch, f"{variant}.tflite")
            tflite_lib.convert_in_subprocess(path, variant, output, representative if variant == "int8" else None)
            sizes[variant] = os.path.getsize(output)
            scorers[variant] = TFLiteScorer(output, num_threads=FLAGS.threads)
        latencies = {variant: [] for variant in scorers}
        for scorer in scorers.values():
            scorer.score(images[0])  # warm-up
        for i in range(FLAGS.timed):  # interleaved, so machine noise hits every variant alike
            for variant, scorer in scorers.items():
                start = time.perf_counter()
                scorer.score(images[i % len(images)])
                latencies[variant].append(time.perf_counter() - start)
        print(f"model {path} ({size} px); {FLAGS.images} images for agreement; {FLAGS.threads} threads")
        print(
            f"{'variant':<9} {'size MiB':>9} {'vs f32':>7} {'median ms':>10} {'vs f32':>7} "
            f"{'max |Δscore|':>13} {'Spearman':>9}"
        )
        for variant, scorer in scorers.items():
            scores = np.array([float(scorer.score(image)["score"]) for image in images])
            median = np.median(latencies[variant]) * 1000
            base_latency = np.median(latencies["float32"]) * 1000
            print(
                f"{variant:<9} {sizes[variant] / 2**20:9.2f} {sizes[variant] / sizes['float32']:7.2f} {median:10.2f} "
                f"{median / base_latency:7.2f} {np.abs(scores - reference).max():13.5f} "
                f"{stats.spearmanr(scores, reference)[0]:9.4f}"
            )


if __name__ == "__main__":
    app.run(main)
