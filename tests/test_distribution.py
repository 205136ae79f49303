"""Under MirroredStrategy on two logical CPUs, one step of the training loop equals the single-device step.

The step must average the loss over the global batch: a per-replica mean would double
the summed gradient. SGD is used because Adam's first update barely depends on the
gradient's scale and would hide exactly that mistake. Latents are not sampled, since
each replica draws its own noise; BatchNorm is synchronized across replicas.
Logical devices must be set before TensorFlow starts, so the step runs in a child process.
"""

import json
import os
import subprocess
import sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _child():
    import tensorflow as tf

    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    import keras

    from pear_tf.training import loop
    from pear_tf.model import PEAR
    from tests.conftest import TINY, make_batch

    batch = make_batch(4, observed=0.5)

    def one_step(strategy, initial=None):
        with strategy.scope():
            keras.utils.set_random_seed(0)
            model = PEAR(TINY, seed=0)
            model.build_all()
            model.compile(keras.optimizers.SGD(0.5), keras.optimizers.SGD(0.5), jit_compile=False)
            model.build_optimizers()
            if initial is not None:
                model.set_weights(initial)
        model.sample_in_training = False
        before = [w.copy() for w in model.get_weights()]
        # The training loop's own step function: strategy.run on the model's train_step.
        train = loop.make_train_function(model, strategy)
        dataset = strategy.experimental_distribute_dataset(tf.data.Dataset.from_tensors(batch))
        logs, _ = train(iter(dataset), tf.constant(0))
        logs = {key: [float(value)] for key, value in logs.items()}
        return before, [w for w in model.get_weights()], logs, strategy.num_replicas_in_sync

    before, single, single_logs, _ = one_step(tf.distribute.get_strategy())
    _, mirrored, mirrored_logs, replicas = one_step(tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"]), before)
    print(
        json.dumps(
            {
                "replicas": replicas,
                "max_update": max(float(np.abs(s - b).max()) for s, b in zip(single, before)),
                "max_difference": max(float(np.abs(s - m).max()) for s, m in zip(single, mirrored)),
                "single_loss": single_logs["loss"][0],
                "mirrored_loss": mirrored_logs["loss"][0],
            }
        )
    )


def test_two_replica_step_equals_one_replica_step():
    env = {**os.environ, "PYTHONPATH": ROOT, "TF_CPP_MIN_LOG_LEVEL": "2"}
    result = subprocess.run(
        [sys.executable, os.path.abspath(__file__)], env=env, capture_output=True, text=True, timeout=600, cwd=ROOT
    )
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["replicas"] == 2
    assert report["max_update"] > 1e-3, "the step changed nothing: the comparison would be empty"
    assert report["max_difference"] < 1e-4 * max(1.0, report["max_update"]), report
    np.testing.assert_allclose(report["mirrored_loss"], report["single_loss"], rtol=1e-5)


if __name__ == "__main__":
    _child()
