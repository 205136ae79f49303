"""Frozen-encoder training on a feature cache against ordinary training, side by side.

    python benchmarks/frozen_encoder.py --mode=speed     # a cached-heads epoch vs a full epoch
    python benchmarks/frozen_encoder.py --mode=routes    # final test SRCC of each route on the demo set

speed: for each encoder of --backbones (``name@image size@reconstruction size``), the same train split (the demo's
synthetic generator, --train_images images) is trained for one epoch the ordinary way (images
through the image pipeline, every variable of PEAR trained) and for one epoch on the feature
cache (the latents and heads trained on the stored features and reconstruction targets).
Both are driven by the training loop's own step function; epochs alternate over --rounds
(this machine is noisy) and the medians are compared. Encoding the cache once is timed too,
in full epochs. Weights are random (speed does not depend on them).

routes: on the demo set (pipelines/demo.flags' sizes, AADB-like synthetic, 4800/300/600), an
encoder (--encoder: a DINOv2-architecture ViT at demo size, or the demo's tiny CNN) first
"pretrained" on other data (a run on the AVA-like synthetic flavour with another seed: no
foundation weights can be downloaded here) is carried over with --init_from, then:
``full`` (every part trains, --epochs), ``cache`` (frozen encoder, --frozen_epochs on the
cache), ``cache_unfreeze`` (the same, then image epochs training the last block). Each route's
test SRCC and wall time are printed side by side, for every --seeds.
"""

import dataclasses
import json
import os
import statistics
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from pear_tf import startup  # noqa: E402

startup.import_tensorflow_quietly()  # before anything imports TensorFlow: no CUDA probing noise on a CPU machine

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402
from absl import app, flags  # noqa: E402

from pear_tf.config import ModelConfig  # noqa: E402
from pear_tf.data import pipeline, sources  # noqa: E402
from pear_tf.data.splits import DataConfig  # noqa: E402
from pear_tf.training import config as train_config  # noqa: E402
from pear_tf.training import distribution, feature_cache, loop  # noqa: E402
from pear_tf.training import run as train_lib  # noqa: E402

flags.DEFINE_enum("mode", "speed", ["speed", "routes"], "What to measure.")
flags.DEFINE_list("backbones", ["dinov2_small@224@256", "convnext_tiny@224@256", "tiny@64@32"],
                  "speed: encoders, name@image size@reconstruction size.")
flags.DEFINE_integer("train_images", 256, "speed: images in the timed epoch.")
flags.DEFINE_integer("batch_size", 32, "Global batch size.")
flags.DEFINE_integer("views", 4, "Stored views an image in the cache.")
flags.DEFINE_integer("rounds", 2, "speed: timing rounds (the two kinds of epoch alternate).")
flags.DEFINE_string("out", None, "Also write the figures as JSON here.")
flags.DEFINE_list("seeds", ["0"], "routes: seeds of the demo runs.")
flags.DEFINE_enum("encoder", "dinov2_mini", ["dinov2_mini", "tiny"], "routes: the encoder pretrained and carried over.")
flags.DEFINE_string("work_dir", None, "routes: folder of the runs (default: a temporary one).")
FLAGS = flags.FLAGS


def speed_config(name, size, recon_size):
    model = ModelConfig(backbone=name, image_size=size, recon_size=recon_size)
    data = DataConfig(synthetic_sizes=(FLAGS.train_images, 8, 8))
    return train_config.TrainConfig(model=model, data=data, batch_size=FLAGS.batch_size, export_dir=None)


def traced(model, strategy, trainable, iterator):
    """The loop's step function with ``trainable`` frozen in at trace time (traced here: one step of ``iterator``)."""
    model.set_trainable(trainable)
    function = loop.make_train_function(model, strategy)
    function(iterator, tf.constant(0))
    return function


def time_epoch(function, iterator, steps):
    start = time.perf_counter()
    for _ in range(steps):
        values, _ = function(iterator, tf.constant(0))
    float(values["loss"])  # wait for the last step
    return time.perf_counter() - start


def measure_speed(spec):
    name, size, recon_size = spec.split("@")
    config = speed_config(name, int(size), int(recon_size))
    keras.utils.set_random_seed(0)
    strategy = distribution.make_strategy("auto")
    splits = sources.load_splits(config.data, config.model.image_size)
    model_config = dataclasses.replace(config.model, bin_values=splits.scale.bin_values)
    model = train_lib.build_model(config, model_config, strategy)
    with tempfile.TemporaryDirectory() as folder:
        start = time.perf_counter()
        cache = feature_cache.open_or_encode(model, splits.train, folder, FLAGS.views, FLAGS.batch_size)
        encode_s = time.perf_counter() - start
        images = pipeline.make_dataset(splits.train, config.model.image_size, FLAGS.batch_size, training=True).repeat()
        features = cache.epoch_dataset(FLAGS.batch_size, seed=0)
        full_it, cached_it, rounds = iter(images), iter(features), []
        full = traced(model, strategy, "all", full_it)
        cached = traced(model, strategy, "latents_and_heads", cached_it)
        steps = FLAGS.train_images // FLAGS.batch_size
        for _ in range(FLAGS.rounds):
            rounds.append((time_epoch(full, full_it, steps), time_epoch(cached, cached_it, steps)))
    full_s, cached_s = (statistics.median(column) for column in zip(*rounds))
    return {"backbone": name, "image_size": int(size), "recon_size": config.model.recon_size,
            "parameters": model.backbone.count_params(), "steps_per_epoch": steps, "full_epoch_s": full_s,
            "cached_epoch_s": cached_s, "speedup": full_s / cached_s, "encode_s": encode_s,
            "encode_in_full_epochs": encode_s / full_s, "rounds": rounds}  # fmt: skip


def print_speed(rows):
    print(f"{'encoder':<18}{'params':>9}{'full epoch':>12}{'cached epoch':>14}{'speed-up':>10}{'encode once':>14}")
    for r in rows:
        print(f"{r['backbone'] + '@' + str(r['image_size']):<18}{r['parameters'] / 1e6:>8.1f}M{r['full_epoch_s']:>11.1f}s"
              f"{r['cached_epoch_s']:>13.2f}s{r['speedup']:>9.1f}×{r['encode_in_full_epochs']:>10.2f} ep.")


# The demo's sizes (pipelines/demo.flags) and the encoder of the routes: a DINOv2-architecture
# ViT small enough to train on 2 CPU cores (64 px, 8 px patches: 64 tokens, 4 blocks of width 64).
DEMO_ENCODER = {"patch_size": 8, "hidden_dim": 64, "num_layers": 4, "num_heads": 4, "intermediate_dim": 128,
                "position_embedding_shape": [64, 64, 3]}  # fmt: skip
DEMO = dict(image_size=64, recon_size=32, batch_size=32)
PRETRAIN_EPOCHS = 10
ROUTES = {"full": dict(epochs=6), "cache": dict(frozen_epochs=20, epochs=0),
          "cache_unfreeze": dict(frozen_epochs=20, epochs=2, unfreeze_blocks=1)}  # fmt: skip


# routes' encoders: (--backbone, its backbone_config).
ROUTE_ENCODERS = {"dinov2_mini": ("dinov2_small", DEMO_ENCODER), "tiny": ("tiny", None)}


def route_config(folder, seed, flavour, **changes):
    backbone, architecture = ROUTE_ENCODERS[FLAGS.encoder]
    model = ModelConfig(backbone=backbone, backbone_config=architecture, image_size=DEMO["image_size"],
                        recon_size=DEMO["recon_size"])  # fmt: skip
    data = DataConfig(synthetic_flavour=flavour, seed=seed)
    base = train_config.TrainConfig(model=model, data=data, model_dir=folder, export_dir=None, seed=seed,
                                    batch_size=DEMO["batch_size"], backbone_lr=1e-4, mc_samples=0, verbose=2,
                                    export_checkpoint="best", finetune_prior=False)  # fmt: skip
    return dataclasses.replace(base, **changes)


def run_routes(work_dir, seed):
    """The pretraining run, then every route from it; returns {route: {srcc, wall_s}}."""
    pretrain = os.path.join(work_dir, f"pretrain_seed{seed}")
    # "Other data": the AVA-like flavour, another seed; the encoder trains from scratch here.
    start = time.perf_counter()
    config = route_config(pretrain, seed + 100, "ava", epochs=PRETRAIN_EPOCHS, backbone_lr=1e-3)
    metrics = train_lib.train_and_evaluate(config)["metrics"]
    results = {"pretrain (AVA-like, its own test)": {"srcc": metrics["srcc"], "wall_s": time.perf_counter() - start}}
    for route, changes in ROUTES.items():
        start = time.perf_counter()
        config = route_config(os.path.join(work_dir, f"{route}_seed{seed}"), seed, "aadb", init_from=pretrain,
                              **changes)  # fmt: skip
        metrics = train_lib.train_and_evaluate(config)["metrics"]
        results[route] = {"srcc": metrics["srcc"], "wall_s": time.perf_counter() - start, **changes}
    return results


def main(argv):
    del argv
    if FLAGS.mode == "speed":
        rows = []
        for spec in FLAGS.backbones:  # each row as soon as it is measured
            rows.append(measure_speed(spec))
            print(json.dumps({key: value for key, value in rows[-1].items() if key != "rounds"}), flush=True)
        print_speed(rows)
        figures = {"speed": rows}
    else:
        work_dir = FLAGS.work_dir or tempfile.mkdtemp(prefix="frozen_encoder_")
        figures = {"routes": {seed: run_routes(work_dir, int(seed)) for seed in FLAGS.seeds}}
        for seed, results in figures["routes"].items():
            print(f"seed {seed}: " + "  ".join(f"{route} SRCC {r['srcc']:.4f} ({r['wall_s']:.0f} s)"
                                               for route, r in results.items()))  # fmt: skip
    if FLAGS.out:
        with open(FLAGS.out, "w") as f:
            json.dump(figures, f, indent=2)
    sys.stdout.flush()


if __name__ == "__main__":
    app.run(main)
