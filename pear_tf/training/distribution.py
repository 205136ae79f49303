"""tf.distribute strategies and dtype policies for training: what ``--strategy`` and
``--mixed_precision`` select, and which worker writes.
"""

import contextlib
import os
import shutil

import keras
import tensorflow as tf

from pear_tf import errors

STRATEGIES = ("auto", "one_device", "mirrored", "multi_worker", "tpu")


def make_strategy(name):
    """The tf.distribute strategy for ``--strategy``.

    auto: MirroredStrategy over the GPUs when there are several, else the default
    strategy; multi_worker: MultiWorkerMirroredStrategy from TF_CONFIG; tpu: a TPU
    found by TPUClusterResolver. Create it before any other TensorFlow work (the
    multi-worker collectives are configured at start-up).
    """
    if name == "multi_worker":
        return tf.distribute.MultiWorkerMirroredStrategy()
    if name == "tpu":
        resolver = tf.distribute.cluster_resolver.TPUClusterResolver()
        tf.config.experimental_connect_to_cluster(resolver)
        tf.tpu.experimental.initialize_tpu_system(resolver)
        return tf.distribute.TPUStrategy(resolver)
    gpus = tf.config.list_logical_devices("GPU")
    if name == "mirrored" or (name == "auto" and len(gpus) > 1):
        return tf.distribute.MirroredStrategy()
    if name == "one_device":
        return tf.distribute.OneDeviceStrategy("/gpu:0" if gpus else "/cpu:0")
    if name == "auto":
        return tf.distribute.get_strategy()
    raise errors.BadValue(f"--strategy={name!r} is not one of {STRATEGIES}.")


def precision_policy(mixed_precision):
    """``mixed_bfloat16`` with --mixed_precision, else ``float32``.

    bfloat16 keeps float32's range, so no loss scaling is needed: with float16, PEAR's two
    optimizers would each need their own loss scale for one loss.
    """
    return "mixed_bfloat16" if mixed_precision else "float32"


@contextlib.contextmanager
def global_policy(name):
    """Sets Keras' global dtype policy for the block (models built inside take it)."""
    previous = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy(name)
    try:
        yield
    finally:
        keras.mixed_precision.set_global_policy(previous)


def is_chief(strategy):
    """True on the worker that writes checkpoints, logs and exports (always, on one machine)."""
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not resolver.task_type:
        return True
    if resolver.task_type == "chief":
        return True
    has_chief = "chief" in resolver.cluster_spec().as_dict()
    return resolver.task_type == "worker" and resolver.task_id == 0 and not has_chief


class Worker:
    """This process's part in a run: whether it is the chief and where it writes.

    The chief writes into the run folder. Another worker of a multi-worker run writes
    into ``<model_dir>/.worker_<i>`` (saving reads distributed variables collectively,
    so every worker saves), which is deleted when the block ends.
    """

    def __init__(self, strategy, model_dir):
        self.chief = is_chief(strategy)
        resolver = getattr(strategy, "cluster_resolver", None)
        self.work_dir = model_dir if self.chief else os.path.join(model_dir, f".worker_{resolver.task_id}")

    def __enter__(self):
        os.makedirs(self.work_dir, exist_ok=True)
        return self

    def __exit__(self, *exc):
        if not self.chief:
            shutil.rmtree(self.work_dir, ignore_errors=True)
