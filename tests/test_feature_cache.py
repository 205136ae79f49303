"""Frozen-encoder training: the feature cache's contents, the loss on it, and a run that trains on it,
unfreezes the last block, resumes exactly and logs to TensorBoard."""

import glob
import json
import os

import keras
import numpy as np
import pytest
import tensorflow as tf

from pear_tf.data import synthetic
from pear_tf.data.images import SkipLog
from pear_tf.data.decode import decode_image
from pear_tf.data.preprocessing import preprocess
from pear_tf.data.splits import DataConfig
from pear_tf.exporting.saved_model import restore_model
from pear_tf.model import PEAR
from pear_tf.model.blocks import encoder_parts
from pear_tf.model.pear import reconstruction_target
from pear_tf.training import config as train_config
from pear_tf.training import feature_cache, run
from tests.conftest import TINY

VIEWS = 3


@pytest.fixture(scope="module")
def encoded(tmp_path_factory):
    """A tiny PEAR, a split of five image files and one corrupt file, and its cache with 3 views."""
    root = tmp_path_factory.mktemp("cache")
    paths = synthetic.write_samples(str(root / "images"), 5, size=48)
    corrupt = str(root / "images" / "corrupt.jpg")
    with open(corrupt, "wb") as f:
        f.write(b"\xff\xd8 not a jpeg")
    rng = np.random.default_rng(0)
    votes = rng.integers(1, 9, (6, TINY.num_bins)).astype(np.float32)
    split = {"path": np.array(paths[:3] + [corrupt] + paths[3:]), "distribution": votes / votes.sum(1, keepdims=True),
             "attributes": rng.uniform(size=(6, 11)).astype(np.float32),
             "attribute_mask": np.ones((6, 11), np.float32)}  # fmt: skip
    keras.utils.set_random_seed(0)
    model = PEAR(TINY, seed=0)
    model.build_all()
    skip_log = SkipLog()
    cache = feature_cache.open_or_encode(model, split, str(root / "cache"), VIEWS, batch_size=4, seed=7,
                                         skip_log=skip_log)  # fmt: skip
    return model, split, cache, skip_log


def test_the_cache_holds_each_views_features_and_reconstruction_target(encoded):
    model, split, cache, skip_log = encoded
    assert cache.features.shape == (6, VIEWS, 128) and cache.targets.shape == (6, VIEWS, 16, 16, 3)
    assert list(cache.valid) == [0, 1, 2, 4, 5] and [path for path, _ in skip_log.items()] == [split["path"][3]]
    for i in cache.valid:
        image = decode_image(tf.io.read_file(split["path"][i]))
        centre = preprocess(image, TINY.image_size)
        crop_seed = tf.constant([7 * 1000 + 2, i], tf.int64)
        views = [centre, centre[:, ::-1], preprocess(image, TINY.image_size, training=True, seed=crop_seed)]
        features = model.backbone(tf.stack(views), training=False).numpy()
        np.testing.assert_allclose(cache.features[i], features, rtol=2e-3, atol=2e-3)  # stored as float16
        target = reconstruction_target({"image": tf.stack(views)}, TINY.recon_size).numpy()
        assert np.abs(cache.targets[i] / 255.0 - target).max() <= 0.5 / 255 + 1e-6  # 8 bits
        np.testing.assert_array_equal(cache.labels["distribution"][i], split["distribution"][i])


def test_a_matching_cache_is_reused_and_another_encoder_encodes_again(encoded, capsys):
    model, split, cache, _ = encoded
    stamp = os.path.getmtime(os.path.join(cache.folder, "features.npy"))
    feature_cache.open_or_encode(model, split, cache.folder, VIEWS, batch_size=4, seed=7)
    assert "reusing" in capsys.readouterr().out and os.path.getmtime(os.path.join(cache.folder, "features.npy")) == stamp
    other = dict(split, distribution=split["distribution"][::-1].copy())
    changed = feature_cache.manifest_of(model, other, TINY.image_size, VIEWS, 7, True)
    assert changed["split"] != cache.manifest["split"]
    model.backbone.weights[0].assign_add(tf.ones_like(model.backbone.weights[0]))
    try:
        assert feature_cache.manifest_of(model, split, TINY.image_size, VIEWS, 7, True) != cache.manifest
    finally:
        model.backbone.weights[0].assign_sub(tf.ones_like(model.backbone.weights[0]))


def test_the_loss_on_cached_features_is_the_loss_on_the_images(encoded):
    model, split, cache, _ = encoded
    model.sample_in_training = False
    batch = next(iter(cache.eval_dataset(8)))
    images = tf.stack([preprocess(decode_image(tf.io.read_file(split["path"][i])), TINY.image_size)
                       for i in cache.valid])  # fmt: skip
    on_images = {**{key: tf.constant(split[key][cache.valid]) for key in ("distribution", "attributes",
                                                                        "attribute_mask")}, "image": images}  # fmt: skip
    cached, direct = model.loss_terms(batch), model.loss_terms(on_images)
    for term in ("loss", "ce", "recon", "kl_z", "kl_s"):
        np.testing.assert_allclose(cached[term], direct[term], rtol=2e-3, atol=2e-4, err_msg=term)
    epoch = list(cache.epoch_dataset(2, seed=1).take(2).as_numpy_iterator())
    again = list(cache.epoch_dataset(2, seed=1).take(2).as_numpy_iterator())
    assert all(np.array_equal(a["features"], b["features"]) for a, b in zip(epoch, again))  # a resumed epoch replays


def _config(tmp_path, frozen, epochs, **changes):
    return train_config.TrainConfig(
        # 4 steps an epoch; a test split under 10 images skips the t-SNE chart (the slow part of a run's test).
        model=TINY, data=DataConfig(synthetic_sizes=(32, 8, 8), seed=2), model_dir=str(tmp_path),
        export_dir=None, batch_size=8, epochs=epochs, frozen_epochs=frozen, feature_views=2, unfreeze_blocks=1,
        mc_samples=0, verbose=0, checkpoint_every_steps=0, export_checkpoint="last", **changes,
    )  # fmt: skip


def test_frozen_epochs_then_the_last_block_resume_exactly_and_log_every_epoch(tmp_path, capsys):
    straight = run.train_and_evaluate(_config(tmp_path / "straight", frozen=2, epochs=1))
    assert "Frozen encoder: epochs 1-2" in capsys.readouterr().out

    # The same run interrupted after its frozen epochs: the encoder has not moved...
    first = run.train_and_evaluate(_config(tmp_path / "resumed", frozen=2, epochs=0))
    capsys.readouterr()
    frozen_model, _ = restore_model(str(tmp_path / "resumed"))
    manifest = json.load(open(tmp_path / "resumed" / "feature_cache" / "train" / "manifest.json"))
    assert feature_cache.weights_digest(frozen_model.backbone) == manifest["backbone_digest"]
    assert first["weights_digest"] != straight["weights_digest"]
    # ...and its rerun with the image epoch reuses the cache and ends where the straight run did.
    resumed = run.train_and_evaluate(_config(tmp_path / "resumed", frozen=2, epochs=1))
    out = capsys.readouterr().out
    assert "Resumed from step 8" in out and "Frozen encoder" not in out
    assert resumed["weights_digest"] == straight["weights_digest"]

    # The image epoch trained the last block and the tail of the encoder, nothing before them.
    trained, _ = restore_model(str(tmp_path / "straight"))
    stem, blocks, tail = encoder_parts(trained.backbone)
    before = {v.path: v.numpy() for v in frozen_model.backbone.weights}
    changed = {v.path for v in trained.backbone.weights if not np.array_equal(before[v.path], v.numpy())}
    last = {v.path for layer in blocks[-1] for v in layer.trainable_weights}
    assert changed and changed <= last and {"moving_mean", "moving_variance"}.isdisjoint(
        {path.rsplit("/", 1)[-1] for path in changed})  # frozen BatchNorm statistics

    history = [json.loads(line) for line in open(tmp_path / "straight" / "history.jsonl")]
    assert [r["step"] for r in history] == list(range(1, 13)) and [r["epoch"] for r in history][::4] == [1, 2, 3]
    events = glob.glob(str(tmp_path / "straight" / "logs" / "validation" / "events*"))
    srcc = [e for path in events for e in tf.compat.v1.train.summary_iterator(path)
            for v in e.summary.value if v.tag == "epoch_srcc"]  # fmt: skip
    assert sorted(e.step for e in srcc) == [4, 8, 12]


def test_a_fine_tuned_prior_cannot_train_on_the_cache():
    from pear_tf.errors import SettingsError

    prior = keras.Sequential([keras.Input((32, 32, 3)), keras.layers.Flatten(), keras.layers.Dense(11)])
    with pytest.raises(SettingsError, match="--nofinetune_prior"):
        feature_cache.check_trainable_on_cache(PEAR(TINY, prior_network=prior, finetune_prior=True))
    feature_cache.check_trainable_on_cache(PEAR(TINY, prior_network=prior, finetune_prior=False))
