"""What do PEAR's extras cost? Its train step's images/s beside the CE baseline's, in one run.

    python benchmarks/train_step.py                      # ResNet50, 224 px, batch 16, on this machine
    python benchmarks/train_step.py --batch_size=128 --mixed_precision --jit_compile   # on a GPU

Same backbone, batch and image size for every variant, each driven by the training
loop's own step function (``strategy.run`` on ``train_step``):
- ``ce``: the CE baseline (backbone + one Dense layer);
- ``pear_cached``: PEAR with the frozen prior's outputs cached in the batch (AVA);
- ``pear_inline``: PEAR running the frozen prior network in the step;
- ``pear_finetune``: PEAR fine-tuning the prior in the step (AADB-style, for reference).
Timing rounds alternate between the variants (this machine is noisy); the median of
the rounds is reported, with each PEAR variant's ratio to CE. Peak memory is measured
per variant: on a GPU from TensorFlow's allocator, on a CPU as the peak RSS of a
child process that runs only that variant.
"""

import json
import os
import resource
import statistics
import subprocess
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from pear_tf import startup  # noqa: E402

startup.import_tensorflow_quietly()  # before anything imports TensorFlow: no CUDA probing noise on a CPU machine

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402
from absl import app, flags  # noqa: E402

from pear_tf.training import config as train_config  # noqa: E402
from pear_tf.training import distribution, loop  # noqa: E402
from pear_tf.training import run as train_lib  # noqa: E402
from pear_tf.config import ModelConfig  # noqa: E402
from pear_tf.model.prior import build_prior_network  # noqa: E402

VARIANTS = ("ce", "pear_cached", "pear_inline", "pear_finetune")
flags.DEFINE_string("backbone", "resnet50", "Backbone of every variant.")
flags.DEFINE_integer("image_size", 224, "Encoder input size.")
flags.DEFINE_integer("recon_size", 256, "PEAR's reconstruction size (the paper's 256).")
flags.DEFINE_integer("batch_size", 16, "Global batch size.")
flags.DEFINE_integer("steps", 3, "Timed steps per variant per round.")
flags.DEFINE_integer("rounds", 3, "Timing rounds (variants alternate within each).")
flags.DEFINE_list("variants", list(VARIANTS), "Variants to run.")
flags.DEFINE_boolean("mixed_precision", False, "mixed_bfloat16, as --mixed_precision in training.")
flags.DEFINE_boolean("jit_compile", False, "XLA-compile the step, as --jit_compile in training.")
flags.DEFINE_boolean("memory", True, "Also measure each variant's peak memory.")
flags.DEFINE_string("only", None, "Internal: run one variant and print its peak memory (child process).")
FLAGS = flags.FLAGS


def build(variant, strategy):
    """(model, batch) of one variant, built under ``strategy``."""
    objective = "ce" if variant == "ce" else "pear"
    model_config = ModelConfig(
        backbone=FLAGS.backbone, image_size=FLAGS.image_size, recon_size=FLAGS.recon_size, objective=objective
    )
    prior = None
    if variant in ("pear_inline", "pear_finetune"):
        with strategy.scope():
            prior = build_prior_network(model_config)
    config = train_config.TrainConfig(model=model_config, finetune_prior=variant == "pear_finetune")
    model = train_lib.build_model(config, model_config, strategy, prior)
    n, size = FLAGS.batch_size, FLAGS.image_size
    batch = {
        "image": tf.random.uniform([n, size, size, 3], 0, 255, seed=0),
        "distribution": tf.fill([n, model_config.num_bins], 1.0 / model_config.num_bins),
        "attributes": tf.fill([n, 11], 0.5),
        # AVA observes no attribute; the fine-tuned prior needs observed ones to learn from.
        "attribute_mask": tf.fill([n, 11], 1.0 if variant == "pear_finetune" else 0.0),
    }
    if variant == "pear_cached":
        batch["prior"] = tf.fill([n, 11], 0.5)
    return model, batch


class Runner:
    """One variant's step function and an endless iterator over its batch."""

    def __init__(self, variant, strategy):
        self.model, batch = build(variant, strategy)
        self.step = loop.make_train_function(self.model, strategy, FLAGS.jit_compile)
        dataset = tf.data.Dataset.from_tensors(batch).repeat()
        self.iterator = iter(strategy.experimental_distribute_dataset(dataset))
        self.run(1)  # warm-up: tracing and first-step allocation

    def run(self, steps):
        start = time.perf_counter()
        for _ in range(steps):
            logs, _ = self.step(self.iterator, tf.constant(0))
            float(logs["loss"])  # wait for the step
        return steps * FLAGS.batch_size / (time.perf_counter() - start)


def own_peak_rss_mb():
    """This process's peak RSS. VmHWM starts afresh at exec; ru_maxrss would carry the
    parent's peak over into a child on Linux."""
    try:
        with open("/proc/self/status") as f:
            return next(int(line.split()[1]) for line in f if line.startswith("VmHWM:")) / 1024
    except (OSError, StopIteration):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def peak_memory_mb(variant):
    """Peak memory of training ``variant``: the GPU allocator's, or a child process's RSS."""
    if tf.config.list_physical_devices("GPU"):
        return None  # measured in-process, see main
    command = [sys.executable, os.path.abspath(__file__), f"--only={variant}", "--steps=2"]
    command += [f"--{name}={getattr(FLAGS, name)}" for name in ("backbone", "image_size", "recon_size", "batch_size")]
    command += ["--mixed_precision" if FLAGS.mixed_precision else "--nomixed_precision"]
    command += ["--jit_compile" if FLAGS.jit_compile else "--nojit_compile"]
    result = subprocess.run(command, capture_output=True, text=True, check=True)
    return json.loads(result.stdout.strip().splitlines()[-1])["peak_mb"]


def main(argv):
    del argv
    keras.utils.set_random_seed(0)
    strategy = tf.distribute.get_strategy()
    with distribution.global_policy(distribution.precision_policy(FLAGS.mixed_precision)):
        if FLAGS.only:
            Runner(FLAGS.only, strategy).run(FLAGS.steps)
            print(json.dumps({"peak_mb": own_peak_rss_mb()}))
            return
        gpu = bool(tf.config.list_physical_devices("GPU"))
        runners, memory = {}, {}
        for variant in FLAGS.variants:
            if gpu:
                tf.config.experimental.reset_memory_stats("GPU:0")
            runners[variant] = Runner(variant, strategy)
            if gpu:
                runners[variant].run(1)
                memory[variant] = tf.config.experimental.get_memory_info("GPU:0")["peak"] / 2**20
        rates = {variant: [] for variant in FLAGS.variants}
        for round_index in range(FLAGS.rounds):
            for variant, runner in runners.items():
                rates[variant].append(runner.run(FLAGS.steps))
            print(f"round {round_index + 1}: " + ", ".join(f"{v} {r[-1]:.2f}" for v, r in rates.items()), flush=True)
    if FLAGS.memory and not gpu:
        del runners
        memory = {variant: peak_memory_mb(variant) for variant in FLAGS.variants}

    device = tf.config.experimental.get_device_details(tf.config.list_physical_devices("GPU")[0]) if gpu else {}
    print(
        f"\n{FLAGS.backbone} {FLAGS.image_size} px, batch {FLAGS.batch_size}, recon {FLAGS.recon_size}, "
        f"{'mixed_bfloat16' if FLAGS.mixed_precision else 'float32'}{', XLA' if FLAGS.jit_compile else ''}, "
        f"{device.get('device_name', f'CPU ({os.cpu_count()} cores)')}; median of {FLAGS.rounds} rounds "
        f"of {FLAGS.steps} steps"
    )
    base = statistics.median(rates["ce"]) if "ce" in rates else None
    print(f"{'variant':<15}{'images/s':>10}{'× CE':>8}{'peak MB':>10}")
    for variant, values in rates.items():
        rate = statistics.median(values)
        ratio = f"{rate / base:.3f}" if base else "-"
        peak = f"{memory[variant]:.0f}" if memory.get(variant) else "-"
        print(f"{variant:<15}{rate:>10.2f}{ratio:>8}{peak:>10}")


if __name__ == "__main__":
    app.run(main)
