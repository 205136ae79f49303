"""The ``ava`` and ``aadb`` TFDS builders, built offline from dummy_data/ (manual_dir)."""

import os
import shutil

import numpy as np
import pytest

from pear_tf.data import build, pipeline
from pear_tf.data.tfds import BUILDERS, load_tfds_splits

DUMMY = os.path.join(os.path.dirname(build.__file__), "tfds", "dummy_data")


# AVA's validation is a slice of its 6 train-list images (5%, at least one); AADB lists its own.
@pytest.mark.parametrize("name,bins,splits", [("ava", 10, (5, 1, 2)), ("aadb", 6, (4, 2, 2))])
def test_builder_prepares_every_split_from_the_manual_dir(tmp_path, name, bins, splits):
    manual_dir = str(tmp_path / "manual")
    shutil.copytree(os.path.join(DUMMY, name), manual_dir)
    builder, skipped = build.build(name, manual_dir, str(tmp_path / "tfds"))
    assert skipped == 0
    counts = tuple(builder.info.splits[s].num_examples for s in ("train", "validation", "test"))
    assert counts == splits
    assert BUILDERS[name].MANUAL_DOWNLOAD_INSTRUCTIONS
    data = load_tfds_splits(name, str(tmp_path / "tfds"))
    example = next(iter(data.test))
    assert example["image"].shape[-1] == 3 and example["distribution"].shape == (bins,)
    np.testing.assert_allclose(float(np.sum(example["distribution"])), 1.0, rtol=1e-5)
    batch = next(iter(pipeline.make_dataset(data.train, 16, 2, training=True)))
    assert batch["image"].shape == (2, 16, 16, 3)


def test_builder_skips_and_lists_unreadable_images(tmp_path):
    manual_dir = str(tmp_path / "manual")
    shutil.copytree(os.path.join(DUMMY, "aadb"), manual_dir)
    image_dir = os.path.join(manual_dir, "datasetImages_originalSize")
    victim = sorted(os.listdir(image_dir))[0]
    with open(os.path.join(image_dir, victim), "wb") as f:
        f.write(b"not an image")
    builder, skipped = build.build("aadb", manual_dir, str(tmp_path / "tfds"))
    assert skipped == 1
    assert sum(s.num_examples for s in builder.info.splits.values()) == 7
    with open(tmp_path / "tfds" / "aadb" / "skipped_images.txt") as f:
        assert victim in f.read()


def test_loading_an_unbuilt_data_set_says_how_to_build_it(tmp_path):
    with pytest.raises(FileNotFoundError, match="python -m pear_tf.data.build --dataset=aadb"):
        load_tfds_splits("aadb", str(tmp_path))
