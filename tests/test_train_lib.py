"""Checkpoints restore the model and both optimizers exactly."""

import dataclasses

import numpy as np
import tensorflow as tf

from pear_tf import train_lib
from tests.conftest import TINY, make_batch


def _checkpoint(model):
    return tf.train.Checkpoint(model=model, backbone_optimizer=model.backbone_optimizer, head_optimizer=model.optimizer)


def test_checkpoint_round_trip_restores_weights_and_optimizer_slots(tmp_path):
    config = dataclasses.replace(train_lib.TrainConfig(), model=TINY)
    strategy = tf.distribute.get_strategy()
    trained = train_lib.build_model(config, TINY, strategy)
    trained.fit(tf.data.Dataset.from_tensors(make_batch(4)).repeat(3), epochs=1, verbose=0)
    path = _checkpoint(trained).save(str(tmp_path / "ckpt"))

    restored = train_lib.build_model(dataclasses.replace(config, seed=7), TINY, strategy)
    _checkpoint(restored).restore(path).assert_existing_objects_matched()
    for a, b in zip(trained.weights, restored.weights):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    for optimizer in ("backbone_optimizer", "optimizer"):
        saved, loaded = getattr(trained, optimizer).variables, getattr(restored, optimizer).variables
        assert int(getattr(restored, optimizer).iterations) == 3
        for a, b in zip(saved, loaded):
            np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_auto_strategy_is_the_default_strategy_without_gpus():
    assert train_lib.make_strategy("auto").num_replicas_in_sync == 1
