"""AVA, AADB and custom readers on generated data in the exact real layouts, bad files included."""

import csv
import io
import logging
import os

import numpy as np
import pytest
from PIL import Image

from pear_tf.attributes import ATTRIBUTE_NAMES
from pear_tf.data import aadb, ava, custom, pipeline, synthetic
from pear_tf.data.images import SkipLog
from pear_tf.data.layout import DataLayoutError

SIZES = (6, 3, 3)
RENDER = 24


@pytest.fixture(scope="module")
def aadb_dir(tmp_path_factory):
    return synthetic.write_aadb_layout(str(tmp_path_factory.mktemp("aadb")), SIZES, RENDER)


@pytest.fixture(scope="module")
def ava_dir(tmp_path_factory):
    return synthetic.write_ava_layout(str(tmp_path_factory.mktemp("ava")), SIZES, RENDER)


def test_aadb_reader_counts_splits_votes_and_attributes(aadb_dir):
    (train, validation, test), dropped = aadb.read_aadb(aadb_dir)
    assert [len(s["path"]) for s in (train, validation, test)] == list(SIZES) and dropped == []
    truth = {
        aadb.url_to_name(synthetic.aadb_image_url(i)): synthetic.example(i, "aadb", RENDER) for i in range(sum(SIZES))
    }
    for split in (train, validation, test):
        for name, distribution, attributes in zip(split["id"], split["distribution"], split["attributes"]):
            votes = truth[name]["votes"]
            np.testing.assert_allclose(distribution, votes / votes.sum(), atol=1e-6)
            np.testing.assert_allclose(attributes, truth[name]["attributes"], atol=1e-5)
        assert (split["attribute_mask"] == 1).all()
        assert all(os.path.exists(p) for p in split["path"])
    # The official score files, on the 0..5 bins: what AADB's SRCC and PLCC are measured against.
    for name, split in zip(aadb.SPLITS, (train, validation, test)):
        official = aadb.read_list(os.path.join(aadb_dir, aadb.list_file(name, "score")))
        np.testing.assert_allclose(split["score"], [5.0 * official[n] for n in split["id"]], rtol=1e-6)


def test_aadb_url_names_follow_the_real_convention():
    assert aadb.url_to_name("http://farm1.staticflickr.com/255/1945_8ee7_b.jpg") == "farm1_255_1945_8ee7_b.jpg"
    assert aadb.url_to_name("not a url") is None


def test_aadb_without_votes_csv_falls_back_to_the_score_and_says_so(aadb_dir, tmp_path, caplog):
    copy = tmp_path / "aadb"  # the same data set without AADB_AllinAll.csv
    copy.mkdir()
    for folder in ("datasetImages_originalSize", "imgListFiles_label"):
        os.symlink(os.path.join(aadb_dir, folder), copy / folder, target_is_directory=True)
    with caplog.at_level(logging.WARNING):
        (train, _, _), _ = aadb.read_aadb(str(copy))
    assert "AADB_AllinAll.csv not found" in caplog.text
    scores = aadb.read_list(os.path.join(aadb_dir, aadb.list_file("Train", "score")))
    means = train["distribution"] @ np.arange(6)
    np.testing.assert_allclose(means, [5 * scores[n] for n in train["id"]], atol=1e-5)
    assert ((train["distribution"] > 0).sum(1) <= 2).all()


def test_ava_reader_uses_the_official_test_list_and_a_seeded_validation_slice(ava_dir):
    (train, validation, test), dropped = ava.read_ava(ava_dir, validation_fraction=1 / 3, seed=0)
    assert (len(train["path"]), len(validation["path"]), len(test["path"])) == (6, 3, 3) and dropped == []
    assert set(test["id"]) == {str(100000 + i) for i in range(9, 12)}
    assert not set(train["id"]) & set(validation["id"])
    again = ava.read_ava(ava_dir, validation_fraction=1 / 3, seed=0)[0][1]
    np.testing.assert_array_equal(validation["id"], again["id"])
    votes = synthetic.example(int(test["id"][0]) - 100000, "ava", RENDER)["votes"]
    np.testing.assert_allclose(test["distribution"][0], votes / votes.sum(), atol=1e-6)
    assert (train["attribute_mask"] == 0).all()


def test_wrong_data_dir_names_every_missing_item_and_where_to_get_it(tmp_path):
    (tmp_path / "AVA.txt").write_text("")
    with pytest.raises(DataLayoutError) as error:
        ava.read_ava(str(tmp_path))
    message = str(error.value)
    assert "images" in message and "generic_test.jpgl" in message and "AVA.txt\n" not in message
    assert "obtained" in message
    with pytest.raises(DataLayoutError, match="imgListTrainRegression_BalacingElements.txt"):
        aadb.read_aadb(str(tmp_path))
    with pytest.raises(DataLayoutError, match="not a folder"):
        aadb.read_aadb(str(tmp_path / "nowhere"))


def _write_png(path, array):
    Image.fromarray(array).save(path, format="PNG")


def test_custom_csv_with_scores_votes_attributes_and_splits(tmp_path):
    rng = np.random.default_rng(0)
    for i in range(4):
        _write_png(tmp_path / f"p{i}.png", rng.integers(0, 255, (20, 20, 3), dtype=np.uint8))
    with open(tmp_path / "ratings.csv", "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["path", "score", "Light", "split"])
        writer.writerows([["p0.png", 4.5, 0.9, "train"], ["p1.png", 2, "", "train"],
                          ["p2.png", 3, 0.1, "validation"], ["p3.png", 5, "", "test"]])  # fmt: skip
    (train, validation, test), dropped, scale = custom.read_custom(str(tmp_path), bins=(1, 2, 3, 4, 5))
    assert scale.bin_values == (1.0, 2.0, 3.0, 4.0, 5.0) and scale.threshold == 3.0
    assert [len(s["path"]) for s in (train, validation, test)] == [2, 1, 1]
    np.testing.assert_allclose(train["distribution"] @ np.arange(1, 6), [4.5, 2.0])
    light = ATTRIBUTE_NAMES.index("Light")
    np.testing.assert_array_equal(train["attribute_mask"][:, light], [1, 0])
    assert train["attribute_mask"][:, ATTRIBUTE_NAMES.index("DoF")].sum() == 0
    assert train["attributes"][0, light] == pytest.approx(0.9)

    with open(tmp_path / "votes.csv", "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["path", "votes_1", "votes_2", "votes_3"])
        writer.writerows([[f"p{i}.png", i, 1, 0] for i in range(4)] + [["p0.png", 0, 0, 0]])
    splits, dropped, scale = custom.read_custom(str(tmp_path / "votes.csv"))
    assert scale.bin_values == (1.0, 2.0, 3.0)
    assert sum(len(s["path"]) for s in splits) == 4 and len(dropped) == 1


# What the skip log must say for each kind of broken file.
BROKEN = {
    "missing": "missing",
    "zero_byte": "empty file",
    "truncated": "not decodable",
    "not_an_image": "unknown image format",
    "huge": "over the limit",
}


def _bad_files(image_dir, names):
    """Replaces AADB images with every kind of bad or unusual file; returns {name: kind}."""
    rng = np.random.default_rng(1)
    pixels = rng.integers(0, 255, (30, 40, 3), dtype=np.uint8)

    def encoded(image, fmt, **kwargs):
        buffer = io.BytesIO()
        image.save(buffer, format=fmt, **kwargs)
        return buffer.getvalue()

    jpeg = encoded(Image.fromarray(pixels), "JPEG")
    contents = {
        "missing": None,
        "zero_byte": b"",
        "truncated": jpeg[: len(jpeg) // 3],
        "not_an_image": b"<html>404 not found</html>",
        "huge": encoded(Image.fromarray(np.zeros((300, 300, 3), np.uint8)), "PNG"),  # over the test's pixel limit
        "png_named_jpg": encoded(Image.fromarray(pixels), "PNG"),
        "grayscale": encoded(Image.fromarray(pixels[..., 0]), "JPEG"),
        "cmyk": encoded(Image.fromarray(pixels).convert("CMYK"), "JPEG"),
        "sixteen_bit": encoded(Image.fromarray(pixels[..., 0].astype(np.uint16) * 257), "PNG"),
    }
    for name, data in zip(names, contents.values()):
        path = os.path.join(image_dir, name)
        os.remove(path)
        if data is not None:
            with open(path, "wb") as f:
                f.write(data)
    return dict(zip(names, contents))


def test_bad_files_are_skipped_listed_and_unusual_ones_decoded(tmp_path):
    data_dir = synthetic.write_aadb_layout(str(tmp_path / "aadb"), (12, 1, 1), RENDER)
    (train, _, _), _ = aadb.read_aadb(data_dir)
    kinds = _bad_files(os.path.join(data_dir, "datasetImages_originalSize"), list(train["id"][:9]))
    skip_log = SkipLog()
    ds = pipeline.make_dataset(train, 16, 4, skip_log=skip_log, max_pixels=200 * 200)
    batches = list(ds)
    # The PNG named .jpg, the grayscale, CMYK and 16-bit files decode; the broken ones are skipped.
    assert sum(len(b["image"]) for b in batches) == 12 - len(BROKEN)
    reasons = {os.path.basename(path): reason for path, reason in skip_log.items()}
    assert {kinds[name] for name in reasons} == set(BROKEN)
    for name, reason in reasons.items():
        assert BROKEN[kinds[name]] in reason, (kinds[name], reason)
    assert skip_log.write(str(tmp_path / "skipped.txt")) == len(BROKEN)


def test_cmyk_jpeg_decodes_to_the_right_colours(tmp_path):
    pixels = np.full((16, 16, 3), (200, 40, 90), np.uint8)
    path = str(tmp_path / "cmyk.jpg")
    Image.fromarray(pixels).convert("CMYK").save(path, format="JPEG", quality=100)
    from pear_tf.data.images import read_image

    decoded = read_image(path, SkipLog())
    reference = np.asarray(Image.open(path).convert("RGB"), np.float32)
    assert np.abs(decoded.astype(np.float32) - reference).mean() < 4.0


def test_tf_decoder_is_the_one_used_for_training(tmp_path):
    from pear_tf.data.images import read_image
    from pear_tf.data.decode import decode_image

    path = str(tmp_path / "a.jpg")
    Image.fromarray(np.random.default_rng(2).integers(0, 255, (20, 20, 3), dtype=np.uint8)).save(path)
    with open(path, "rb") as f:
        np.testing.assert_array_equal(read_image(path, SkipLog()), decode_image(f.read()).numpy())
