"""The prior network: masking, no gradient through KL_z, checkpoints, caching, analysis charts."""

import dataclasses
import os

import keras
import numpy as np
import pytest
import tensorflow as tf

from pear_tf import losses, metrics
from pear_tf.evaluation import analysis
from pear_tf.training import config as train_config
from pear_tf.training import prior as prior_lib
from pear_tf.data import pipeline, splits, synthetic
from pear_tf.model import PEAR
from pear_tf.losses import masked_attribute_bce
from pear_tf.model.prior import build_prior_network
from tests.conftest import TINY, make_batch


def _pear_with_prior(finetune):
    keras.utils.set_random_seed(0)
    model = PEAR(TINY, prior_network=build_prior_network(TINY), finetune_prior=finetune, seed=0)
    model.build_all()
    return model


def test_kl_z_uses_observed_attributes_where_masked_and_the_prior_elsewhere():
    model = _pear_with_prior(finetune=False)
    batch = make_batch(4)
    mask = np.zeros((4, 11), np.float32)
    mask[:, :5] = 1.0
    batch["attribute_mask"] = tf.constant(mask)
    terms = model.loss_terms(batch, training=False, sample=False)
    prior = model.prior_network(batch["image"], training=False)
    outputs = model(batch["image"], training=False)
    expected_p = mask * batch["attributes"].numpy() + (1 - mask) * prior.numpy()
    expected = losses.bernoulli_kl(outputs["z_logits"], tf.constant(expected_p))
    np.testing.assert_allclose(terms["kl_z"], expected, rtol=1e-5)
    np.testing.assert_array_equal(terms["prior"], 0.0)


def test_kl_never_trains_the_prior_and_finetuning_uses_only_observed_attributes():
    model = _pear_with_prior(finetune=True)
    prior_vars = model.prior_network.trainable_variables
    assert prior_vars and {id(v) for v in prior_vars} <= {id(v) for v in model.backbone_variables()}
    unobserved = make_batch(4, observed=0.0)
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean(model.loss_terms(unobserved, training=True)["loss"])
    grads = tape.gradient(loss, prior_vars)
    assert all(g is None or float(tf.reduce_max(tf.abs(g))) == 0.0 for g in grads)
    observed = make_batch(4, observed=1.0)
    with tf.GradientTape() as tape:
        terms = model.loss_terms(observed, training=True)
        loss = tf.reduce_mean(terms["loss"])
    assert float(tf.reduce_min(terms["prior"])) > 0
    grads = tape.gradient(loss, prior_vars)
    assert all(g is not None and np.isfinite(g.numpy()).all() for g in grads)
    assert max(float(tf.reduce_max(tf.abs(g))) for g in grads) > 0


def test_masked_bce_ignores_unobserved_attributes():
    probs = tf.constant([[0.9, 0.2]])
    attributes = tf.constant([[1.0, 1.0]])
    np.testing.assert_allclose(
        masked_attribute_bce(attributes, tf.constant([[1.0, 0.0]]), probs), [-np.log(0.9)], rtol=1e-6
    )


@pytest.fixture(scope="module")
def prior_run(tmp_path_factory):
    run_dir = str(tmp_path_factory.mktemp("prior"))
    config = train_config.PriorConfig(
        model=TINY,
        data=splits.DataConfig(dataset="synthetic", synthetic_sizes=(32, 8, 16), seed=1),
        model_dir=run_dir,
        batch_size=8,
        epochs=1,
        learning_rate=1e-3,
        verbose=0,
    )
    result = prior_lib.train_prior(config)
    return run_dir, result


def test_train_prior_reports_per_attribute_metrics(prior_run):
    run_dir, result = prior_run
    assert set(result["per_attribute"]) == set(synthetic.ATTRIBUTE_NAMES)
    assert all(v["count"] == 16 for v in result["per_attribute"].values())
    assert os.path.exists(os.path.join(run_dir, "prior_metrics.json"))


def test_prior_checkpoint_round_trip_by_run_dir_and_by_path(prior_run):
    run_dir, _ = prior_run
    images = make_batch(3)["image"]
    by_dir, config = prior_lib.load_prior(run_dir, image_size=32)
    path = tf.train.latest_checkpoint(os.path.join(run_dir, "checkpoints"))
    by_path, _ = prior_lib.load_prior(path)
    fresh = build_prior_network(TINY)
    np.testing.assert_allclose(by_dir(images), by_path(images), rtol=1e-6)
    assert not np.allclose(by_dir(images), fresh(images))
    assert config.backbone == "tiny"
    with pytest.raises(ValueError, match="same --image_size"):
        prior_lib.load_prior(run_dir, image_size=64)
    with pytest.raises(FileNotFoundError, match="neither a prior run"):
        prior_lib.load_prior(os.path.join(run_dir, "nope"))


def test_cached_prior_outputs_line_up_with_examples_even_when_images_are_skipped(prior_run, tmp_path):
    run_dir, _ = prior_run
    network, _ = prior_lib.load_prior(run_dir)
    data_dir = synthetic.write_aadb_layout(str(tmp_path / "aadb"), (6, 1, 1), 37)
    from pear_tf.data import aadb

    (train, _, _), _ = aadb.read_aadb(data_dir)
    os.remove(train["path"][1])
    cached = prior_lib.cache_prior_outputs(network, train, 32, 4)["prior"]
    np.testing.assert_array_equal(cached[1], 0.5)
    single = {key: values[[3]] for key, values in train.items()}
    image = next(iter(pipeline.make_dataset(single, 32, 1)))["image"]
    np.testing.assert_allclose(cached[3], network(image, training=False)[0], rtol=1e-5)


def test_attribute_correlation_difference_against_a_hand_worked_example():
    # One attribute and the score over three images: [a, score] correlation matrices.
    true_attributes, true_scores = np.array([[1.0], [2.0], [3.0]]), np.array([1.0, 2.0, 3.0])  # corr +1
    predicted_attributes, predicted_scores = np.array([[3.0], [2.0], [1.0]]), np.array([1.0, 2.0, 3.0])  # corr −1
    difference, predicted, true = metrics.attribute_correlation_difference(
        predicted_attributes, predicted_scores, true_attributes, true_scores
    )
    np.testing.assert_allclose(true, [[1, 1], [1, 1]])
    np.testing.assert_allclose(predicted, [[1, -1], [-1, 1]])
    assert difference == pytest.approx(1.0)  # |Δ| = 0, 2, 2, 0 → mean 1


def test_attribute_agreement_counts_only_observed_examples():
    predicted = np.array([[0.9], [0.2], [0.7], [0.1]])
    true = np.array([[1.0], [0.0], [0.0], [0.3]])
    mask = np.array([[1.0], [1.0], [1.0], [0.0]])
    result = metrics.attribute_agreement(predicted, true, mask, ["Light"])["per_attribute"]["Light"]
    assert result["count"] == 3 and result["accuracy"] == pytest.approx(2 / 3)


def test_charts_and_projector_are_written_and_not_empty(tmp_path):
    rng = np.random.default_rng(0)
    matrix = np.corrcoef(rng.normal(size=(12, 30)))
    paths = [
        analysis.plot_correlation_matrices(matrix, matrix.T * 0.5, str(tmp_path / "corr.png")),
        analysis.plot_attribute_bars(rng.uniform(size=11), 3.2, str(tmp_path / "bars.png"), "x.jpg"),
        analysis.plot_tsne(rng.normal(size=(40, 5)), rng.uniform(size=40) > 0.5, str(tmp_path / "tsne.png")),
    ]
    for path in paths:
        assert os.path.getsize(path) > 5000
    analysis.write_projector(str(tmp_path / "projector"), rng.normal(size=(10, 4)), [True, False] * 5)
    assert os.path.exists(tmp_path / "projector" / "projector_config.pbtxt")
    with open(tmp_path / "projector" / "metadata.tsv") as f:
        # One column: N lines for N points, no header (TensorBoard reads one only with 2+ columns).
        assert f.read().splitlines() == ["high", "low"] * 5


def test_pear_trains_with_a_frozen_cached_prior(prior_run, tmp_path, capsys):
    from pear_tf.training import run as train_lib

    run_dir, _ = prior_run
    config = train_config.TrainConfig(
        model=TINY,
        data=splits.DataConfig(dataset="synthetic", synthetic_flavour="ava", synthetic_sizes=(16, 8, 12)),
        model_dir=str(tmp_path / "pear"),
        export_dir=None,
        batch_size=8,
        epochs=1,
        prior_checkpoint=run_dir,
        verbose=0,
    )
    result = train_lib.train_and_evaluate(dataclasses.replace(config))
    # AVA-like data has no attributes: the prior stays frozen and its outputs are computed once per image.
    assert "Prior network: frozen; its outputs are cached per image." in capsys.readouterr().out
    assert "attribute_srcc_mean" in result["metrics"] and "attribute_corr_diff" in result["metrics"]
    for name in ("attribute_correlation.png", "content_tsne.png", "eval_metrics.json"):
        assert os.path.getsize(tmp_path / "pear" / name) > 0
