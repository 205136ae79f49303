"""Eq. 2's terms against analytic oracles and a Monte-Carlo estimate."""

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_probability as tfp

from pear_tf import losses

tfd = tfp.distributions


def test_gaussian_kl_matches_closed_form_and_tfp():
    rng = np.random.default_rng(0)
    mu, log_var = rng.normal(size=(3, 100)), rng.normal(scale=0.5, size=(3, 100))
    var = np.exp(log_var)
    closed_form = 0.5 * np.sum(var + mu**2 - 1.0 - log_var, axis=-1)
    ours = losses.gaussian_kl(tf.constant(mu), tf.constant(log_var)).numpy()
    np.testing.assert_allclose(ours, closed_form, rtol=1e-10)
    reference = tfd.Normal(mu, np.sqrt(var)).kl_divergence(tfd.Normal(np.float64(0), np.float64(1))).numpy().sum(-1)
    np.testing.assert_allclose(ours, reference, rtol=1e-8)
    assert losses.gaussian_kl(tf.zeros([1, 5]), tf.zeros([1, 5])).numpy() == pytest.approx([0.0])


def test_bernoulli_kl_matches_monte_carlo_estimate():
    rng = np.random.default_rng(1)
    logits = rng.normal(scale=2.0, size=(1, 11)).astype(np.float64)
    p = rng.uniform(0.05, 0.95, size=(1, 11))
    q = 1.0 / (1.0 + np.exp(-logits))
    z = rng.uniform(size=(200_000, 11)) < q
    log_ratio = np.where(z, np.log(q) - np.log(p), np.log1p(-q) - np.log1p(-p))
    monte_carlo = log_ratio.mean(0).sum()
    standard_error = np.sqrt(log_ratio.var(0).sum() / len(z))
    ours = losses.bernoulli_kl(tf.constant(logits), tf.constant(p)).numpy()[0]
    assert abs(ours - monte_carlo) < 4 * standard_error
    assert losses.bernoulli_kl(tf.constant(logits), tf.constant(q)).numpy()[0] == pytest.approx(0.0, abs=1e-12)


def test_bernoulli_kl_is_finite_for_hard_observed_attributes():
    kl = losses.bernoulli_kl(tf.constant([[3.0, -3.0]]), tf.constant([[0.0, 1.0]]))
    assert np.isfinite(kl.numpy()).all() and kl.numpy()[0] > 0


def test_cross_entropy_against_numpy():
    y = np.array([[0.1, 0.2, 0.7], [1.0, 0.0, 0.0]])
    logits = np.array([[0.5, -1.0, 2.0], [0.0, 0.0, 0.0]])
    log_softmax = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    np.testing.assert_allclose(
        losses.cross_entropy(tf.constant(y), tf.constant(logits)).numpy(), -(y * log_softmax).sum(-1)
    )


def test_prior_probabilities_take_observed_where_masked_else_prior():
    observed = tf.constant([[0.9, 0.1, 0.3]])
    mask = tf.constant([[1.0, 0.0, 1.0]])
    prior = tf.constant([[0.2, 0.6, 0.8]])
    np.testing.assert_allclose(losses.prior_probabilities(observed, mask, prior).numpy(), [[0.9, 0.6, 0.3]])
    np.testing.assert_allclose(losses.prior_probabilities(observed, mask, tf.constant(0.5)).numpy(), [[0.9, 0.5, 0.3]])


def _terms(lambda_recon, beta):
    rng = np.random.default_rng(2)
    return losses.pear_loss(
        tf.constant(np.array([[0.2, 0.8], [0.5, 0.5]])),
        tf.constant(rng.normal(size=(2, 2))),
        tf.constant(rng.uniform(size=(2, 4, 4, 3))),
        tf.constant(rng.uniform(size=(2, 4, 4, 3))),
        tf.constant(rng.normal(size=(2, 11))),
        tf.constant(rng.uniform(0.1, 0.9, size=(2, 11))),
        tf.constant(rng.normal(size=(2, 5))),
        tf.constant(rng.normal(size=(2, 5))),
        lambda_recon=lambda_recon,
        beta=beta,
    )


def test_each_weight_changes_the_total_as_eq2_says():
    base = {k: v.numpy() for k, v in _terms(0.0, 0.0).items()}
    for name in ("ce", "recon", "kl_z", "kl_s"):
        assert (base[name] > 0).all(), name
    np.testing.assert_allclose(base["loss"], base["ce"] + base["kl_z"])
    # λ weighs the reconstruction and adds to KL_z's weight (1+λ); β weighs KL_s.
    with_lambda = _terms(0.3, 0.0)["loss"].numpy()
    np.testing.assert_allclose(with_lambda - base["loss"], 0.3 * (base["recon"] + base["kl_z"]), rtol=1e-10)
    with_beta = _terms(0.0, 0.7)["loss"].numpy()
    np.testing.assert_allclose(with_beta - base["loss"], 0.7 * base["kl_s"], rtol=1e-10)
    both = _terms(0.1, 0.1)["loss"].numpy()
    np.testing.assert_allclose(both, base["ce"] + 0.1 * base["recon"] + 1.1 * base["kl_z"] + 0.1 * base["kl_s"])
