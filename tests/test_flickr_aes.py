"""FLICKR-AES as distributed: the per-worker CSV (real header), the test workers, the generic splits, the protocol."""

import numpy as np
import pytest

from pear_tf.data import flickr_aes, sources, synthetic
from pear_tf.data.splits import DataConfig
from pear_tf.personal import protocol


@pytest.fixture(scope="module")
def layout(tmp_path_factory):
    # 12 generic images, 2 test workers with 6 images each, 20 px: the real layout in miniature.
    return synthetic.write_flickr_aes_layout(str(tmp_path_factory.mktemp("flickr")), sizes=(12, 2, 6), size=20)


def test_ratings_reader_strips_the_real_header_and_cells(tmp_path):
    path = tmp_path / "ratings.csv"
    path.write_text("worker, imagePair, score\nA1X, farm1_2_3_4_b.jpg, 4\n\nA2Y,  farm5_6_7_8_b.jpg ,1\n")
    workers, images, scores = flickr_aes.read_worker_ratings(str(path))
    assert workers.tolist() == ["A1X", "A2Y"]
    assert images.tolist() == ["farm1_2_3_4_b.jpg", "farm5_6_7_8_b.jpg"]
    assert scores.tolist() == [4.0, 1.0]


@pytest.mark.parametrize(
    "body, message",
    [("worker,image,score\n", "header"), ("worker, imagePair, score\nA1, x.jpg, 6\n", ":2: score '6'"),
     ("worker, imagePair, score\nA1, x.jpg\n", ":2: expected")],
)  # fmt: skip
def test_ratings_reader_names_a_bad_header_or_line(tmp_path, body, message):
    path = tmp_path / "ratings.csv"
    path.write_text(body)
    with pytest.raises(ValueError, match=message):
        flickr_aes.read_worker_ratings(str(path))


def test_default_test_workers_are_the_37_published_ids(tmp_path):
    ids = flickr_aes.read_test_workers()
    assert len(ids) == 37 == len(set(ids))
    assert ids[0] == "AGXT2OHMTWBRS" and ids[-1] == "A75N0N2PWNC9Q" and "A03922113RU44GENR8ATX" in ids
    with open(flickr_aes.DEFAULT_TEST_WORKERS) as f:
        assert f.readline().strip() == "ID"
    own = tmp_path / "workers.csv"
    own.write_text("ID\nA1\nA2\n")
    assert flickr_aes.read_test_workers(str(own)) == ("A1", "A2")
    own.write_text("worker\nA1\n")
    with pytest.raises(ValueError, match="header 'ID'"):
        flickr_aes.read_test_workers(str(own))


def test_generic_splits_hold_no_image_a_test_worker_rated(layout):
    with open(f"{layout}/{flickr_aes.RATINGS_FILE}") as f:
        assert f.readline() == "worker, imagePair, score\n"  # the header verbatim, spaces included
    (train, validation, test), dropped, scale = flickr_aes.read_flickr_aes(layout, 0.25, seed=0)
    workers, images, _ = flickr_aes.read_worker_ratings(f"{layout}/{flickr_aes.RATINGS_FILE}")
    tested = set(images[np.isin(workers, flickr_aes.read_test_workers())])
    assert len(tested) == 12 and set(test["id"]) == tested
    generic = set(train["id"]) | set(validation["id"])
    assert len(generic) == 12 and not generic & tested and len(validation["id"]) == 3
    assert scale.bin_values == (1.0, 2.0, 3.0, 4.0, 5.0) and dropped == []
    np.testing.assert_allclose(train["distribution"].sum(axis=1), 1.0, rtol=1e-6)
    assert (train["distribution"] * 5).round(4).tolist() == (train["distribution"] * 5).round().tolist()  # 5 votes
    assert not train["attribute_mask"].any() and train["path"][0].startswith(f"{layout}/40K/farm")
    splits = sources.load_splits(DataConfig(dataset="flickr_aes", data_dir=layout, validation_fraction=0.25), 16)
    assert len(splits.train["path"]) == 9 and splits.scale.name == "flickr_aes"


def test_test_worker_override_moves_images_between_splits(layout, tmp_path):
    own = tmp_path / "workers.csv"
    own.write_text(f"ID\n{flickr_aes.read_test_workers()[0]}\n")
    (train, validation, test), _, _ = flickr_aes.read_flickr_aes(layout, 0.0, test_workers=str(own))
    assert len(test["id"]) == 6 and len(train["id"]) == 18 and len(validation["id"]) == 0


def test_protocol_never_evaluates_on_an_adaptation_image(monkeypatch):
    for adapt, held_out in protocol.trial_splits(30, 10, 5, seed=1):
        assert len(adapt) == 10 and not set(adapt) & set(held_out) and len(set(adapt) | set(held_out)) == 30
    # The images' generic scores are their ids: record which ids each trial fits and measures on.
    fitted, measured = [], []
    real_fit, real_spearman = protocol.fit_taste, protocol._spearman
    monkeypatch.setattr(protocol, "fit_taste", lambda f, *a: fitted.append(set(f["score"])) or real_fit(f, *a))
    monkeypatch.setattr(protocol, "_spearman", lambda p, r: measured.append(set(p)) or real_spearman(p, r))
    rng = np.random.default_rng(0)
    features = {"score": np.arange(40.0), "attributes": rng.uniform(size=(40, 11))}
    result = protocol.evaluate_worker(features, rng.integers(1, 6, 40).astype(float), 10, 4, seed=0)
    generic_sets = measured[0::2]  # generic, then personal, per trial
    assert len(fitted) == 4 == len(generic_sets)
    for adapt_ids, held_ids in zip(fitted, generic_sets):
        assert len(adapt_ids) == 10 and len(held_ids) == 30 and not adapt_ids & held_ids
    assert len(result["personal_trials"]) == 4
