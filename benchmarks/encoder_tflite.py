"""Which modern encoders convert to TFLite at their real size, and what the files cost.

    python benchmarks/encoder_tflite.py [--backbones=convnext_tiny,efficientnetv2_s,...] [--variants=float32,dynamic]

For each encoder (the published architecture, random weights: conversion and speed do not
depend on them), PEAR is built at --image_size, exported as a SavedModel, and converted to each
TFLite variant in a fresh process (pear_tf.exporting.tflite, builtin ops only). Two real
photographs (scikit-learn's china.jpg and flower.jpg) are scored by the SavedModel and the
file; the table gives the file's size, the largest score difference, the median invoke() time
(2 threads) and the conversion time, or the converter's error for a file that does not convert.
"""

import json
import os
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from pear_tf import startup  # noqa: E402

startup.import_tensorflow_quietly()  # before anything imports TensorFlow: no CUDA probing noise on a CPU machine

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from absl import app, flags  # noqa: E402

from pear_tf.config import ModelConfig  # noqa: E402
from pear_tf.data.decode import decode_image  # noqa: E402
from pear_tf.data.preprocessing import preprocess  # noqa: E402
from pear_tf.exporting import saved_model  # noqa: E402
from pear_tf.exporting import tflite as tflite_lib  # noqa: E402
from pear_tf.inference.tflite import TFLiteScorer, invoke_seconds  # noqa: E402
from pear_tf.model import PEAR  # noqa: E402

flags.DEFINE_list("backbones", ["convnext_tiny", "efficientnetv2_s", "dinov2_small", "siglip_base", "clip_vit_b16"],
                  "Encoders to convert.")  # fmt: skip
flags.DEFINE_list("variants", ["float32", "dynamic"], "TFLite variants (float32, float16, dynamic).")
flags.DEFINE_integer("image_size", 224, "Input side (every encoder here was trained at 224 but EfficientNetV2's).")
flags.DEFINE_string("out", None, "Also write the rows as JSON here.")
FLAGS = flags.FLAGS


def photos(size):
    from sklearn.datasets import load_sample_images

    images = []
    for array in load_sample_images().images:
        encoded = tf.io.encode_jpeg(array, quality=95)
        images.append(preprocess(decode_image(encoded), size).numpy())
    return np.stack(images)


def convert_one(name, folder, images):
    keras.utils.set_random_seed(0)
    model = PEAR(ModelConfig(backbone=name, image_size=FLAGS.image_size, recon_size=64), seed=0)
    model.build_all()
    path = saved_model.export_saved_model(model, os.path.join(folder, name), saved_model.export_metadata(model, "ava"),
                                          mc_samples=0)  # fmt: skip
    expected = tf.saved_model.load(path).signatures["predict_images"](images=tf.constant(images))["score"].numpy()
    rows = []
    for variant in FLAGS.variants:
        row = {"backbone": name, "variant": variant, "parameters": model.backbone.count_params()}
        start = time.perf_counter()
        try:
            output = tflite_lib.convert_in_subprocess(path, variant, os.path.join(folder, f"{name}_{variant}.tflite"))
        except RuntimeError as error:
            rows.append({**row, "converted": False, "error": str(error)[-600:]})
            continue
        scorer = TFLiteScorer(output)
        scores = np.array([float(scorer.score(image)["score"]) for image in images])
        rows.append({**row, "converted": True, "convert_s": time.perf_counter() - start,
                     "size_mb": os.path.getsize(output) / 2**20, "max_score_difference": float(np.abs(scores - expected).max()),
                     "invoke_ms_2_threads": 1000 * invoke_seconds(output, images[0], repeats=5, num_threads=2)})  # fmt: skip
        os.remove(output)
    return rows


def main(argv):
    del argv
    images = photos(FLAGS.image_size)
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for name in FLAGS.backbones:
            rows += convert_one(name, folder, images)
            print(json.dumps(rows[-len(FLAGS.variants):]), flush=True)
    print(f"{'encoder':<18}{'variant':<9}{'params':>8}{'file':>10}{'max |Δscore|':>14}{'invoke':>10}{'convert':>9}")
    for r in rows:
        if not r["converted"]:
            print(f"{r['backbone']:<18}{r['variant']:<9} did not convert: {r['error'].splitlines()[-1]}")
            continue
        print(f"{r['backbone']:<18}{r['variant']:<9}{r['parameters'] / 1e6:>7.1f}M{r['size_mb']:>8.1f}MB"
              f"{r['max_score_difference']:>14.2e}{r['invoke_ms_2_threads']:>8.0f}ms{r['convert_s']:>8.0f}s")
    if FLAGS.out:
        with open(FLAGS.out, "w") as f:
            json.dump(rows, f, indent=2)


if __name__ == "__main__":
    app.run(main)
