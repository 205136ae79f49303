"""The phone-sized backbones: shapes, parameter counts, normalisation inside, weights, PEAR on top."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from pear_tf import cli
from pear_tf.config import ModelConfig
from pear_tf.model import PEAR
from pear_tf.model.backbone import (BACKBONES, BATCHNORM_MOMENTUM, CONVNETS, FEATURES, VISION_TRANSFORMERS,
                                   build_backbone, hard_swish)  # fmt: skip

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
    modern = set(CONVNETS) | set(VISION_TRANSFORMERS)  # tests/test_encoders.py
    assert set(PARAMETERS) | {"resnet50", "tiny"} | modern == set(BACKBONES) == set(cli.BACKBONES)


def test_mobilenet_v3_normalises_inside_and_trains_its_batchnorm_at_0_99():
    backbone = build_backbone("mobilenet_v3_small", 32)
    network = backbone.layers[-1]
    rescaling = [layer for layer in network.layers if isinstance(layer, keras.layers.Rescaling)]
    assert len(rescaling) == 1 and rescaling[0].scale == pytest.approx(1 / 127.5) and rescaling[0].offset == -1.0
    norms = [layer for layer in network.layers if isinstance(layer, keras.layers.BatchNormalization)]
    assert norms and all(layer.momentum == BATCHNORM_MOMENTUM for layer in norms)


def test_mobilenet_v3_hard_swish_is_keras_s_in_other_ops():
    x = np.linspace(-8, 8, 1601, dtype=np.float32)
    np.testing.assert_allclose(hard_swish(x), keras.activations.hard_swish(x), atol=1e-6)
    network = build_backbone("mobilenet_v3_large", 32).layers[-1]
    activations = [layer.activation for layer in network.layers if isinstance(layer, keras.layers.Activation)]
    assert activations.count(hard_swish) == 20 and keras.activations.hard_swish not in activations


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


@pytest.mark.parametrize("name", ["mobilenet_v3_small", "efficientnet_b0"])
def test_a_phone_backbone_trains_exports_serves_scores_in_beam_and_converts(name, tmp_path):
    """Train (one tiny epoch), export, serve, Beam and TFLite on a phone backbone: the same code as ResNet50's."""
    import base64
    import glob
    import json
    import os

    from pear_tf.data import splits, synthetic
    from pear_tf.exporting import tflite as tflite_lib
    from pear_tf.inference import beam as beam_lib
    from pear_tf.inference.tflite import TFLiteScorer, load_image
    from pear_tf.training import config as train_config
    from pear_tf.training import run as train_lib
    from tests.test_serving import LiveServer

    config = train_config.TrainConfig(
        model=ModelConfig(backbone=name, image_size=32, recon_size=16),
        data=splits.DataConfig(synthetic_sizes=(64, 16, 16)),
        model_dir=str(tmp_path / "run"),
        export_dir=str(tmp_path / "savedmodels" / name),
        batch_size=16,
        epochs=1,
        mc_samples=0,
        verbose=0,
    )
    path = train_lib.train_and_evaluate(config)["export_path"]
    images = synthetic.write_samples(str(tmp_path / "images"), 3, size=40)
    predict = tf.saved_model.load(path).signatures["serving_default"]
    expected = [float(predict(image_bytes=tf.constant([open(p, "rb").read()]))["score"][0]) for p in images]

    live = LiveServer(os.path.dirname(path), name=name)
    try:
        body = {"instances": [{"b64": base64.b64encode(open(p, "rb").read()).decode()} for p in images]}
        status, answer = live.request(f"/v1/models/{name}:predict", body)
    finally:
        live.stop()
    assert status == 200, answer
    np.testing.assert_allclose([p["score"] for p in answer["predictions"]], expected, atol=1e-5)

    prefix = str(tmp_path / "beam" / "scores")
    summary = beam_lib.run(beam_lib.BeamScoreConfig(model=path, inputs=(str(tmp_path / "images" / "*"),),
                                                    output=prefix), ["--runner=DirectRunner"])  # fmt: skip
    rows = {r["path"]: r for f in glob.glob(prefix + "-0*.jsonl") for r in map(json.loads, open(f))}
    assert summary["scored"] == 3 and [rows[p]["score"] for p in images] == pytest.approx(expected, abs=1e-5)

    output = tflite_lib.convert_in_subprocess(path, "float32", str(tmp_path / "m.tflite"))
    scores = [float(TFLiteScorer(output).score(load_image(p, 32))["score"]) for p in images]
    np.testing.assert_allclose(scores, expected, atol=1e-4)
