"""Full-int8 MobileNetV3 with Keras's hard-swish and with pear_tf's, side by side in one run.

    python benchmarks/hard_swish.py --run=runs/mnv3 [--image_size=224]

Builds the run's best epoch twice at ``--image_size`` (trained statistics: a random
MobileNetV3's activations shrink to int8 scales XNNPACK refuses, which would hide the
difference): once with Keras's own hard-swish (TFLite's HARD_SWISH op) and once with
``pear_tf.model.backbone.hard_swish``. Each is exported to float32 and to plain full
int8 (no layer in float) by ``export_tflite``, next to a float32 ResNet50 PEAR of the same
size (float latency does not depend on the weights, so its weights are random). Prints each
file's XNNPACK partitions and median ``invoke()`` latency with 1 and 2 threads,
interleaved over rounds, with ratios to the ResNet50.
"""

import os
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from pear_tf import startup  # noqa: E402

startup.import_tensorflow_quietly()  # before anything imports TensorFlow: no CUDA probing noise on a CPU machine

import keras  # noqa: E402
from absl import app, flags  # noqa: E402

from pear_tf.config import ModelConfig  # noqa: E402
from pear_tf.exporting import tflite  # noqa: E402
from pear_tf.exporting.representative import representative_images  # noqa: E402
from pear_tf.exporting.saved_model import export_metadata, export_run, export_saved_model  # noqa: E402
from pear_tf.inference.tflite import interleaved_invoke_ms, xnnpack_partitions  # noqa: E402
from pear_tf.model import PEAR  # noqa: E402
from pear_tf.model import backbone as backbone_lib  # noqa: E402

flags.DEFINE_string("run", None, "A pear_tf.train run folder of a MobileNetV3 PEAR.", required=True)
flags.DEFINE_integer("image_size", 224, "Input size the networks are built at.")
flags.DEFINE_integer("rounds", 5, "Timing rounds.")
flags.DEFINE_integer("repeats", 10, "invoke() calls per file per round.")
FLAGS = flags.FLAGS


def mobilenet_files(scratch, activation, label):
    """float32 and all-int8 files of the run's best epoch built with ``activation`` as its hard-swish."""
    ours = backbone_lib.hard_swish
    backbone_lib.hard_swish = activation  # what _mobilenet_v3_backbone swaps into the Activation layers
    try:
        path = export_run(FLAGS.run, os.path.join(scratch, label), 0, "best", FLAGS.image_size)
    finally:
        backbone_lib.hard_swish = ours
    files = {}
    for variant in ("float32", "int8"):
        output = os.path.join(scratch, f"{label}_{variant}.tflite")
        tflite.export_tflite(path, variant, output, "synthetic", 200, 0, float_layers="none")
        files[f"MobileNetV3 {variant}, {label}"] = output
    return files


def main(argv):
    del argv
    with tempfile.TemporaryDirectory() as scratch:
        keras.utils.set_random_seed(0)
        resnet = PEAR(ModelConfig(backbone="resnet50", image_size=FLAGS.image_size, recon_size=16))
        resnet.build_all()
        path = export_saved_model(resnet, os.path.join(scratch, "resnet50"), export_metadata(resnet, "random"), 0)
        files = {"ResNet50 float32": tflite.export_tflite(path, "float32", os.path.join(scratch, "r.tflite"),
                                                          check_images=0)[0]}  # fmt: skip
        files.update(mobilenet_files(scratch, keras.activations.hard_swish, "Keras's HARD_SWISH"))
        files.update(mobilenet_files(scratch, backbone_lib.hard_swish, "pear_tf's hard_swish"))
        image = representative_images("synthetic", FLAGS.image_size, 1, seed=11)[0]
        ms = interleaved_invoke_ms({name: (file, image) for name, file in files.items()}, FLAGS.rounds, FLAGS.repeats)
        base1, base2 = ms[("ResNet50 float32", 1)], ms[("ResNet50 float32", 2)]
        print(f"{FLAGS.run} at {FLAGS.image_size} px; invoke median of {FLAGS.rounds}×{FLAGS.repeats}")
        print("| file | XNNPACK partitions | invoke ms 1 thr (× ResNet50 f32) | invoke ms 2 thr (×) |")
        print("|---|---|---|---|")
        for name, file in files.items():
            one, two = ms[(name, 1)], ms[(name, 2)]
            print(f"| {name} | {xnnpack_partitions(file)} | {one:.2f} ({one / base1:.3f}) | "
                  f"{two:.2f} ({two / base2:.3f}) |")  # fmt: skip


if __name__ == "__main__":
    app.run(main)
