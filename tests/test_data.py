"""The synthetic demo set and the shared preprocessing."""

import io

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image
from scipy import stats

from pear_tf.attributes import ATTRIBUTE_NAMES
from pear_tf.data import pipeline, synthetic
from pear_tf.data.decode import decode_image
from pear_tf.data.preprocessing import preprocess, resize_size


def test_synthetic_examples_are_deterministic_and_independent_of_set_size():
    a = synthetic.generate(6, "aadb", 40, seed=3)
    b = synthetic.generate(3, "aadb", 40, seed=3, start=3)
    np.testing.assert_array_equal(a["image"][3:], b["image"])
    np.testing.assert_array_equal(a["votes"][3:], b["votes"])
    c = synthetic.generate(3, "aadb", 40, seed=4, start=3)
    assert not np.array_equal(b["image"], c["image"])


def test_flavours_have_their_raters_bins_and_masks():
    aadb = synthetic.generate(20, "aadb", 32)
    assert aadb["votes"].shape == (20, 6) and (aadb["votes"].sum(1) == 5).all()
    assert (aadb["attribute_mask"] == 1).all()
    ava = synthetic.generate(20, "ava", 32)
    assert ava["votes"].shape == (20, 10) and (ava["votes"].sum(1) >= 80).all()
    assert (ava["attribute_mask"] == 0).all()
    np.testing.assert_allclose(ava["distribution"].sum(1), 1.0, rtol=1e-6)


def test_attributes_are_visible_and_drive_the_votes():
    data = synthetic.generate(300, "aadb", 48)
    images = data["image"].astype(np.float32) / 255
    light = data["attributes"][:, ATTRIBUTE_NAMES.index("Light")]
    vivid = data["attributes"][:, ATTRIBUTE_NAMES.index("VividColor")]
    saturation = (images.max(-1) - images.min(-1)).mean((1, 2))
    contrast_to_mid = -np.abs(images.mean((1, 2, 3)) - 0.5)  # well exposed: neither dark nor washed out
    assert stats.spearmanr(vivid, saturation)[0] > 0.5
    assert stats.spearmanr(light, contrast_to_mid)[0] > 0.3
    means = data["distribution"] @ np.arange(6)
    weights = np.array([synthetic.QUALITY_WEIGHTS[n] for n in ATTRIBUTE_NAMES])
    assert stats.spearmanr(data["attributes"] @ weights, means)[0] > 0.7


def _encoded(array, fmt, mode=None):
    buffer = io.BytesIO()
    image = Image.fromarray(array)
    (image.convert(mode) if mode else image).save(buffer, format=fmt)
    return buffer.getvalue()


@pytest.mark.parametrize("fmt,mode", [("JPEG", None), ("PNG", None), ("BMP", None), ("GIF", None), ("PNG", "L")])
def test_decode_gives_rgb_for_every_served_format(fmt, mode):
    array = np.random.default_rng(0).integers(0, 255, (20, 30, 3), dtype=np.uint8)
    image = decode_image(_encoded(array, fmt, mode))
    assert image.shape == (20, 30, 3) and image.dtype == tf.uint8


def test_eval_preprocessing_is_a_centre_crop_of_the_resize():
    image = tf.random.uniform([100, 80, 3], 0, 255, seed=1)
    out = preprocess(image, 224)
    assert out.shape == (224, 224, 3) and resize_size(224) == 256
    resized = tf.image.resize(image, [256, 256], antialias=True)
    np.testing.assert_allclose(out, tf.clip_by_value(resized, 0, 255)[16:240, 16:240], rtol=1e-5)


def test_training_pipeline_augments_deterministically():
    arrays = synthetic.generate(8, "aadb", resize_size(32))
    first = next(iter(pipeline.make_dataset(arrays, 32, 4, training=True, seed=1)))
    again = next(iter(pipeline.make_dataset(arrays, 32, 4, training=True, seed=1)))
    np.testing.assert_array_equal(first["image"], again["image"])
    assert first["image"].shape == (4, 32, 32, 3) and first["distribution"].shape == (4, 6)
    # The seed drives the order, crops and flips: another seed draws other views.
    other = next(iter(pipeline.make_dataset(arrays, 32, 4, training=True, seed=2)))
    assert not np.array_equal(first["image"], other["image"])
    evaluation = list(pipeline.make_dataset(arrays, 32, 3))
    assert [b["image"].shape[0] for b in evaluation] == [3, 3, 2]
