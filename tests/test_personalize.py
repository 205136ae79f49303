"""Personalisation: the correction on the synthetic personal set with its population, the taste report, bad CSVs, the export."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image
from scipy import stats

from pear_tf.attributes import ATTRIBUTE_NAMES
from pear_tf.data import synthetic
from pear_tf.personal import protocol, ratings, taste
from pear_tf.personal.adapt import TasteModel, fit_taste
from pear_tf.personal.learn import fit_space_and_population
from pear_tf.personal.run import PersonalizeConfig, personalize
from pear_tf.personal.space import raw_features


@pytest.fixture(scope="module")
def personal_features():
    """The synthetic personal set seen through a stand-in generic model, and its population prior.

    The stand-in sees what a trained generic PEAR would, imperfectly: the crowd's quality
    plus noise as its score, each attribute compressed toward 0.5 plus noise, and a content
    latent that mixes the scene with things nobody rates (a content latent that also
    encodes the attributes splits a taste between them: the report's names blur). The population is learned
    from the 60 training workers' ratings of 800 generic images; the test workers are the
    37 × 150 images of their own. Training a CNN here would take minutes;
    pipelines/personal_check.sh runs the same protocol on trained ones.
    """
    data = synthetic.personal_set((800, 37, 150), seed=0)
    drawn = [synthetic.latents(int(i), 0) for i in data.indices]
    values, scene = np.stack([v for v, _ in drawn]), np.array([s for _, s in drawn])
    rng = np.random.default_rng(1)
    crowd = values @ np.array([synthetic.QUALITY_WEIGHTS[a] for a in ATTRIBUTE_NAMES]) + synthetic.SCENE_WEIGHT * scene
    features = {
        "score": crowd + rng.normal(0.0, 0.3, len(crowd)),
        "attributes": np.clip(0.5 + 0.6 * (values - 0.5) + rng.normal(0.0, 0.1, values.shape), 0.0, 1.0),
        "content": np.c_[scene, rng.normal(size=(len(crowd), 5))] @ rng.normal(size=(6, 16))
        + rng.normal(0.0, 0.5, (len(crowd), 16)),
    }
    raw = raw_features(features)
    who, what, votes = data.ratings
    generic = what < 800
    rated = {data.workers[w]: (what[generic & (who == w)], votes[generic & (who == w)])
             for w in range(37, len(data.workers))}  # fmt: skip
    space, population, _ = fit_space_and_population(raw[:800], raw, rated, max_components=16)
    workers = {}
    for position, worker in enumerate(data.test_workers):
        rows = who == position
        workers[worker] = ({k: v[what[rows]] for k, v in features.items()}, votes[rows])
    return workers, data.tastes, TasteModel(space=space, population=population)


def test_personalised_is_no_worse_at_10_shots_and_clearly_better_at_100(personal_features):
    workers, _, model = personal_features
    results = protocol.evaluate_workers(workers, (10, 100), trials=10, seed=0, model=model)
    at_10, at_100 = (results[k]["summary"] for k in ("10", "100"))
    assert at_10["personal"]["mean"] >= at_10["generic"]["mean"] - 0.005  # the goal
    assert at_100["personal"]["mean"] >= at_100["generic"]["mean"] + 0.05
    assert at_100["gain"]["hurt_share"] <= 0.1
    assert len(results["100"]["workers"]) == 37 and not results["100"]["too_few_images"]


def test_without_a_population_10_ratings_keep_the_generic_model(personal_features):
    workers, _, _ = personal_features
    results = protocol.evaluate_workers(workers, (10,), trials=3, seed=0)
    summary = results["10"]["summary"]
    assert summary["generic_chosen"] == 1.0 and summary["personal"] == summary["generic"]


def test_taste_report_finds_each_raters_strongest_like_and_dislike(personal_features, tmp_path):
    workers, tastes, model = personal_features
    for position, (worker, (features, votes)) in enumerate(list(workers.items())[:5]):
        summary = taste.taste_summary(fit_taste(features, votes, model), worker, "generic")
        assert summary["strongest_like"] == ATTRIBUTE_NAMES[np.argmax(tastes[position])]
        assert summary["strongest_dislike"] == ATTRIBUTE_NAMES[np.argmin(tastes[position])]
        assert "prefers" in summary["summary"] and "dislikes" in summary["summary"]
        assert summary["chosen"] == "correction" and 0 < summary["crowd_agreement"] <= 1
    json_path, png_path = taste.write_taste(summary, str(tmp_path))
    assert json.load(open(json_path))["num_ratings"] == 150 and os.path.getsize(png_path) > 10_000


def test_uncertainty_shrinks_as_k_grows(personal_features):
    workers, _, model = personal_features
    features, votes = next(iter(workers.values()))
    fits = [fit_taste({key: v[:k] for key, v in features.items()}, votes[:k], model) for k in (30, 60, 150)]
    spread = [fit.effects[1][1:].mean() for fit in fits]
    assert [fit.chosen for fit in fits] == ["correction"] * 3 and spread[0] > spread[1] > spread[2]
    with pytest.raises(ValueError, match="all 10 ratings are 3"):
        fit_taste({key: v[:10] for key, v in features.items()}, np.full(10, 3.0), model)


def _images(folder, count, seed=0):
    rng = np.random.default_rng(seed)
    os.makedirs(folder, exist_ok=True)
    for i in range(count):
        Image.fromarray(rng.integers(0, 255, (40, 44, 3), dtype=np.uint8)).save(os.path.join(folder, f"{i}.jpg"))


def test_every_bad_row_is_skipped_with_its_reason(tmp_path):
    _images(tmp_path / "photos", 4)
    (tmp_path / "photos" / "broken.jpg").write_text("not an image")
    (tmp_path / "r.csv").write_text(
        "path, score\nphotos/0.jpg,4\nphotos/missing.jpg,3\nphotos/1.jpg,great\nphotos/2.jpg,7\n"
        "photos/3.jpg,nan\nphotos/0.jpg,2\n,3\nphotos/broken.jpg,5\n"
    )
    usable, skipped = ratings.read_ratings(str(tmp_path / "r.csv"), score_range=(1, 5))
    assert [os.path.basename(p) for p, _ in usable] == ["0.jpg", "broken.jpg"]  # decoding comes later
    assert skipped == [
        (3, "photos/missing.jpg", "file not found"),
        (4, "photos/1.jpg", "score 'great' is not a number"),
        (5, "photos/2.jpg", "score '7' is out of range [1, 5]"),
        (6, "photos/3.jpg", "score 'nan' is out of range"),
        (7, "photos/0.jpg", "duplicate path (first rated on line 2)"),
        (8, "", "no path"),
    ]
    with pytest.raises(ratings.NotEnoughRatings, match=r"only 2 usable ratings \(6 rows skipped\).*at least 10"):
        ratings.require_enough(usable, skipped, 10, "r.csv")


@pytest.fixture(scope="module")
def generic_model(tmp_path_factory):
    from tests.conftest import export_tiny_pear

    base = str(tmp_path_factory.mktemp("generic") / "generic")
    export_tiny_pear(base, dataset="flickr_aes", mc_samples=4)
    return base


def test_personal_model_is_an_ordinary_saved_model_on_the_generic_scale(generic_model, tmp_path):
    _images(tmp_path / "photos", 12)
    (tmp_path / "photos" / "broken.jpg").write_text("not an image")
    rows = [f"photos/{i}.jpg,{1 + i % 5}" for i in range(12)] + ["photos/broken.jpg,2"]
    (tmp_path / "me.csv").write_text("path,score\n" + "\n".join(rows) + "\n")
    result = personalize(PersonalizeConfig(generic_model, str(tmp_path / "me.csv"), str(tmp_path / "alice")))
    assert result["num_ratings"] == 12 and result["version"].endswith("alice/1")
    assert [reason.split(":")[0] for _, _, reason in result["skipped"]] == ["unreadable image"]
    assert os.path.exists(tmp_path / "alice" / "taste.png")

    encoded = [open(tmp_path / "photos" / f"{i}.jpg", "rb").read() for i in range(3)]
    generic = tf.saved_model.load(os.path.join(generic_model, "1")).signatures["serving_default"]
    before = {k: v.numpy() for k, v in generic(image_bytes=tf.constant(encoded)).items()}
    # TF Serving's loader: same signatures, inputs and outputs.
    with tf.Graph().as_default(), tf.compat.v1.Session() as session:
        graph = tf.compat.v1.saved_model.loader.load(session, ["serve"], result["version"])
        assert set(graph.signature_def) >= {"serving_default", "predict_images"}
        signature = graph.signature_def["serving_default"]
        assert set(signature.outputs) == {"score", "score_std", "distribution", "attributes", "content"}
        fetches = {k: signature.outputs[k].name for k in signature.outputs}
        after = session.run(fetches, {signature.inputs["image_bytes"].name: encoded})
    fitted_delta = result["personal_scores"][:3] - result["generic_scores"][:3]
    np.testing.assert_allclose(after["score"] - before["score"], fitted_delta, atol=1e-4)
    np.testing.assert_allclose(after["attributes"], before["attributes"], atol=1e-6)
    np.testing.assert_allclose(after["distribution"] @ np.arange(6.0), after["score"], atol=1e-3)
    assert (after["score_std"] >= before["score_std"] - 1e-6).all()
    metadata = json.load(open(os.path.join(result["version"], "assets", "pear_metadata.json")))
    assert metadata["personalized"]["adapted_for"] == "alice" and metadata["personalized"]["num_ratings"] == 12
    assert metadata["bin_values"] == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0] and metadata["dataset"] == "flickr_aes"
    assert hasattr(tf.saved_model.load(result["version"]), "predict_images_deterministic")  # what TFLite converts


def test_a_content_taste_is_applied_in_the_graph(generic_model, tmp_path):
    import shutil

    from pear_tf.inference.saved_model import SavedModelScorer
    from pear_tf.personal import features, store
    from pear_tf.personal.population import Population
    from pear_tf.personal.space import fit_space

    shutil.copytree(os.path.join(generic_model, "1"), tmp_path / "generic" / "1")  # its own population folder
    _images(tmp_path / "photos", 40, seed=3)
    paths = [str(tmp_path / "photos" / f"{i}.jpg") for i in range(40)]
    feats, _ = features.image_features(SavedModelScorer(str(tmp_path / "generic")), paths)
    space = fit_space(raw_features(feats), components=4)
    spread = np.r_[0.05, np.full(11, 0.01), np.full(4, 0.3)]  # people differ in content, hardly in attributes
    store.save(str(tmp_path / "generic"), space, Population(np.r_[0.5, np.zeros(15)], np.diag(spread), 0.5, 40, 1.0),
               {})  # fmt: skip
    liking = space.transform(raw_features(feats))[:, 12]  # the first content component
    rows = [f"photos/{i}.jpg,{int(np.clip(np.rint(3 + 1.5 * v), 1, 5))}" for i, v in enumerate(liking)]
    (tmp_path / "me.csv").write_text("path,score\n" + "\n".join(rows) + "\n")
    result = personalize(PersonalizeConfig(str(tmp_path / "generic"), str(tmp_path / "me.csv"), str(tmp_path / "me")))
    assert result["chosen"] == "correction" and result["population"].endswith("population/1.json")
    assert stats.spearmanr(result["personal_scores"], liking)[0] > 0.8
    loaded = tf.saved_model.load(result["version"]).signatures["serving_default"]
    encoded = tf.constant([open(p, "rb").read() for p in paths[:5]])
    outputs = {k: v.numpy() for k, v in loaded(image_bytes=encoded).items()}
    np.testing.assert_allclose(outputs["score"], result["personal_scores"][:5], atol=1e-4)
    np.testing.assert_allclose(outputs["distribution"] @ np.arange(6.0), outputs["score"], atol=1e-3)
    np.testing.assert_allclose(outputs["content"], feats["content"][:5], atol=1e-5)
    summary = json.load(open(tmp_path / "me" / "taste.json"))
    assert "has tastes in content no attribute names" in summary["summary"] and summary["content"][0]["effect"] > 0


def test_command_names_the_count_when_too_few_rows_are_usable(generic_model, tmp_path):
    _images(tmp_path / "photos", 3)
    (tmp_path / "me.csv").write_text("path,score\nphotos/0.jpg,1\nphotos/1.jpg,x\nphotos/2.jpg,5\nphotos/9.jpg,3\n")
    run = subprocess.run(
        [sys.executable, "-m", "pear_tf.personalize", f"--model={generic_model}",
         f"--ratings={tmp_path / 'me.csv'}", f"--export_dir={tmp_path / 'bob'}"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert run.returncode == 2 and "Traceback" not in run.stderr  # a user error: its message, exit status 2
    assert "only 2 usable ratings (2 rows skipped)" in run.stderr and "score 'x' is not a number" in run.stderr
    assert "photos/9.jpg: file not found" in run.stderr and not os.path.exists(tmp_path / "bob")


def test_evaluate_personal_writes_the_protocol_report(generic_model, tmp_path):
    from pear_tf.personal.evaluation import ProtocolConfig, run_protocol

    data_dir = synthetic.write_flickr_aes_layout(str(tmp_path / "flickr"), sizes=(0, 2, 14), size=20)
    report = run_protocol(ProtocolConfig(generic_model, data_dir, str(tmp_path / "eval"), shots=(10,), trials=2))
    assert report["test_workers"] == 2 and report["images"] == 28 and not report["unreadable_images"]
    assert set(report["results"]["10"]["workers"]) == set(synthetic.personal_set((0, 2, 14)).test_workers)
    assert len(report["results"]["10"]["workers"]["AGXT2OHMTWBRS"]["personal_trials"]) == 2
    table = (tmp_path / "eval" / "personal_eval.md").read_text()
    assert "| personalised (this model) |" in table and "| TAPP (published) | 0.591 |" in table
    assert "| gain, mean [95% bootstrap CI] |" in table and "| users hurt (gain < −0.02) |" in table
    assert report["population"].startswith("none:") and os.path.getsize(tmp_path / "eval" / "personal_eval.png") > 10_000
    assert json.load(open(tmp_path / "eval" / "personal_eval.json"))["published"]["PAM"]["100"] == 0.553
