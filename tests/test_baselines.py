"""The Table 1 baselines: their losses against numpy, and a baseline model that trains and exports."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from pear_tf import losses, metrics
from pear_tf.model import DistributionBaseline, build_rating_model
from tests.conftest import TINY, make_batch


def test_nima_loss_is_the_emd_r2_metric_per_example():
    rng = np.random.default_rng(0)
    target = rng.dirichlet(np.ones(10), size=5).astype(np.float32)
    logits = rng.normal(size=(5, 10)).astype(np.float32)
    predicted = tf.nn.softmax(logits).numpy()
    got = losses.emd_loss(tf.constant(target), tf.constant(logits), r=2).numpy()
    np.testing.assert_allclose(got, metrics.emd(target, predicted, r=2), rtol=1e-4)
    # A one-bin shift of a point mass over d=10 bins: one CDF step differs by 1.
    point = np.eye(10, dtype=np.float32)[[3]]
    shifted_logits = np.log(np.eye(10, dtype=np.float32)[[4]] + 1e-9)
    value = losses.emd_loss(tf.constant(point), tf.constant(shifted_logits), r=2).numpy()[0]
    assert value == pytest.approx(np.sqrt(1 / 10), rel=1e-3)


def test_uiaa_target_is_a_normalised_gaussian_with_the_raters_mean():
    bins = tuple(float(v) for v in range(1, 11))
    votes = np.zeros((2, 10), np.float32)
    votes[0, 3:7] = [1, 3, 3, 1]  # mean 5.5, std ~0.87: far from the edges
    votes[1, 5] = 1  # every vote on 6: the std floor applies
    distribution = votes / votes.sum(1, keepdims=True)
    target = losses.gaussian_target(tf.constant(distribution), bins).numpy()
    np.testing.assert_allclose(target.sum(1), 1.0, rtol=1e-6)
    assert metrics.mean_scores(target, bins)[0] == pytest.approx(5.5, abs=1e-3)
    std = np.sqrt(target[0] @ np.square(bins) - (target[0] @ bins) ** 2)
    assert std == pytest.approx(np.sqrt(0.75), rel=0.05)
    assert target[1].argmax() == 5 and target[1, 4] == pytest.approx(target[1, 6]) and target[1, 4] > 0.05


def test_unknown_baseline_loss_is_named_in_the_error():
    with pytest.raises(ValueError, match="'emd'"):
        DistributionBaseline(TINY, loss="emd")


@pytest.mark.parametrize("loss", losses.BASELINE_LOSSES)
def test_each_baseline_trains_on_the_shared_backbone(loss):
    keras.utils.set_random_seed(0)
    model = build_rating_model(TINY.__class__(**{**TINY.__dict__, "objective": loss}))
    assert isinstance(model, DistributionBaseline) and model.backbone.name == "backbone"
    model.build_all()
    model.compile(keras.optimizers.Adam(1e-3), keras.optimizers.Adam(1e-2), jit_compile=False)
    model.build_optimizers()
    assert {id(v) for v in model.backbone_variables()}.isdisjoint({id(v) for v in model.head_variables()})
    assert len(model.backbone_variables()) + len(model.head_variables()) == len(model.trainable_variables)
    batch = make_batch(8)
    # Training-mode BatchNorm: 30 steps barely move the inference statistics.
    loss = lambda: float(tf.reduce_mean(model.loss_terms(batch, training=True)["loss"]))  # noqa: E731
    before = loss()
    model.fit(tf.data.Dataset.from_tensors(batch).repeat(30), epochs=1, verbose=0)
    assert loss() < 0.9 * before
    scores = model.score(batch["image"])
    assert set(scores) == {"score", "score_std", "distribution"}
