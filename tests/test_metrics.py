"""DESIGN.md §3 metrics against hand-worked examples and scipy."""

import numpy as np
import pytest
from scipy import stats

from pear_tf import metrics
from pear_tf.attributes import AVA_SCALE, RatingScale


def test_emd_of_identical_distributions_is_zero():
    y = np.random.default_rng(0).dirichlet(np.ones(10), size=5)
    np.testing.assert_allclose(metrics.emd(y, y, r=1), 0.0)
    np.testing.assert_allclose(metrics.emd(y, y, r=2), 0.0)


def test_emd_of_a_one_bin_shift_of_a_point_mass():
    d = 10
    y, y_hat = np.eye(d)[[3]], np.eye(d)[[4]]
    # The CDFs differ by 1 in exactly one of the d bins.
    assert metrics.emd(y, y_hat, r=1)[0] == pytest.approx(1 / d)
    assert metrics.emd(y, y_hat, r=2)[0] == pytest.approx(np.sqrt(1 / d))
    # A three-bin shift: r=1 gives 3/d, r=2 gives sqrt(3/d).
    assert metrics.emd(np.eye(d)[[2]], np.eye(d)[[5]], r=2)[0] == pytest.approx(np.sqrt(3 / d))


def test_emd_is_per_image_then_averaged():
    y = np.eye(4)[[0, 3, 1]]
    y_hat = np.eye(4)[[3, 0, 1]]
    reported = metrics.aesthetic_metrics(y, y_hat, RatingScale("four", (0.0, 1.0, 2.0, 3.0), 1.5))["emd_r2"]
    # Two images three bins off, one exact: the mean of sqrt(3/4), sqrt(3/4) and 0.
    assert reported == pytest.approx(2 * np.sqrt(3 / 4) / 3)
    # The batch-mean variant compares two identical batch means and reports 0.
    assert metrics.emd(y.mean(0, keepdims=True), y_hat.mean(0, keepdims=True), r=2)[0] == pytest.approx(0.0)


def test_accuracy_uses_the_threshold_on_mean_scores():
    true_means = np.array([5.5, 4.0, 6.0, 5.0])
    predicted = np.array([5.1, 4.9, 4.9, 5.0])
    # 5.0 is not "high": mean score > 5 is.
    assert metrics.binary_accuracy(true_means, predicted, 5.0) == pytest.approx(0.75)


def test_aesthetic_metrics_agree_with_scipy():
    rng = np.random.default_rng(3)
    y = rng.dirichlet(np.ones(10), size=50)
    y_hat = 0.5 * y + 0.5 * rng.dirichlet(np.ones(10), size=50)
    result = metrics.aesthetic_metrics(y, y_hat, AVA_SCALE)
    bins = np.arange(1, 11)
    assert result["srcc"] == pytest.approx(stats.spearmanr(y_hat @ bins, y @ bins)[0])
    assert result["plcc"] == pytest.approx(stats.pearsonr(y_hat @ bins, y @ bins)[0])
    assert result["accuracy"] == pytest.approx(np.mean((y @ bins > 5) == (y_hat @ bins > 5)))
    assert result["num_images"] == 50
    np.testing.assert_allclose(metrics.mean_scores(y, bins), y @ bins)


def test_srcc_and_plcc_follow_official_scores_when_given():
    rng = np.random.default_rng(3)
    predicted = rng.dirichlet(np.ones(6), size=40)
    votes = rng.dirichlet(np.ones(6), size=40)
    official = rng.uniform(0, 5, size=40)  # unrelated to the votes: which one is used shows
    scale = RatingScale("aadb", tuple(float(v) for v in range(6)), 2.5)
    means = predicted @ np.arange(6.0)
    with_scores = metrics.aesthetic_metrics(votes, predicted, scale, true_scores=official)
    assert with_scores["srcc"] == pytest.approx(stats.spearmanr(means, official)[0])
    assert with_scores["plcc"] == pytest.approx(stats.pearsonr(means, official)[0])
    without = metrics.aesthetic_metrics(votes, predicted, scale)
    assert without["srcc"] == pytest.approx(stats.spearmanr(means, votes @ np.arange(6.0))[0])
    # Accuracy and EMD stay on the vote distributions.
    assert (with_scores["accuracy"], with_scores["emd_r2"]) == (without["accuracy"], without["emd_r2"])


def test_off_diagonal_mean_leaves_out_the_diagonal():
    difference = np.array([[0.0, 0.3, 0.6], [-0.3, 0.0, 0.0], [0.6, np.nan, 0.0]])
    assert metrics.offdiagonal_mean(difference) == pytest.approx((0.3 + 0.6 + 0.3 + 0.0 + 0.6) / 5)
    full = np.abs(np.random.default_rng(0).normal(size=(12, 12)))
    np.fill_diagonal(full, 0.0)
    assert metrics.offdiagonal_mean(full) == pytest.approx(np.mean(full) * 12 / 11)
