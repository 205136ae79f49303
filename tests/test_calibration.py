"""Calibration (issue 27): the monotone map, the uncertainty choice, the feature density, and their graph ops."""

import numpy as np
import pytest
import tensorflow as tf

from pear_tf.calibration import density as density_lib
from pear_tf.calibration import graph, monotone, record
from pear_tf.calibration import uncertainty as uncertainty_lib

BINS = tuple(float(v) for v in range(1, 11))


def test_pava_matches_scikit_learn_isotonic_regression():
    from sklearn.isotonic import IsotonicRegression

    rng = np.random.default_rng(0)
    values, weights = rng.normal(size=200).cumsum() * 0.1 + rng.normal(size=200), rng.uniform(0.5, 2, 200)
    means, _, sizes = monotone.pava(values, weights)
    fitted = np.repeat(means, sizes)
    expected = IsotonicRegression().fit(np.arange(200), values, sample_weight=weights).predict(np.arange(200))
    np.testing.assert_allclose(fitted, expected, atol=1e-10)
    assert np.all(np.diff(means) > 0)


def test_the_isotonic_map_restores_a_squeezed_scale_and_keeps_the_ranking():
    rng = np.random.default_rng(1)
    truth = rng.normal(5.5, 1.2, 400).clip(1, 10)
    squeezed = 5.4 + 0.03 * (truth - 5.5) + rng.normal(0, 0.02, 400)  # the demo model's span, 0.026 ratio
    score_map = monotone.fit_isotonic(squeezed, truth, BINS)
    calibrated = score_map(squeezed)
    assert np.std(calibrated) / np.std(truth) > 0.8 and np.std(squeezed) / np.std(truth) < 0.05
    assert np.mean(np.abs(calibrated - truth)) < 0.8 * np.mean(np.abs(squeezed - truth))
    # Strictly increasing everywhere the score can be: the ranking is the score's, ties only where scores tie.
    grid = np.linspace(1, 10, 5001)
    assert np.all(np.diff(score_map(grid)) > 0)
    order = np.argsort(squeezed)
    assert np.all(np.diff(calibrated[order]) > 0)
    # Equal scores are pooled, whatever their order.
    tied = monotone.fit_isotonic([5.0, 5.0, 6.0], [3.0, 7.0, 8.0], BINS)
    assert tied(5.0) == pytest.approx(5.0) and tied(6.0) == pytest.approx(8.0)


def test_a_model_that_ranks_nothing_gets_a_nearly_flat_map_at_the_mean():
    rng = np.random.default_rng(2)
    truth = rng.normal(5, 1, 300)
    score_map = monotone.fit_isotonic(-truth, truth, BINS)  # anti-correlated: one block
    assert abs(score_map(-5.0) - truth.mean()) < 0.1
    assert np.ptp(score_map(np.linspace(1, 10, 50))) < 0.05


@pytest.mark.parametrize("seed", [0, 1])
def test_graph_map_equals_numpy_inside_and_beyond_the_knots(seed):
    rng = np.random.default_rng(seed)
    score_map = monotone.fit_isotonic(rng.uniform(4, 6, 100), rng.uniform(1, 10, 100), BINS)
    values = np.concatenate([rng.uniform(0, 11, 500), score_map.knots_x])
    mapped = graph.piecewise_linear(tf.constant(values, tf.float32), score_map.knots_x, score_map.knots_y)
    np.testing.assert_allclose(mapped.numpy(), score_map(values), atol=2e-4)


def test_choose_takes_the_candidate_that_predicts_the_error_and_covers_68_percent():
    rng = np.random.default_rng(3)
    truth = rng.normal(5, 1.5, 2000)
    informative = rng.uniform(0.1, 1.0, 2000)
    calibrated = truth + rng.normal(0, 1, 2000) * informative  # the error's scale is `informative`
    found = {"distribution": rng.uniform(0.5, 2, 2000), "latent": informative}
    choice = uncertainty_lib.choose(found, calibrated, truth)
    assert choice.source in ("latent", "combined") and choice.validation_spearman["latent"] > 0.3
    assert choice.validation_spearman["distribution"] == pytest.approx(0, abs=0.06)
    std = uncertainty_lib.apply_choice(choice, found)
    assert np.mean(np.abs(calibrated - truth) <= std) == pytest.approx(0.6827, abs=0.01)
    # Nothing positive: one spread for every photo, still covering 68 %.
    useless = {"distribution": np.abs(calibrated - truth).max() - np.abs(calibrated - truth)}
    constant = uncertainty_lib.choose(useless, calibrated, truth)
    assert constant.source == "constant"
    assert np.mean(np.abs(calibrated - truth) <= constant.factor) == pytest.approx(0.6827, abs=0.01)


def test_selective_curve_keeps_the_most_confident_first():
    truth = np.linspace(1, 10, 100)
    predicted = truth + np.linspace(0, 2, 100) * np.where(np.arange(100) % 2, 1, -1)
    curve = uncertainty_lib.selective_curve(np.linspace(0, 2, 100), predicted, truth)
    assert [point["count"] for point in curve] == list(range(10, 101, 10))
    maes = [point["mae"] for point in curve]
    assert maes == sorted(maes) and curve[0]["srcc"] > curve[-1]["srcc"]


def test_density_flags_one_percent_of_unseen_photos_and_what_is_far_away():
    rng = np.random.default_rng(4)
    mixing = rng.normal(size=(64, 64)) * np.linspace(2, 0.05, 64)  # a correlated, decaying spectrum
    train, held_out = rng.normal(size=(4000, 64)) @ mixing, rng.normal(size=(4000, 64)) @ mixing
    density = density_lib.fit_density(train)
    assert 2 <= density.components.shape[1] <= 4000 // density_lib.PHOTOS_PER_COMPONENT
    assert np.mean(density.ood_score(held_out) > 1) == pytest.approx(0.01, abs=0.006)
    assert np.mean(density.ood_score(train) > 1) <= 0.011
    far = held_out[:100] + rng.normal(0, 1, (100, 64)) * train.std(axis=0)  # off the data's correlations
    assert np.mean(density.ood_score(far) > 1) > 0.95
    features = tf.constant(held_out[:50], tf.float32)
    np.testing.assert_allclose(graph.ood_score(features, density).numpy(), density.ood_score(held_out[:50]),
                               rtol=1e-3)  # fmt: skip


def test_a_texture_density_of_the_spreads_logs_finds_a_textureless_frame_and_keeps_one_percent():
    """A frame with no texture has spatial stds of 0: within a raw Gaussian's reach, far below on the log scale."""
    rng = np.random.default_rng(7)
    means = rng.normal(size=(3000, 8))
    stds = np.exp(rng.normal(0.0, 0.5, (3000, 8)))  # positive, skewed: scale statistics
    train = np.concatenate([means, stds], axis=1)
    logged = np.repeat([False, True], 8)
    frame = np.concatenate([rng.normal(size=(20, 8)), np.zeros((20, 8))], axis=1)
    noisy = np.concatenate([rng.normal(size=(20, 8)), 30 * np.exp(rng.normal(0.0, 0.5, (20, 8)))], axis=1)
    held_out = np.concatenate([rng.normal(size=(3000, 8)), np.exp(rng.normal(0.0, 0.5, (3000, 8)))], axis=1)
    raw, both = density_lib.fit_density(train), density_lib.fit_density(train, logged=logged)
    assert np.all(raw.ood_score(frame) < 1.0)  # the raw Gaussian's lower tail reaches 0: photo-like
    assert np.all(both.ood_score(frame) > 10.0) and np.all(both.ood_score(noisy) > 10.0)
    assert np.mean(both.ood_score(held_out) > 1) == pytest.approx(0.01, abs=0.006)  # the two together: 1 %
    assert np.mean(both.texture.ood_score(held_out) > 1) < np.mean(both.ood_score(held_out) > 1)
    np.testing.assert_allclose(both.texture.log_offset[logged], 1e-2 * np.median(stds, axis=0))
    assert np.all(both.texture.log_offset[~logged] == 0) and both.log_offset is None
    assert both.texture.components.shape[0] == 8  # the texture density sees the 8 logged stds only
    inputs = np.concatenate([held_out[:30], frame[:5]]).astype(np.float32)
    np.testing.assert_allclose(graph.ood_score(tf.constant(inputs), both).numpy(), both.ood_score(inputs), rtol=1e-3)
    again = density_lib.FeatureDensity.from_dict(both.to_dict())
    np.testing.assert_allclose(again.ood_score(inputs), both.ood_score(inputs))
    older = {k: v for k, v in both.to_dict().items() if k != "texture"}  # a calibration.json from before
    assert density_lib.FeatureDensity.from_dict(older).texture is None


@pytest.mark.parametrize("source", ["latent", "distribution", "combined", "constant"])
def test_score_std_in_the_graph_is_the_numpy_formula(source):
    rng = np.random.default_rng(5)
    distribution = rng.dirichlet(np.ones(10), 30).astype(np.float32)
    samples = (5 + rng.normal(0, 0.2, (30, 16))).astype(np.float32)
    score_map = monotone.fit_isotonic(rng.uniform(4, 6, 50), rng.uniform(1, 10, 50), BINS)
    choice = uncertainty_lib.UncertaintyChoice(source, 0.7, latent_scale=0.3, distribution_scale=2.0)
    calibration = record.ScoreCalibration(score_map, choice)
    outputs = {"score": tf.constant(distribution @ np.array(BINS, np.float32)), "distribution": tf.constant(distribution),
               "score_samples": tf.constant(samples)}  # fmt: skip
    in_graph = graph.score_std(outputs, calibration, BINS).numpy()
    expected = graph.numpy_score_std(calibration, distribution, BINS, samples)
    np.testing.assert_allclose(in_graph, expected, rtol=1e-4, atol=1e-5)
    assert (np.ptp(in_graph) > 0) == (source != "constant")


def test_a_calibration_survives_its_json_and_is_ignored_for_another_checkpoint(tmp_path):
    rng = np.random.default_rng(6)
    calibration = record.ScoreCalibration(
        monotone.fit_isotonic(rng.uniform(4, 6, 50), rng.uniform(1, 10, 50), BINS),
        uncertainty_lib.UncertaintyChoice("distribution", 1.3, validation_spearman={"distribution": 0.4}),
        density_lib.fit_density(rng.normal(size=(200, 8))),
        {"checkpoint": str(tmp_path / "run" / "checkpoints" / "ckpt-7")},
    )
    record.save(calibration, str(tmp_path))
    again = record.load(str(tmp_path), "/elsewhere/run/checkpoints/ckpt-7")  # the same checkpoint, another path
    assert again.uncertainty == calibration.uncertainty and again.score_map == calibration.score_map
    np.testing.assert_allclose(again.density.components, calibration.density.components)
    assert record.load(str(tmp_path), "/elsewhere/run/checkpoints/ckpt-8") is None
    assert record.load(str(tmp_path / "nothing")) is None


@pytest.mark.parametrize("make", ["other", "independent", "blind", "fifth"])
def test_the_later_not_photo_sets_are_fixed_rgb_images(make):
    """benchmarks/calibration.py's held-out not-photos: the same pixels on every call, uint8 RGB of varied sizes."""
    from tests.blind_not_photos import blind_not_photos
    from tests.fifth_not_photos import fifth_not_photos
    from tests.independent_not_photos import independent_not_photos
    from tests.other_not_photos import other_not_photos

    draw = {"other": other_not_photos, "independent": independent_not_photos, "blind": blind_not_photos,
            "fifth": fifth_not_photos}[make]  # fmt: skip
    first, again = draw(2), draw(2)
    assert len(first) >= 6 and all(len(images) == 2 for images in first.values())
    for kind, images in first.items():
        for image, same in zip(images, again[kind]):
            assert image.dtype == np.uint8 and image.ndim == 3 and image.shape[2] == 3, kind
            assert image.std() > 5, kind  # not a flat frame: those are the first set's
            np.testing.assert_array_equal(image, same)
    assert len({image.shape for images in first.values() for image in images}) > 3
