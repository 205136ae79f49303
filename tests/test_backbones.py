"""The phone-sized backbones: shapes, parameter counts, normalisation inside, weights, PEAR on top."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from pear_tf import cli
from pear_tf.config import ModelConfig
from pear_tf.model import PEAR
from pear_tf.model.backbone import BACKBONES, BATCHNORM_MOMENTUM, FEATURES, build_backbone

# keras.applications' include_top=False counts (independent of the input size).
PARAMETERS = {"mobilenet_v3_large": 2_996_352, "mobilenet_v3_small": 939_120, "efficientnet_b0": 4_049_571}


def _images(size, batch=2, seed=0):
    return np.random.default_rng(seed).uniform(0, 255, (batch, size, size, 3)).astype(np.float32)


@pytest.mark.parametrize("name", sorted(PARAMETERS))
def test_shapes_and_parameter_counts(name):
    backbone = build_backbone(name, 64)
    assert backbone.input.shape == (None, 64, 64, 3)
    assert backbone.output.shape == (None, FEATURES[name])
    assert backbone.count_params() == PARAMETERS[name]
    features = backbone(_images(64), training=False)
    assert features.shape == (2, FEATURES[name]) and np.isfinite(features).all()


def test_every_backbone_is_a_backbone_flag_choice():
    # cli.define_model_flags builds --backbone's enum from this tuple.
    assert set(PARAMETERS) | {"resnet50", "tiny"} == set(BACKBONES) == set(cli.BACKBONES)


def test_mobilenet_v3_normalises_inside_and_trains_its_batchnorm_at_0_99():
    backbone = build_backbone("mobilenet_v3_small", 32)
    network = backbone.layers[-1]
    rescaling = [layer for layer in network.layers if isinstance(layer, keras.layers.Rescaling)]
    assert len(rescaling) == 1 and rescaling[0].scale == pytest.approx(1 / 127.5) and rescaling[0].offset == -1.0
    norms = [layer for layer in network.layers if isinstance(layer, keras.layers.BatchNormalization)]
    assert norms and all(layer.momentum == BATCHNORM_MOMENTUM for layer in norms)


def test_efficientnet_normalises_with_the_imagenet_statistics_whatever_its_weights():
    backbone = build_backbone("efficientnet_b0", 32)
    norm = next(layer for layer in backbone.layers[-1].layers if isinstance(layer, keras.layers.Normalization))
    x = np.array([[[[0.0, 127.5, 255.0]]]], np.float32) / 255.0
    expected = (x - np.array([0.485, 0.456, 0.406])) / np.array([0.229, 0.224, 0.225])
    np.testing.assert_allclose(norm(x).numpy(), expected, rtol=1e-5)


def test_mobilenet_v3_needs_32_px():
    with pytest.raises(ValueError, match="at least 32"):
        build_backbone("mobilenet_v3_small", 16)


@pytest.mark.parametrize("name", ["mobilenet_v3_small"])
def test_a_local_weights_file_loads(name, tmp_path):
    keras.utils.set_random_seed(1)
    source = build_backbone(name, 32)
    path = str(tmp_path / "notop.weights.h5")
    source.layers[-1].save_weights(path)
    keras.utils.set_random_seed(2)
    loaded = build_backbone(name, 32, weights=path)
    images = _images(32)
    np.testing.assert_allclose(loaded(images).numpy(), source(images).numpy(), atol=1e-5)


def test_a_missing_weights_file_names_the_backbone():
    with pytest.raises(FileNotFoundError, match="mobilenet_v3_large"):
        build_backbone("mobilenet_v3_large", 32, weights="no_such.h5")


def test_pear_on_mobilenet_v3_feeds_the_same_latents_and_heads_and_restores_from_a_checkpoint(tmp_path):
    config = ModelConfig(backbone="mobilenet_v3_small", image_size=32, recon_size=16)
    model = PEAR(config)
    model.build_all()
    assert model.latents.photographic_encoder.kernel.shape == (FEATURES["mobilenet_v3_small"], 11)
    scores = model.score(tf.constant(_images(32)))
    assert scores["score"].shape == (2,) and scores["attributes"].shape == (2, 11)
    path = tf.train.Checkpoint(model=model).save(str(tmp_path / "ckpt"))
    restored = PEAR(config)
    restored.build_all()
    tf.train.Checkpoint(model=restored).restore(path).expect_partial().assert_existing_objects_matched()
    again = restored.score(tf.constant(_images(32)))
    np.testing.assert_allclose(again["score"].numpy(), scores["score"].numpy(), atol=1e-5)
