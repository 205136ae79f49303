"""The modern encoders: published shapes, normalisation inside, pooled features, local weights, blocks."""

import dataclasses
import glob
import json
import os
import subprocess
import sys

import keras
import keras_hub
import numpy as np
import pytest
import tensorflow as tf

from pear_tf.config import ModelConfig
from pear_tf.errors import SettingsError
from pear_tf.model import PEAR
from pear_tf.model.backbone import BACKBONES, build_backbone, native_image_size, resolve_backbone_config
from pear_tf.model.blocks import encoder_parts, unfreeze_last_blocks
from pear_tf.model.vision_transformers import ENCODERS, normalization_constants
from tests.encoders import SIZE, TINY_ENCODERS, random_images

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# (image size to build at, learned parameters, published figure). The published figures:
# ConvNeXt-T 28.6 M and EfficientNetV2-S 21.5 M with their 1000-class ImageNet classifier
# (timm's tf_efficientnetv2_s: 21.46 M; the papers round to 28 M and 22 M), the backbone
# here has no classifier, so the test adds one (features × 1000 + 1000); DINOv2 ViT-S/14
# 22.06 M (facebook/dinov2-small, with its 37×37+1 position table; the paper rounds to 21 M);
# CLIP ViT-B/16's image tower 85.8 M (openai/clip-vit-base-patch16 without the 768→512
# projection, which PEAR does not use); SigLIP B/16's image tower with its attention-pooling
# head 92.9 M (google/siglip-base-patch16-224; SigLIP2 B/16 is the same architecture).
REAL_SHAPES = {
    "convnext_tiny": (32, 28_589_128, 28.6e6),
    "efficientnetv2_s": (32, 21_458_488, 21.5e6),
    "dinov2_small": (56, 22_056_576, 22.06e6),
    "clip_vit_b16": (224, 85_799_424, 85.8e6),
    "siglip_base": (224, 92_884_224, 92.9e6),
}
CLASSIFIER = {"convnext_tiny", "efficientnetv2_s"}


def learned_parameters(backbone):
    """What a published count holds: trainable weights; for DINOv2 its pretraining-size position
    table (kept frozen by keras-hub) instead of the copy resampled to this input size."""
    kept = [w for w in backbone.weights if (w.trainable or w.path.endswith("/position_embeddings"))]
    return int(sum(np.prod(w.shape) for w in kept if "interpolated_position_embeddings" not in w.path))


@pytest.mark.parametrize("name", sorted(REAL_SHAPES))
def test_real_shapes_have_the_published_parameter_count(name):
    size, exact, published = REAL_SHAPES[name]
    backbone = build_backbone(name, size)  # symbolic build: random weights, no forward pass
    count = learned_parameters(backbone)
    width = backbone.output.shape[-1]
    if name in CLASSIFIER:
        count += width * 1000 + 1000
    assert count == exact and abs(count - published) / published < 0.005, (count, published)
    assert width == {"convnext_tiny": 768, "efficientnetv2_s": 1280, "dinov2_small": 768}.get(name, 768)


def test_every_modern_encoder_is_a_backbone_and_has_its_native_size():
    assert set(TINY_ENCODERS) < set(BACKBONES)
    assert {"convnext_small", "convnext_base", "efficientnetv2_m", "dinov2_base"} < set(BACKBONES)
    assert native_image_size("efficientnetv2_s") == 384 and native_image_size("dinov2_small") == 224
    assert BACKBONES.index("resnet50") == 0 and ModelConfig().backbone == "resnet50"  # still the default


@pytest.mark.parametrize("name", sorted(TINY_ENCODERS))
def test_a_tiny_member_of_each_family_encodes_photos_to_one_finite_vector(name):
    backbone = build_backbone(name, SIZE, architecture=TINY_ENCODERS[name])
    features = backbone(random_images(), training=False).numpy()
    width = {"dinov2_small": 32, "siglip_base": 16, "clip_vit_b16": 16, "convnext_tiny": 32}.get(name, 320)
    assert features.shape == (2, width) and np.isfinite(features).all()


# Each family's normalisation as its authors publish it (mean and std of x/255).
PUBLISHED_NORMALIZATION = {
    "dinov2_small": ((0.485, 0.456, 0.406), (0.229, 0.224, 0.225)),  # ImageNet (DINOv2's processor)
    "siglip_base": ((0.5, 0.5, 0.5), (0.5, 0.5, 0.5)),  # SigLIP: [-1, 1]
    "clip_vit_b16": ((0.48145466, 0.4578275, 0.40821073), (0.26862954, 0.26130258, 0.27577711)),  # OpenAI CLIP
}


@pytest.mark.parametrize("name", sorted(PUBLISHED_NORMALIZATION))
def test_vits_normalise_inside_as_their_image_converters_do(name):
    backbone = build_backbone(name, SIZE, architecture=TINY_ENCODERS[name])
    normalize = backbone.get_layer("normalize")
    x = np.array([[[[0.0, 127.5, 255.0]]]], np.float32)
    mean, std = PUBLISHED_NORMALIZATION[name]
    np.testing.assert_allclose(normalize(x).numpy(), (x / 255.0 - np.array(mean)) / np.array(std), rtol=1e-5)
    # The same arithmetic as keras-hub's ImageConverter with these constants.
    scale, offset = normalization_constants(ENCODERS[name][0])
    converter = keras_hub.layers.ImageConverter(scale=scale, offset=offset)
    np.testing.assert_allclose(normalize(x).numpy(), converter(x).numpy(), rtol=1e-5, atol=1e-6)


def test_dinov2_pools_cls_and_the_mean_of_its_patch_tokens_clip_its_cls():
    images = random_images()
    for name, expected in (("dinov2_small", "cls_and_mean"), ("clip_vit_b16", "cls")):
        backbone = build_backbone(name, SIZE, architecture=TINY_ENCODERS[name])
        tower = backbone.get_layer("vision_encoder")
        tokens = tower({"images": backbone.get_layer("normalize")(images)}).numpy()
        assert tokens.shape[1] == 1 + (SIZE // 8) ** 2
        oracle = tokens[:, 0] if expected == "cls" else np.concatenate([tokens[:, 0], tokens[:, 1:].mean(1)], -1)
        np.testing.assert_allclose(backbone(images).numpy(), oracle, rtol=1e-5, atol=1e-5)


def _save_dinov2_preset(folder, converter_mean=(0.485, 0.456, 0.406)):
    keras.utils.set_random_seed(3)
    tower = keras_hub.models.DINOV2Backbone(**TINY_ENCODERS["dinov2_small"], image_shape=(SIZE, SIZE, 3))
    tower.save_to_preset(folder)
    std = (0.229, 0.224, 0.225)
    keras_hub.layers.DINOV2ImageConverter(image_size=(SIZE, SIZE), scale=[1 / 255 / s for s in std],
                                          offset=[-m / s for m, s in zip(converter_mean, std)]).save_to_preset(folder)
    return tower


def test_a_local_preset_directory_loads_and_its_architecture_is_recorded(tmp_path):
    folder = str(tmp_path / "dinov2_tiny_preset")
    tower = _save_dinov2_preset(folder)
    config = ModelConfig(backbone="dinov2_small", backbone_weights=folder, image_size=SIZE, recon_size=16)
    resolved = resolve_backbone_config(config)
    assert resolved.backbone_config["hidden_dim"] == 16 and resolved.backbone_config["num_layers"] == 2
    model = PEAR(config, seed=0)
    model.build_all()
    images = random_images()
    normalized = model.backbone.get_layer("normalize")(images)
    np.testing.assert_allclose(model.backbone.get_layer("vision_encoder")({"images": normalized}).numpy(),
                               tower({"images": normalized}).numpy(), atol=1e-5)  # fmt: skip
    # A model rebuilt from its recorded config without the preset restores the checkpoint exactly.
    path = tf.train.Checkpoint(model=model).save(str(tmp_path / "ckpt"))
    recorded = ModelConfig.from_json(model.config.to_json())
    rebuilt = PEAR(dataclasses.replace(recorded, backbone_weights=None))
    rebuilt.build_all()
    tf.train.Checkpoint(model=rebuilt).restore(path).expect_partial().assert_existing_objects_matched()
    np.testing.assert_allclose(rebuilt.score(images)["score"], model.score(images)["score"], atol=1e-5)


def test_a_siglip_two_tower_preset_gives_its_image_tower_at_the_preset_size_only(tmp_path):
    folder = str(tmp_path / "siglip_tiny_preset")
    keras.utils.set_random_seed(4)
    vision = keras_hub.models.SigLIPVisionEncoder(**TINY_ENCODERS["siglip_base"], image_shape=(SIZE, SIZE, 3),
                                                  name="vision_encoder")  # fmt: skip
    text = keras_hub.models.SigLIPTextEncoder(64, 16, 16, 1, 2, 32, max_sequence_length=8, name="text_encoder")
    keras_hub.models.SigLIPBackbone(vision, text).save_to_preset(folder)
    backbone = build_backbone("siglip_base", SIZE, weights=folder)
    normalized = backbone.get_layer("normalize")(random_images())
    np.testing.assert_allclose(backbone(random_images()).numpy(), vision({"images": normalized}).numpy(), atol=1e-5)
    with pytest.raises(SettingsError, match="position embeddings are for 32 px"):
        build_backbone("siglip_base", 48, weights=folder)
    with pytest.raises(SettingsError, match="not a DINOV2Backbone"):
        build_backbone("dinov2_small", SIZE, weights=folder)


def test_a_weights_file_of_the_tower_loads(tmp_path):
    keras.utils.set_random_seed(5)
    source = build_backbone("clip_vit_b16", SIZE, architecture=TINY_ENCODERS["clip_vit_b16"])
    path = str(tmp_path / "clip_tiny.weights.h5")
    source.get_layer("vision_encoder").save_weights(path)
    keras.utils.set_random_seed(6)
    loaded = build_backbone("clip_vit_b16", SIZE, weights=path, architecture=TINY_ENCODERS["clip_vit_b16"])
    np.testing.assert_allclose(loaded(random_images()).numpy(), source(random_images()).numpy(), atol=1e-5)


def test_wrong_weights_and_sizes_are_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="keras-hub preset directory .*dinov2_small.*nothing is downloaded"):
        build_backbone("dinov2_small", 224, weights=str(tmp_path / "missing"))
    with pytest.raises(FileNotFoundError, match="not for siglip_base"):
        build_backbone("siglip_base", 224, weights="imagenet")
    with pytest.raises(SettingsError, match="not a multiple of dinov2_small's patch size 14: try 56, 70"):
        build_backbone("dinov2_small", 64)
    with pytest.raises(SettingsError, match="at least 32"):
        build_backbone("convnext_tiny", 16)
    folder = str(tmp_path / "other_normalisation")
    _save_dinov2_preset(folder, converter_mean=(0.5, 0.5, 0.5))
    with pytest.raises(SettingsError, match="normalises with offset"):
        build_backbone("dinov2_small", SIZE, weights=folder)


def test_train_says_where_weights_come_from_and_exits_2(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "pear_tf.train", "--backbone=dinov2_small", f"--backbone_weights={tmp_path}/none",
         "--synthetic_sizes=8,4,4", "--batch_size=4", "--image_size=56", f"--model_dir={tmp_path}/run", "--export=none"],
        capture_output=True, text=True, timeout=300, env={**os.environ, "PYTHONPATH": ROOT},
    )  # fmt: skip
    assert result.returncode == 2, result.stderr[-2000:]
    assert "ERROR: --backbone_weights=" in result.stderr and "Traceback" not in result.stderr
    assert "save_to_preset" in result.stderr


@pytest.mark.parametrize("name", ["convnext_tiny", "efficientnetv2_s", "dinov2_small", "siglip_base", "resnet50"])
def test_unfreezing_the_last_blocks_trains_them_and_what_follows_only(name):
    backbone = build_backbone(name, SIZE, architecture=TINY_ENCODERS.get(name))
    stem, blocks, tail = encoder_parts(backbone)
    assert len(blocks) == {"resnet50": 16, "efficientnetv2_s": 7, "convnext_tiny": 4}.get(name, 2)
    unfreeze_last_blocks(backbone, 1)
    trainable = {id(v) for v in backbone.trainable_variables}
    last = {id(v) for layer in blocks[-1] + tail if not _is_batchnorm(layer) for v in layer.weights if v.trainable}
    frozen = {id(v) for layer in stem + [layer for block in blocks[:-1] for layer in block] for v in layer.weights}
    assert trainable and trainable == last and not trainable & frozen
    with pytest.raises(SettingsError, match=f"has {len(blocks)} blocks"):
        unfreeze_last_blocks(backbone, len(blocks) + 1)


def _is_batchnorm(layer):
    return isinstance(layer, keras.layers.BatchNormalization)


@pytest.mark.parametrize("name", sorted(TINY_ENCODERS))
def test_every_encoder_weight_is_in_a_training_checkpoint(name, tmp_path):
    # keras-hub's DINOv2 keeps its blocks where tf.train.Checkpoint does not look (see
    # vision_transformers._checkpointable): a run's checkpoints would have lost them.
    backbone = build_backbone(name, SIZE, architecture=TINY_ENCODERS[name])
    path = tf.train.Checkpoint(backbone=backbone).save(str(tmp_path / "ckpt"))
    saved = [key for key, _ in tf.train.list_variables(path) if key.startswith("backbone/")]
    assert len(saved) == len(backbone.weights)


RECIPES = sorted(glob.glob(os.path.join(ROOT, "pipelines", "encoders", "*.flags")))
PARSE_RECIPES = (
    "import sys, json; from absl import flags; from pear_tf import cli; cli.define_train_flags(); rows = []\n"
    "for path in sys.argv[1:]:\n"
    "    flags.FLAGS.unparse_flags(); flags.FLAGS(['cli', '--flagfile=' + path]); c = cli.train_config_from_flags()\n"
    "    rows.append([c.data.dataset, c.model.backbone, c.model.image_size, c.frozen_epochs, c.unfreeze_blocks])\n"
    "print(json.dumps(rows))"
)


def test_the_encoder_recipes_parse_and_document_themselves():
    names = [os.path.basename(path) for path in RECIPES]
    assert names == ["convnext_tiny_aadb.flags", "convnext_tiny_ava.flags", "dinov2_small_aadb.flags",
                     "dinov2_small_ava.flags"]  # fmt: skip
    for path in RECIPES:
        header = open(path).read().split("\n--", 1)[0]
        assert header.startswith("#") and "python -m pear_tf.train " in header and "SRCC" in header
    result = subprocess.run([sys.executable, "-c", PARSE_RECIPES, *RECIPES], capture_output=True, text=True,
                            cwd=ROOT, env={**os.environ, "PYTHONPATH": ROOT}, timeout=300)  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    for name, (dataset, backbone, size, frozen, blocks) in zip(names, json.loads(result.stdout.splitlines()[-1])):
        assert name == f"{backbone}_{dataset}.flags" and size == 224 and frozen > 0 and blocks > 0
