"""The resized cache (pear_tf.data.resized): built once, read by training at the same image size.

Training from it runs in tests/test_data_service.py (through the service) and in
tests/test_gpu_check.py (the build and train commands, in the dry run's demo run).
"""

import json
import os

import numpy as np
import pytest
import tensorflow as tf

from pear_tf.data import aadb, build, pipeline, resized, sources, synthetic
from pear_tf.data.preprocessing import preprocess, resize_size
from pear_tf.data.splits import DataConfig

SIZES = (48, 8, 8)


@pytest.fixture(scope="module")
def synthetic_cache(tmp_path_factory):
    """The synthetic set at 32 px (37 px cached). The build command runs in tests/test_gpu_check.py."""
    cache_dir = str(tmp_path_factory.mktemp("cache") / "synthetic_32")
    description = build.build_resized(DataConfig(synthetic_sizes=SIZES), 32, cache_dir)
    assert [len(s["shards"]) for s in description["splits"].values()] == [3, 1, 1] and description["skipped"] == 0
    return cache_dir


def test_the_cache_holds_every_image_once_with_its_labels(synthetic_cache):
    with open(os.path.join(synthetic_cache, "description.json")) as f:
        description = json.load(f)
    assert description["image_size"] == 32 and description["resized_size"] == 37
    assert {name: s["count"] for name, s in description["splits"].items()} == dict(zip(resized.SPLIT_NAMES, SIZES))
    assert description["scale"]["bin_values"] == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]

    config = DataConfig(synthetic_sizes=SIZES, data_format="resized", cache_dir=synthetic_cache)
    cached = sources.load_splits(config, 32)
    original = sources.load_synthetic("aadb", SIZES, 32, 0)
    assert cached.scale == original.scale and cached.attributes_known and cached.dropped == []
    assert pipeline.split_size(cached.train) == 48 and cached.train.element_spec["image"].shape == (37, 37, 3)
    # Validation keeps its order; train was written shuffled: the same images, each once.
    validation = list(cached.validation.as_numpy_iterator())
    np.testing.assert_array_equal(np.stack([e["image"] for e in validation]), original.validation["image"])
    np.testing.assert_allclose(np.stack([e["distribution"] for e in validation]), original.validation["distribution"])
    train = list(cached.train.as_numpy_iterator())
    key = lambda images: sorted(image.tobytes() for image in images)  # noqa: E731
    assert key(e["image"] for e in train) == key(original.train["image"])


def test_training_batches_from_the_cache_are_those_of_the_arrays(synthetic_cache):
    config = DataConfig(synthetic_sizes=SIZES, data_format="resized", cache_dir=synthetic_cache)
    cached = sources.load_splits(config, 32)
    original = sources.load_synthetic("aadb", SIZES, 32, 0)
    # Evaluation: the same pixels and labels, batch for batch.
    for ours, theirs in zip(pipeline.make_dataset(cached.test, 32, 8), pipeline.make_dataset(original.test, 32, 8)):
        assert set(ours) == set(theirs)
        for name in theirs:
            np.testing.assert_allclose(ours[name], theirs[name], rtol=1e-6, err_msg=name)
    # Training: the same kind of batches, random crops and flips, deterministic given the seed.
    first = next(iter(pipeline.make_dataset(cached.train, 32, 8, training=True, seed=3)))
    again = next(iter(pipeline.make_dataset(cached.train, 32, 8, training=True, seed=3)))
    other = next(iter(pipeline.make_dataset(original.train, 32, 8, training=True, seed=3)))
    assert {k: (v.dtype, v.shape) for k, v in first.items()} == {k: (v.dtype, v.shape) for k, v in other.items()}
    np.testing.assert_array_equal(first["image"], again["image"])


def test_a_cache_for_another_image_size_or_data_set_is_refused_by_name(synthetic_cache, tmp_path):
    config = DataConfig(synthetic_sizes=SIZES, data_format="resized", cache_dir=synthetic_cache)
    with pytest.raises(ValueError, match=r"--image_size=32; this run has --image_size=64 \(it needs 73 px\)"):
        sources.load_splits(config, 64)
    with pytest.raises(ValueError, match="holds --dataset=synthetic; this run has --dataset=aadb"):
        sources.load_splits(DataConfig(dataset="aadb", data_format="resized", cache_dir=synthetic_cache), 32)
    with pytest.raises(FileNotFoundError, match="python -m pear_tf.data.build --format=resized"):
        sources.load_splits(DataConfig(data_format="resized", cache_dir=str(tmp_path)), 32)
    with pytest.raises(ValueError, match="needs --cache_dir"):
        sources.load_splits(DataConfig(data_format="resized"), 32)


def test_aadb_files_are_resized_as_preprocess_does_and_bad_ones_listed(tmp_path):
    data_dir = synthetic.write_aadb_layout(str(tmp_path / "aadb"), (10, 3, 4), 90)
    (train, _, test), _ = aadb.read_aadb(data_dir)
    with open(train["path"][0], "wb") as f:
        f.write(b"not an image")
    os.remove(test["path"][1])
    config = DataConfig(dataset="aadb", data_dir=data_dir)
    cache_dir = str(tmp_path / "cache")
    description = build.build_resized(config, 64, cache_dir)
    assert {name: s["count"] for name, s in description["splits"].items()} == {"train": 9, "validation": 3, "test": 3}
    assert description["skipped"] == 2 and "score" in description["features"]
    with open(os.path.join(cache_dir, resized.SKIPPED_FILE)) as f:
        skipped = dict(line.rstrip("\n").split("\t") for line in f)
    assert skipped[train["path"][0]].startswith("unknown image format") and skipped[test["path"][1]] == "missing"

    cached = resized.load_resized_splits(DataConfig(dataset="aadb", data_format="resized", cache_dir=cache_dir), 64)
    assert sorted(path for path, _ in cached.dropped) == sorted(skipped)
    example = next(iter(cached.test))
    assert example["image"].shape == (resize_size(64),) * 2 + (3,) and example["image"].dtype == tf.uint8
    assert float(example["score"]) == pytest.approx(float(test["score"][0]))
    # The cached pixels are preprocess's own resize, rounded: its centre crop is the evaluation view.
    with open(test["path"][0], "rb") as f:
        view = preprocess(tf.io.decode_image(f.read(), channels=3), 64)
    np.testing.assert_allclose(preprocess(example["image"], 64), view, atol=0.5 + 1e-3)
