"""Keras's native format: PEAR (with its prior network), the prior alone and a baseline round-trip
through ``model.save("x.keras")`` + ``keras.models.load_model`` and through ``.weights.h5``."""

import dataclasses

import keras
import numpy as np
import pytest
import tensorflow as tf

from pear_tf.model import PEAR, DistributionBaseline, build_rating_model
from pear_tf.model.prior import build_prior_network
from tests.conftest import TINY, make_batch

IMAGES = np.random.default_rng(7).uniform(0, 255, (3, 32, 32, 3)).astype(np.float32)


def _build(objective, seed):
    """A built tiny model: PEAR with a fine-tuned prior network, or the baseline ``objective``."""
    keras.utils.set_random_seed(seed)
    config = dataclasses.replace(TINY, objective=objective)
    extra = dict(prior_network=build_prior_network(TINY), finetune_prior=True, seed=seed) if objective == "pear" else {}
    model = build_rating_model(config, **extra)
    model.build_all()
    return model


@pytest.fixture(scope="module", params=["pear", "nima"])
def trained(request):
    """A tiny model of each kind after two steps of fit (so both optimizers hold state)."""
    model = _build(request.param, seed=0)
    model.compile(keras.optimizers.Adam(1e-3), keras.optimizers.Adam(1e-2), jit_compile=False)
    model.build_optimizers()
    model.fit(tf.data.Dataset.from_tensors(make_batch(4)).repeat(2), epochs=1, verbose=0)
    return model


def _assert_same_scores(a, b):
    for key, value in a.score(IMAGES).items():
        np.testing.assert_array_equal(b.score(IMAGES)[key], value, err_msg=key)


def test_a_saved_keras_file_loads_with_identical_scores_and_optimizer_state(trained, tmp_path):
    trained.save(tmp_path / "model.keras")
    loaded = keras.models.load_model(tmp_path / "model.keras")
    assert type(loaded) is type(trained) and loaded.config == trained.config
    _assert_same_scores(trained, loaded)
    if isinstance(trained, PEAR):
        assert loaded.finetune_prior and loaded.lambda_recon == trained.lambda_recon and loaded.latents.seed == 0
        np.testing.assert_array_equal(loaded.prior_network(IMAGES), trained.prior_network(IMAGES))
    else:
        assert isinstance(loaded, DistributionBaseline) and loaded.loss_name == "nima"
    # Compiled with both optimizers, their steps and slots as saved: training carries on.
    for name in ("backbone_optimizer", "optimizer"):
        saved, restored = getattr(trained, name).variables, getattr(loaded, name).variables
        assert int(getattr(loaded, name).iterations) == 2 and len(saved) == len(restored)
        for a, b in zip(saved, restored):
            np.testing.assert_array_equal(b.numpy(), a.numpy(), err_msg=a.path)
    loaded.fit(tf.data.Dataset.from_tensors(make_batch(4)), epochs=1, verbose=0)
    assert int(loaded.optimizer.iterations) == 3


def test_weights_h5_loads_into_a_model_built_with_another_seed(trained, tmp_path):
    trained.save_weights(tmp_path / "model.weights.h5")
    fresh = _build(trained.config.objective, seed=1)
    assert not np.allclose(fresh.score(IMAGES)["score"], trained.score(IMAGES)["score"])
    fresh.load_weights(tmp_path / "model.weights.h5")
    _assert_same_scores(trained, fresh)


def test_the_prior_network_alone_round_trips(tmp_path):
    keras.utils.set_random_seed(0)
    prior = build_prior_network(TINY)
    prior.save(tmp_path / "prior.keras")
    loaded = keras.models.load_model(tmp_path / "prior.keras")
    assert loaded.name == "prior_network"
    np.testing.assert_array_equal(loaded(IMAGES), prior(IMAGES))
