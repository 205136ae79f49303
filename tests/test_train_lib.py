"""Checkpoints restore the model and both optimizers exactly."""

import dataclasses

import numpy as np
import pytest
import tensorflow as tf

from pear_tf.training import config as train_config
from pear_tf.training import distribution
from pear_tf.training import run as train_lib
from tests.conftest import TINY, make_batch


def _checkpoint(model):
    return tf.train.Checkpoint(model=model, backbone_optimizer=model.backbone_optimizer, head_optimizer=model.optimizer)


def test_checkpoint_round_trip_restores_weights_and_optimizer_slots(tmp_path):
    config = dataclasses.replace(train_config.TrainConfig(), model=TINY)
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
    assert distribution.make_strategy("auto").num_replicas_in_sync == 1


def _one_loop_step(model, jit_compile=False):
    from pear_tf.training import loop

    strategy = tf.distribute.get_strategy()
    train = loop.make_train_function(model, strategy, jit_compile)
    dataset = tf.data.Dataset.from_tensors(make_batch(4)).repeat()
    logs, _ = train(iter(strategy.experimental_distribute_dataset(dataset)), tf.constant(0))
    return {key: float(value) for key, value in logs.items()}


def test_mixed_precision_computes_the_backbone_in_bfloat16_and_the_heads_in_float32():
    config = dataclasses.replace(train_config.TrainConfig(), model=TINY, mixed_precision=True)
    with distribution.global_policy(distribution.precision_policy(config.mixed_precision)):
        model = train_lib.build_model(config, TINY, tf.distribute.get_strategy())
    import keras

    assert keras.mixed_precision.global_policy().name == "float32", "the policy is restored after the block"
    outputs = model(make_batch(2)["image"], training=False, reconstruct=True)
    assert model.backbone(make_batch(2)["image"]).dtype == tf.bfloat16
    for key in ("z_logits", "mu", "log_var", "logits", "distribution", "reconstruction"):
        assert outputs[key].dtype == tf.float32, key
    assert all(v.dtype == tf.float32 for v in model.trainable_variables), "variables stay float32"
    logs = _one_loop_step(model)
    assert all(np.isfinite(value) for value in logs.values()), logs


def test_xla_compiled_step_matches_the_plain_step():
    strategy = tf.distribute.get_strategy()
    config = dataclasses.replace(train_config.TrainConfig(), model=TINY)
    plain, compiled = (train_lib.build_model(config, TINY, strategy) for _ in range(2))
    compiled.set_weights(plain.get_weights())
    for model in (plain, compiled):
        model.sample_in_training = False
    expected, got = _one_loop_step(plain), _one_loop_step(compiled, jit_compile=True)
    for key, value in expected.items():
        assert got[key] == pytest.approx(value, rel=1e-4, abs=1e-5), key
    for a, b in zip(plain.weights, compiled.weights):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-3, atol=1e-5)


def test_no_attribute_supervision_hides_the_attributes_in_training_and_validation(tmp_path):
    from pear_tf.data.splits import DataConfig

    config = dataclasses.replace(
        train_config.TrainConfig(), model=TINY, data=DataConfig(synthetic_sizes=(16, 8, 8)), batch_size=8,
        attribute_supervision=False,
    )  # fmt: skip
    data = train_lib.RunData(config, tf.distribute.get_strategy(), str(tmp_path))
    assert not data.splits.train["attribute_mask"].any() and not data.splits.validation["attribute_mask"].any()
    assert data.splits.test["attribute_mask"].all(), "the test split keeps them, for the attribute analysis"
