"""Evidence, taste space, population prior and report: analytic oracles, and people of the second generator.

The second generator (pear_tf.data.scenes) was written with other rules than the
project's synthetic set: tastes for content classes and palettes, contrarians, noise
raters. Its people are seen here through a stand-in generic model (the crowd's quality
plus noise as the score; the content latent a noisy mix of class, palette and flaws):
training a CNN in a unit test takes minutes, pipelines/personal_check.sh does that.
"""

import json
import os

import numpy as np
import pytest
from scipy import stats

from pear_tf.data import flickr_aes, scenes
from pear_tf.personal import evidence, population, report, store
from pear_tf.personal.adapt import GENERIC, TasteModel, fit_taste
from pear_tf.personal.learn import fit_space_and_population
from pear_tf.personal.space import fit_space


def test_log_evidence_is_the_gaussian_density_of_the_rating_contrasts():
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(9, 3)), rng.normal(size=9)
    mean, covariance, noise = np.array([0.3, -0.1, 0.2]), np.diag([0.5, 0.2, 0.1]) + 0.05, 0.4
    s = evidence.sufficient(x, y)
    # Oracle: the k − 1 contrasts Qᵀy (Q an orthonormal basis orthogonal to 1) are Gaussian.
    q = np.linalg.svd(np.eye(9) - 1 / 9)[0][:, :8]
    ys = (y - y.mean()) / y.std()
    cov = noise * np.eye(8) + q.T @ x @ covariance @ x.T @ q
    expected = stats.multivariate_normal(q.T @ x @ mean, cov).logpdf(q.T @ ys)
    assert evidence.log_evidence(s, mean, covariance, noise) == pytest.approx(expected, rel=1e-9)
    posterior_mean, _ = evidence.posterior(s, mean, covariance, noise)
    xc = x - x.mean(0)
    direct = np.linalg.solve(np.linalg.inv(covariance) + xc.T @ xc / noise,
                             np.linalg.inv(covariance) @ mean + xc.T @ ys / noise)  # fmt: skip
    np.testing.assert_allclose(posterior_mean, direct, rtol=1e-9)
    with pytest.raises(ValueError, match="equal ratings"):
        evidence.sufficient(x, np.full(9, 3.0))


def test_em_recovers_a_known_population_of_tastes():
    rng = np.random.default_rng(1)
    mean, spread = np.array([0.6, 0.3, -0.2, 0.0]), np.array([0.1, 0.3, 0.2, 0.05])
    workers = []
    for _ in range(150):
        theta = mean + spread * rng.normal(size=4)
        x = rng.normal(size=(60, 4))
        x, y = x - x.mean(0), x @ theta + rng.normal(0, 0.6, 60)
        y = y - y.mean()  # the model's own statistics, not standardised: the oracle is (mean, spread) itself
        workers.append(evidence.Sufficient(x.T @ x, x.T @ y, float(y @ y), 59))
    fitted = population.fit_population(workers, shrinkage=1.0)
    np.testing.assert_allclose(fitted.mean, mean, atol=0.04)
    np.testing.assert_allclose(np.sqrt(np.diag(fitted.covariance)), spread, atol=0.04)
    assert fitted.noise_var == pytest.approx(0.36, rel=0.1)


def test_space_whitens_content_and_untangles_it_from_the_generic_score():
    rng = np.random.default_rng(2)
    content = rng.normal(size=(400, 20)) @ rng.normal(size=(20, 20))
    score = content[:, 0] + rng.normal(size=400)
    raw = np.c_[score, rng.uniform(size=(400, 11)), content]
    space = fit_space(raw, components=6)
    x = space.transform(raw)
    covariance = np.cov(x, rowvar=False, bias=True)
    np.testing.assert_allclose(np.diag(covariance), 1.0, atol=1e-8)  # every feature in standard units
    np.testing.assert_allclose(covariance[0, 1:], 0.0, atol=1e-8)  # nothing else moves with the generic score
    np.testing.assert_allclose(space.covariance, covariance, atol=1e-8)
    assert space.names[0] == "generic score" and space.names[-1] == "content 6" and space.num_content == 6
    again = type(space).from_json(json.loads(json.dumps(space.to_json())))
    np.testing.assert_allclose(again.transform(raw[:5]), x[:5])
    assert space.truncate(2).transform(raw).shape == (400, 14)


def _stand_in(photos, seed):
    """Raw features of scenes photos as a stand-in generic model sees them (score, attributes, content)."""
    rng = np.random.default_rng(seed)
    drawn = [scenes.scene(i, 0) for i in photos]
    quality = (np.array([p.quality() for p in drawn]) - scenes.QUALITY_MEAN) / scenes.QUALITY_STD
    truth = np.c_[np.eye(6)[[p.content for p in drawn]], np.eye(6)[[p.palette for p in drawn]],
                  [p.flaws for p in drawn]]  # fmt: skip
    mix = np.random.default_rng(0).normal(size=(truth.shape[1], 12))
    content = truth @ mix + rng.normal(0, 0.3, (len(photos), 12))
    return np.c_[quality + rng.normal(0, 0.7, len(photos)), rng.uniform(size=(len(photos), 11)), content]


@pytest.fixture(scope="module")
def scenes_population():
    """A space and population of 40 training workers of the scenes generator, 600 generic photos."""
    ids, people, rows = scenes.ratings((600, 0, 0), seed=0, train_workers=40)
    rows = np.array(rows)
    raw = _stand_in(range(600), seed=1)
    rated = {ids[w]: (rows[rows[:, 0] == w, 1], rows[rows[:, 0] == w, 2].astype(float)) for w in range(40)}
    space, fitted, info = fit_space_and_population(raw, raw, rated, max_components=12)
    return TasteModel(space=space, population=fitted), info


def _person_ratings(person, photos, seed):
    rng = np.random.default_rng(seed)
    return np.array([person.stars(person.liking(scenes.scene(i, 0), rng)) for i in photos], float)


def _trials(model, person, trials=5, shots=100):
    """(generic SRCC, personal SRCC, fits that chose generic) over trials of 150 fresh photos."""
    generic, personal, chosen = [], [], 0
    for trial in range(trials):
        photos = np.arange(10_000 + 150 * trial, 10_150 + 150 * trial)
        raw, y = _stand_in(photos, seed=100 + trial), _person_ratings(person, photos, seed=trial)
        features = {"score": raw[:, 0], "attributes": raw[:, 1:12], "content": raw[:, 12:]}
        fit, held = np.arange(shots), np.arange(shots, len(photos))
        taste = fit_taste({k: v[fit] for k, v in features.items()}, y[fit], model)
        generic.append(stats.spearmanr(raw[held, 0], y[held])[0])
        personal.append(stats.spearmanr(taste.predict({k: v[held] for k, v in features.items()}), y[held])[0])
        chosen += taste.chosen == GENERIC
    return np.mean(generic), np.mean(personal), chosen


def test_a_noise_rater_of_the_second_generator_gets_the_generic_model(scenes_population):
    model, info = scenes_population
    assert len(info["workers"]) == 40 and info["components"] > 0  # the population uses content
    noise = scenes.Person("pure noise", 0.0, np.zeros(6), np.zeros(6), 1.0, 0.0, 1.0)
    generic, personal, chosen = _trials(model, noise, trials=10)
    assert chosen >= 9  # the evidence finds nothing to correct in 9 of 10 draws of 100 ratings
    assert abs(personal - generic) < 0.02


def test_an_enthusiast_of_the_second_generator_gains_what_no_attribute_names(scenes_population):
    model, _ = scenes_population
    # Loves portraits and sea, hates cities; loves neon, dislikes pastel: content, not attributes.
    fan = scenes.Person("enthusiast", 0.6, np.array([1.0, -1.2, 0.0, 1.2, 0.0, 0.0]),
                        np.array([0.0, 0.0, -0.8, 0.0, 0.0, 1.0]), 0.5, 0.0, 1.0)  # fmt: skip
    generic, personal, chosen = _trials(model, fan)
    assert chosen == 0 and personal > generic + 0.15


def test_report_counts_the_hurt_and_bootstraps_the_mean_gain(tmp_path):
    gains = np.linspace(-0.045, 0.155, 21)
    per_worker = {f"W{i}": {"generic": 0.4, "personal": 0.4 + g, "gain": g, "generic_chosen": 5}
                  for i, g in enumerate(gains)}  # fmt: skip
    summary = report.summarise(per_worker, trials=10)
    assert summary["gain"]["mean"] == pytest.approx(0.055)
    assert summary["gain"]["hurt_share"] == pytest.approx(3 / 21)  # −0.045, −0.035, −0.025 are below −0.02
    low, high = summary["gain"]["ci95"]
    assert low < 0.055 < high and high - low < 0.06 and summary["generic_chosen"] == 0.5
    assert report.bootstrap_interval(gains) == [low, high]  # deterministic


def test_population_is_stored_beside_the_versions_and_checked_against_its_model(tmp_path, scenes_population):
    model, _ = scenes_population
    version = tmp_path / "generic" / "3"
    version.mkdir(parents=True)
    (version / "saved_model.pb").write_bytes(b"graph")
    path = store.save(str(tmp_path / "generic"), model.space, model.population, {"note": "test"})
    assert path == str(tmp_path / "generic" / "population" / "3.json")
    assert sorted(os.listdir(version)) == ["saved_model.pb"] and os.listdir(tmp_path / "generic" / "population") == ["3.json"]
    loaded, description = store.taste_model(str(tmp_path / "generic"))
    assert description == path and loaded.space.names == model.space.names
    np.testing.assert_allclose(loaded.population.covariance, model.population.covariance)
    (version / "saved_model.pb").write_bytes(b"another graph")
    with pytest.raises(ValueError, match="fitted for another model"):
        store.taste_model(str(tmp_path / "generic"))
    assert store.taste_model(str(tmp_path / "generic"), "none")[0].population is None


def test_scenes_writes_flickr_aes_layout_deterministically(tmp_path):
    first = scenes.write_layout(str(tmp_path / "a"), sizes=(6, 2, 5), size=24, seed=3, train_workers=8)
    second = scenes.write_layout(str(tmp_path / "b"), sizes=(6, 2, 5), size=24, seed=3, train_workers=8)
    for name in (flickr_aes.RATINGS_FILE, "scenes_people.json"):
        assert open(os.path.join(first, name)).read() == open(os.path.join(second, name)).read()
    workers, images, votes = flickr_aes.read_worker_ratings(os.path.join(first, flickr_aes.RATINGS_FILE))
    assert len(images) == 16 * 5 and set(votes) <= {1.0, 2.0, 3.0, 4.0, 5.0}
    test = flickr_aes.read_test_workers()[:2]
    assert all((workers == w).sum() == 5 for w in test)
    (train, _, test_split), _, _ = flickr_aes.read_flickr_aes(first, 0.0)
    assert len(train["id"]) == 6 and len(test_split["id"]) == 10
    people = json.load(open(os.path.join(first, "scenes_people.json")))["people"]
    assert set(p["kind"] for p in people.values()) <= {"follower", "enthusiast", "contrarian", "noisy", "pure noise"}
