"""Is the input pipeline fast enough? Raw JPEG files and the resized cache beside the train step, in one run.

    python benchmarks/input_pipeline.py [--backbone=resnet50 --image_size=224 --images=192]

Writes a synthetic set in the AVA layout with photo-sized JPEGs (448 px, like AVA's
~500 px photos), builds the resized cache from it (pear_tf.data.build --format=resized),
then measures, each over the same number of training images (the two pipelines
alternate for --rounds rounds; medians):
1. raw files: decode, resize, random crop, flip, batch, images/s;
2. the resized cache: read, random crop, flip, batch, images/s;
3. the PEAR train step on one in-memory batch (no input pipeline), images/s;
and prints cache ÷ raw and each pipeline ÷ step (≥ 1.2 keeps the step fed).
tf.data uses every core; the run says how many there are.
"""

import concurrent.futures
import os
import statistics
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from pear_tf import startup  # noqa: E402

startup.import_tensorflow_quietly()  # before anything imports TensorFlow: no CUDA probing noise on a CPU machine

import tensorflow as tf  # noqa: E402
from absl import app, flags  # noqa: E402
from PIL import Image  # noqa: E402

from pear_tf.config import ModelConfig  # noqa: E402
from pear_tf.data import ava, build, pipeline, resized, synthetic  # noqa: E402
from pear_tf.data.splits import DataConfig  # noqa: E402
from pear_tf.training import run as train_lib  # noqa: E402
from pear_tf.training.config import TrainConfig  # noqa: E402

FLAGS = flags.FLAGS


def write_photos(data_dir, count, photo_size, distinct=64):
    """``count`` photo-sized JPEGs in the AVA layout, all in its train list (and one test image).

    Rendering a synthetic photo costs far more than decoding it, so ``distinct`` of them
    are rendered (in threads) and written in turn under the ``count`` ids; each file is
    still read and decoded on its own.
    """
    os.makedirs(os.path.join(data_dir, "images"), exist_ok=True)
    os.makedirs(os.path.join(data_dir, "aesthetics_image_lists"), exist_ok=True)
    with concurrent.futures.ThreadPoolExecutor(os.cpu_count()) as pool:
        examples = list(pool.map(lambda i: synthetic.example(i, "ava", photo_size), range(min(distinct, count + 1))))
    lines = []
    for index in range(count + 1):
        example = examples[index % len(examples)]
        image_id = str(100000 + index)
        Image.fromarray(example["image"]).save(os.path.join(data_dir, "images", f"{image_id}.jpg"), quality=95)
        lines.append(f"{index + 1} {image_id} {' '.join(str(int(c)) for c in example['votes'])} 0 0 1000\n")
    with open(os.path.join(data_dir, "AVA.txt"), "w") as f:
        f.writelines(lines)
    with open(os.path.join(data_dir, "aesthetics_image_lists", "generic_test.jpgl"), "w") as f:
        f.write(f"{100000 + count}\n")
    return data_dir


class Feed:
    """Training batches of a split through pipeline.make_dataset, repeated, warmed up once."""

    def __init__(self, split, image_size, batch_size):
        self.iterator = iter(pipeline.make_dataset(split, image_size, batch_size, training=True).repeat())
        next(self.iterator)  # warm-up: tracing, thread pools

    def images_per_second(self, images):
        count, start = 0, time.perf_counter()
        while count < images:
            count += int(next(self.iterator)["image"].shape[0])
        return count / (time.perf_counter() - start)


def raw_and_cache(data_dir, cache_dir, image_size, batch_size, images, rounds=3):
    """Images/s from the raw JPEGs and from the resized cache built from them, and the build's images/s.

    The two pipelines alternate for ``rounds`` rounds (a shared machine is noisy); the
    median of each is reported, with every round's figure.
    """
    (train, _, _), _ = ava.read_ava(data_dir, validation_fraction=0.0)
    config = DataConfig(dataset="ava", data_dir=data_dir, validation_fraction=0.0)
    start = time.perf_counter()
    description = build.build_resized(config, image_size, cache_dir)
    built = sum(s["count"] for s in description["splits"].values()) / (time.perf_counter() - start)
    cached = resized.load_resized_splits(
        DataConfig(dataset="ava", data_format="resized", cache_dir=cache_dir), image_size
    )
    feeds = {"raw": Feed(train, image_size, batch_size), "cache": Feed(cached.train, image_size, batch_size)}
    rates = {name: [] for name in feeds}
    for _ in range(rounds):
        for name, feed in feeds.items():
            rates[name].append(feed.images_per_second(images))
    return {
        "raw_images_per_s": statistics.median(rates["raw"]),
        "cache_images_per_s": statistics.median(rates["cache"]),
        "rounds": rates,
        "cache_build_images_per_s": built,
        "cpu_cores": os.cpu_count(),
    }


def train_step_images_per_second(backbone, image_size, batch_size, steps):
    """The PEAR train step on one in-memory batch (no input pipeline), images/s after one warm-up step."""
    config = TrainConfig(model=ModelConfig(backbone=backbone, image_size=image_size))
    model = train_lib.build_model(config, config.model, tf.distribute.get_strategy())
    n = batch_size
    batch = {
        "image": tf.random.uniform([n, image_size, image_size, 3], 0, 255),
        "distribution": tf.fill([n, config.model.num_bins], 1.0 / config.model.num_bins),
        "attributes": tf.fill([n, 11], 0.5),
        "attribute_mask": tf.ones([n, 11]),
    }
    step = tf.function(model.train_step)
    step(batch)  # warm-up: tracing
    start = time.perf_counter()
    for _ in range(steps):
        float(step(batch)["loss"])
    return steps * n / (time.perf_counter() - start)


def main(argv):
    del argv
    with tempfile.TemporaryDirectory() as work:
        data_dir = write_photos(os.path.join(work, "ava"), FLAGS.photos, FLAGS.photo_size, FLAGS.distinct_photos)
        cache_dir = os.path.join(work, "cache")
        fed = raw_and_cache(data_dir, cache_dir, FLAGS.image_size, FLAGS.batch_size, FLAGS.images, FLAGS.rounds)
    consumed = train_step_images_per_second(FLAGS.backbone, FLAGS.image_size, FLAGS.batch_size, FLAGS.train_steps)
    raw, cache = fed["raw_images_per_s"], fed["cache_images_per_s"]
    print(f"raw JPEG files: {raw:8.1f} images/s  ({FLAGS.photo_size} px JPEG → {FLAGS.image_size} px crops)")
    print(f"resized cache:  {cache:8.1f} images/s  (built once at {fed['cache_build_images_per_s']:.1f} images/s)")
    print(f"train step:     {consumed:8.1f} images/s  (PEAR, {FLAGS.backbone} at {FLAGS.image_size} px, "
          f"batch {FLAGS.batch_size})")  # fmt: skip
    print(f"ratio cache/raw: {cache / raw:.2f}  (median of {FLAGS.rounds} alternating rounds: "
          f"raw {', '.join(f'{r:.1f}' for r in fed['rounds']['raw'])}; "
          f"cache {', '.join(f'{r:.1f}' for r in fed['rounds']['cache'])})")  # fmt: skip
    print(f"ratio raw/step: {raw / consumed:.1f}, cache/step: {cache / consumed:.1f}  (CPU cores: {os.cpu_count()})")


if __name__ == "__main__":
    flags.DEFINE_string("backbone", "resnet50", "Backbone of the train step.")
    flags.DEFINE_integer("image_size", 224, "Encoder input size.")
    flags.DEFINE_integer("batch_size", 16, "Batch size of every measurement.")
    flags.DEFINE_integer("photos", 192, "Photo files written (the pipelines repeat them).")
    flags.DEFINE_integer("distinct_photos", 192, "Photos rendered; the files repeat them in turn.")
    flags.DEFINE_integer("images", 192, "Training images timed per pipeline and round.")
    flags.DEFINE_integer("rounds", 3, "Timing rounds; the two pipelines alternate within each.")
    flags.DEFINE_integer("photo_size", 448, "Side of the written photos.")
    flags.DEFINE_integer("train_steps", 4, "Timed train steps (after one warm-up step).")
    app.run(main)
