"""Is the input pipeline fast enough? Its images/s beside the training step's, in one run.

    python benchmarks/input_pipeline.py [--backbone=resnet50 --image_size=224 --images=192]

Writes a synthetic set in the AVA layout with photo-sized JPEGs (448 px, like AVA's
~500 px photos), then measures:
1. the pipeline: decode, resize, random crop, flip, batch, from files, images/s;
2. the PEAR train step on one in-memory batch (no input pipeline), images/s;
and prints their ratio (≥ 2 means the pipeline keeps the step fed with room to spare).
"""

import os
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import tensorflow as tf  # noqa: E402
from absl import app, flags  # noqa: E402

from pear_tf import train_lib  # noqa: E402
from pear_tf.config import ModelConfig  # noqa: E402
from pear_tf.data import ava, pipeline, synthetic  # noqa: E402

flags.DEFINE_string("backbone", "resnet50", "Backbone of the train step.")
flags.DEFINE_integer("image_size", 224, "Encoder input size.")
flags.DEFINE_integer("batch_size", 16, "Batch size of both measurements.")
flags.DEFINE_integer("images", 192, "Photos written for the pipeline measurement.")
flags.DEFINE_integer("photo_size", 448, "Side of the written photos.")
flags.DEFINE_integer("train_steps", 4, "Timed train steps (after one warm-up step).")
FLAGS = flags.FLAGS


def pipeline_images_per_second(data_dir):
    (train, _, _), _ = ava.read_ava(data_dir, validation_fraction=0.0)
    ds = pipeline.make_dataset(train, FLAGS.image_size, FLAGS.batch_size, training=True).repeat()
    iterator = iter(ds)
    next(iterator)  # warm-up: tracing, thread pools
    count, start = 0, time.perf_counter()
    while count < FLAGS.images:
        count += int(next(iterator)["image"].shape[0])
    return count / (time.perf_counter() - start)


def train_step_images_per_second():
    config = train_lib.TrainConfig(model=ModelConfig(backbone=FLAGS.backbone, image_size=FLAGS.image_size))
    model = train_lib.build_model(config, config.model, tf.distribute.get_strategy())
    size, n = FLAGS.image_size, FLAGS.batch_size
    batch = {
        "image": tf.random.uniform([n, size, size, 3], 0, 255),
        "distribution": tf.fill([n, config.model.num_bins], 1.0 / config.model.num_bins),
        "attributes": tf.fill([n, 11], 0.5),
        "attribute_mask": tf.ones([n, 11]),
    }
    step = tf.function(model.train_step)
    step(batch)  # warm-up: tracing
    start = time.perf_counter()
    for _ in range(FLAGS.train_steps):
        float(step(batch)["loss"])
    return FLAGS.train_steps * n / (time.perf_counter() - start)


def main(argv):
    del argv
    with tempfile.TemporaryDirectory() as data_dir:
        synthetic.write_ava_layout(data_dir, (FLAGS.images, 0, 1), FLAGS.photo_size)
        fed = pipeline_images_per_second(data_dir)
    consumed = train_step_images_per_second()
    print(f"input pipeline: {fed:8.1f} images/s  ({FLAGS.photo_size} px JPEG → {FLAGS.image_size} px crops)")
    print(
        f"train step:     {consumed:8.1f} images/s  "
        f"(PEAR, {FLAGS.backbone} at {FLAGS.image_size} px, batch {FLAGS.batch_size})"
    )
    print(f"ratio pipeline/step: {fed / consumed:.1f}  (CPU cores: {os.cpu_count()})")


if __name__ == "__main__":
    app.run(main)
