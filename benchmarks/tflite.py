"""TFLite files side by side: backbone × variant, size, invoke() latency, Spearman vs the SavedModel.

    python benchmarks/tflite.py                                    # random-weight PEARs at 224 px
    python benchmarks/tflite.py --models=resnet50=savedmodels/r50,mobilenet_v3_large=savedmodels/mnv3
    python benchmarks/tflite.py --models=resnet50=runs/r50,mobilenet_v3_large=runs/mnv3 --image_size=224

A model is a SavedModel (base or version folder), scored at its own size, or a
pear_tf.train run folder, whose best epoch is rebuilt at ``--image_size`` (0: the size
it was trained at). A network trained at 64 px and rebuilt at 224 px scores little of
meaning, but its activations have trained statistics, so its int8 file quantizes and
runs as a trained one would: that is what the latency of int8 depends on. Random
weights do not give that: a random MobileNetV3's activations shrink layer by layer
(scales of 1e-7 and below), and XNNPACK refuses int8 ops whose scale ratios are that
far apart, which splits the graph and slows int8 for reasons no trained model has.

For each model, every variant is written by the export itself (``export_tflite``: a
subprocess per conversion, the model's metadata in the file; int8 keeps the fewest
layers in float that pass the agreement check, ``--int8_float_layers=auto``):
float32, float16, dynamic, int8, and int8 with uint8 input. Then every file is timed in
one run, interleaved round by round so that machine noise hits all alike: the median of
``invoke()`` (the interpreter's inference alone, as TFLite's benchmark_model and an
app's native call measure) with 1 and with 2 threads. Spearman is against the
SavedModel's ``predict_images`` on ``--images`` synthetic images of another seed than
the calibration's and the export check's. Ratios are to ResNet50 float32 when it is in
the table, else to the first model's float32.
"""

import os
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from pear_tf import startup  # noqa: E402

startup.import_tensorflow_quietly()  # before anything imports TensorFlow: no CUDA probing noise on a CPU machine

from absl import app, flags  # noqa: E402

from pear_tf.exporting import agreement, tflite  # noqa: E402
from pear_tf.exporting.representative import representative_images  # noqa: E402
from pear_tf.exporting.saved_model import export_metadata, export_run, export_saved_model  # noqa: E402
from pear_tf.inference.metadata import image_size, read_metadata  # noqa: E402
from pear_tf.inference.tflite import as_input, interleaved_invoke_ms, read_tflite_metadata, xnnpack_partitions  # noqa: E402
from pear_tf.inference.versions import latest_version_dir  # noqa: E402

flags.DEFINE_list("models", [], "name=PATH pairs, PATH a SavedModel or a pear_tf.train run folder; default: "
                  "random-weight PEARs of --backbones.")  # fmt: skip
flags.DEFINE_list("backbones", ["resnet50", "mobilenet_v3_large", "mobilenet_v3_small", "efficientnet_b0"],
                  "Backbones of the random-weight PEARs (without --models).")  # fmt: skip
flags.DEFINE_integer("image_size", 224, "Input size of the random-weight PEARs and of run folders' best epochs "
                     "(0: a run's own size).")  # fmt: skip
flags.DEFINE_integer("images", 100, "Images for the Spearman column.")
flags.DEFINE_integer("check_images", 100, "Held-out images of the export's agreement check (and int8 search).")
flags.DEFINE_integer("representative_count", 100, "int8 calibration images.")
flags.DEFINE_string("int8_float_layers", "auto", "As pear_tf.export's flag (none: all-int8, no search).")
flags.DEFINE_integer("rounds", 5, "Timing rounds (each times every file once per thread count).")
flags.DEFINE_integer("repeats", 10, "invoke() calls per file per round.")
FLAGS = flags.FLAGS

VARIANTS = (("float32", "float32"), ("float16", "float32"), ("dynamic", "float32"), ("int8", "float32"),
            ("int8", "uint8"))  # fmt: skip


def random_saved_model(backbone, size, base):
    """A random-weight PEAR exported as a SavedModel (what the size and latency depend on)."""
    import keras

    from pear_tf.config import ModelConfig
    from pear_tf.model import PEAR

    keras.utils.set_random_seed(0)
    model = PEAR(ModelConfig(backbone=backbone, image_size=size, recon_size=16))
    model.build_all()
    return export_saved_model(model, os.path.join(base, backbone), export_metadata(model, "random weights"), 0)


def saved_models(scratch):
    """{name: SavedModel version folder} of the table's models."""
    if not FLAGS.models:
        return {b: random_saved_model(b, FLAGS.image_size, scratch + "/sm") for b in FLAGS.backbones}
    models = {}
    for name, path in (pair.split("=", 1) for pair in FLAGS.models):
        if os.path.exists(os.path.join(path, "model_config.json")):
            # The run's best epoch, built at --image_size (0: its own).
            models[name] = export_run(path, os.path.join(scratch, "runs", name), 0, "best", FLAGS.image_size or None)
        else:
            models[name] = latest_version_dir(path)
    return models


def export_all(name, path, scratch):
    """Every variant's file for one model: {(variant, input): (path, note)}."""
    files = {}
    for variant, input_type in VARIANTS:
        output = os.path.join(scratch, f"{name}_{variant}_{input_type}.tflite")
        note = ""
        try:
            tflite.export_tflite(path, variant, output, "synthetic", FLAGS.representative_count, FLAGS.check_images,
                                 0.98, input_type, FLAGS.int8_float_layers)  # fmt: skip
        except agreement.AgreementError:
            note = "below 0.98 at the export check"
        if variant == "int8":
            float_layers = read_tflite_metadata(output)["tflite"].get("float_layers") or {}
            note = f"{float_layers.get('count', 0)} float layers" + (f"; {note}" if note else "")
        files[(variant, input_type)] = (output, note)
    return files


def time_all(files):
    """Median invoke() ms of every file with 1 and 2 threads, interleaved over rounds."""
    images = {size: representative_images("synthetic", size, 1, seed=11)[0] for _, _, size in files.values()}
    inputs = {key: (path, as_input(images[size], input_type)) for key, (path, input_type, size) in files.items()}
    return interleaved_invoke_ms(inputs, FLAGS.rounds, FLAGS.repeats)


def main(argv):
    del argv
    with tempfile.TemporaryDirectory() as scratch:
        models = saved_models(scratch)
        rows, files = [], {}
        size = {name: image_size(read_metadata(path)) for name, path in models.items()}
        for name, path in models.items():
            for key, (output, note) in export_all(name, path, scratch).items():
                files[(name, *key)] = (output, key[1], size[name])
                rows.append((name, path, key, output, note))
        latency = time_all(files)
        base = next((n for n in models if n.startswith("resnet50")), next(iter(models)))
        print(f"{len(models)} models; Spearman on {FLAGS.images} synthetic images (seed 7); invoke median "
              f"of {FLAGS.rounds}×{FLAGS.repeats}; ratios to {base} float32")  # fmt: skip
        print(
            "| model | px | variant | input | size MiB | XNNPACK partitions | invoke ms 1 thr (×) "
            "| invoke ms 2 thr (×) | Spearman | note |"
        )
        print("|---|---|---|---|---|---|---|---|---|---|")
        for name, path, (variant, input_type), output, note in rows:
            images = representative_images("synthetic", size[name], FLAGS.images, seed=7)
            rho = agreement.agreement(path, output, images)["spearman"]
            one, two = latency[((name, variant, input_type), 1)], latency[((name, variant, input_type), 2)]
            ref1, ref2 = latency[((base, "float32", "float32"), 1)], latency[((base, "float32", "float32"), 2)]
            print(f"| {name} | {size[name]} | {variant} | {input_type} | {os.path.getsize(output) / 2**20:.2f} | "
                  f"{xnnpack_partitions(output)} | {one:.3f} ({one / ref1:.3f}) | {two:.3f} ({two / ref2:.3f}) | "
                  f"{rho:.4f} | {note} |")  # fmt: skip


if __name__ == "__main__":
    app.run(main)
