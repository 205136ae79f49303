"""Vision-transformer encoders from keras-hub: the DINOv2, SigLIP (or SigLIP2) and CLIP image towers.

Each is a keras-hub image tower behind two pear_tf layers: in front, the family's own
normalisation (what its keras-hub ImageConverter does: x·scale + offset on RGB 0..255);
behind, the pooled feature PEAR's latents read:

| family | keras-hub tower | normalisation (of x/255) | pooled feature |
|---|---|---|---|
| DINOv2 | ``DINOV2Backbone`` | ImageNet mean and std | [CLS, mean of the patch tokens] (the paper's linear probe) |
| SigLIP, SigLIP2 | ``SigLIPVisionEncoder`` | mean 0.5, std 0.5 (x/127.5 − 1) | the tower's attention-pooling head |
| CLIP | ``CLIPVisionEncoder`` | OpenAI CLIP's mean and std | CLS after the last LayerNorm (before CLIP's projection) |

keras-hub is the optional ``encoders`` extra: it is imported only when one of these is built.
Nothing is downloaded: weights come from a local keras-hub preset directory (or a weights
file saved from the tower); ``preset_architecture`` reads a preset's architecture so that a
model rebuilt without weights (from a checkpoint) has the same variables.
"""

import dataclasses
import json
import os

import keras

from pear_tf import errors
from pear_tf.errors import SettingsError

IMAGENET_MEAN, IMAGENET_STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
CLIP_MEAN, CLIP_STD = (0.48145466, 0.4578275, 0.40821073), (0.26862954, 0.26130258, 0.27577711)
HALF = (0.5, 0.5, 0.5)
# Keys of a tower's keras config that are not its architecture.
_NOT_ARCHITECTURE = ("name", "trainable", "dtype", "image_shape", "data_format")


@dataclasses.dataclass(frozen=True)
class Family:
    """What pear_tf needs to know of a keras-hub image tower.

    Attributes:
      tower: the keras_hub.models class of the image tower.
      backbones: the keras_hub.models classes a preset's config.json may name: the tower
        itself, or the two-tower backbone that holds it as ``vision_encoder``.
      mean, std: the normalisation of x/255 its weights were trained with.
      pooling: "cls_and_mean", "cls" or "head" (the tower pools itself).
      learned_positions: its position embeddings are one table of the pretraining size
        (SigLIP, CLIP), so pretrained weights fix the image size; DINOv2 interpolates.
      weights_from: where a user gets weights, for the error message.
    """

    tower: str
    backbones: tuple
    mean: tuple
    std: tuple
    pooling: str
    learned_positions: bool
    weights_from: str


DINOV2 = Family("DINOV2Backbone", ("DINOV2Backbone",), IMAGENET_MEAN, IMAGENET_STD, "cls_and_mean", False,
                "keras-hub presets dinov2_small / dinov2_base (Kaggle keras/dinov2), or hf://facebook/dinov2-small")
SIGLIP = Family("SigLIPVisionEncoder", ("SigLIPBackbone", "SigLIPVisionEncoder"), HALF, HALF, "head", True,
                "keras-hub presets siglip_base_patch16_224 or siglip2_base_patch16_224 (Kaggle keras/siglip)")
CLIP = Family("CLIPVisionEncoder", ("CLIPBackbone", "CLIPVisionEncoder"), CLIP_MEAN, CLIP_STD, "cls", True,
              "the keras-hub preset clip_vit_base_patch16 (Kaggle keras/clip)")  # fmt: skip

_VIT_BASE = dict(hidden_dim=768, num_layers=12, num_heads=12, intermediate_dim=3072)
# name: (family, published architecture: the tower's arguments but image_shape).
ENCODERS = {
    "dinov2_small": (DINOV2, dict(patch_size=14, hidden_dim=384, num_layers=12, num_heads=6, intermediate_dim=1536,
                                  position_embedding_shape=[518, 518, 3])),
    "dinov2_base": (DINOV2, dict(patch_size=14, **_VIT_BASE, position_embedding_shape=[518, 518, 3])),
    "siglip_base": (SIGLIP, dict(patch_size=16, **_VIT_BASE, intermediate_activation="gelu_approximate")),
    "clip_vit_b16": (CLIP, dict(patch_size=16, **_VIT_BASE, intermediate_activation="quick_gelu")),
}  # fmt: skip
NATIVE_IMAGE_SIZE = 224


def import_keras_hub():
    """keras_hub, or an ImportError that says how to install it."""
    try:
        import keras_hub
    except ImportError as error:
        raise ImportError(
            "The DINOv2, SigLIP and CLIP encoders need keras-hub: pip install 'pear_tf[encoders]'."
        ) from error
    return keras_hub


def feature_width(name, architecture=None):
    """The pooled feature's width: 2·hidden for DINOv2 ([CLS, patch mean]), hidden otherwise."""
    family, published = ENCODERS[name]
    hidden = int((architecture or published)["hidden_dim"])
    return 2 * hidden if family.pooling == "cls_and_mean" else hidden


def normalization_constants(family):
    """(scale, offset) per channel of x·scale + offset on RGB 0..255: keras-hub's ImageConverter arithmetic."""
    scale = [1.0 / (255.0 * s) for s in family.std]
    offset = [-m / s for m, s in zip(family.mean, family.std)]
    return scale, offset


@keras.saving.register_keras_serializable(package="pear_tf")
class TokenPooling(keras.layers.Layer):
    """A transformer's tokens [B, T, D] → one feature vector: CLS [B, D], or [CLS, mean of patches] [B, 2D].

    Args:
      mode: "cls" or "cls_and_mean".
      prefix_tokens: tokens before the patches (CLS and any registers), left out of the mean.
    """

    def __init__(self, mode="cls", prefix_tokens=1, **kwargs):
        super().__init__(**kwargs)
        self.mode = mode
        self.prefix_tokens = prefix_tokens

    def call(self, tokens):
        cls = tokens[:, 0]
        if self.mode == "cls":
            return cls
        return keras.ops.concatenate([cls, keras.ops.mean(tokens[:, self.prefix_tokens :], axis=1)], axis=-1)

    def get_config(self):
        return {**super().get_config(), "mode": self.mode, "prefix_tokens": self.prefix_tokens}


def preset_architecture(name, preset):
    """The image tower's architecture in a keras-hub preset directory (its config.json)."""
    family, _ = ENCODERS[name]
    path = os.path.join(preset, "config.json")
    if not os.path.exists(path):
        raise errors.NotFound(f"--backbone_weights={preset!r} is a folder without config.json: not a keras-hub "
                                f"preset. Weights for --backbone={name}: {family.weights_from}.")  # fmt: skip
    with open(path) as f:
        saved = json.load(f)
    if saved.get("class_name") not in family.backbones:
        raise SettingsError(f"--backbone_weights={preset!r} holds a {saved.get('class_name')}, not a "
                         f"{' or '.join(family.backbones)} (--backbone={name}).")  # fmt: skip
    config = saved["config"]
    if saved["class_name"] != family.tower:  # a two-tower backbone: its image tower
        config = config["vision_encoder"]["config"]
    return {key: value for key, value in config.items() if key not in _NOT_ARCHITECTURE}, config.get("image_shape")


def check_preset_normalization(name, preset):
    """The preset's own image converter must normalise as pear_tf does for this family."""
    path = os.path.join(preset, "image_converter.json")
    if not os.path.exists(path):
        return
    with open(path) as f:
        converter = json.load(f)["config"]
    scale, offset = normalization_constants(ENCODERS[name][0])
    for key, ours in (("scale", scale), ("offset", offset)):
        theirs = converter.get(key)
        if theirs is not None and any(abs(a - b) > 1e-5 for a, b in zip(_per_channel(theirs), ours)):
            raise SettingsError(f"{path} normalises with {key}={theirs}; pear_tf's {name} with {key}={ours}: this "
                             "preset is not of that family.")  # fmt: skip


def _per_channel(value):
    return list(value) if isinstance(value, (list, tuple)) else [value] * 3


def _check_size(name, image_size, architecture, preset_image_shape):
    patch = int(architecture["patch_size"])
    if image_size % patch:
        sizes = ", ".join(str(patch * k) for k in (image_size // patch, image_size // patch + 1) if k)
        raise SettingsError(f"--image_size={image_size} is not a multiple of {name}'s patch size {patch}: try {sizes}.")
    family = ENCODERS[name][0]
    if family.learned_positions and preset_image_shape and int(preset_image_shape[0]) != image_size:
        raise SettingsError(f"--backbone={name}: the preset's position embeddings are for {preset_image_shape[0]} px "
                         f"images; use --image_size={preset_image_shape[0]}.")  # fmt: skip


def _checkpointable(tower):
    """Makes every variable of the tower reachable by tf.train.Checkpoint, and returns the tower.

    keras-hub's DINOv2 keeps its transformer blocks in a Python list on a plain layer
    (``encoder.layers``), which Keras tracks for its own saving but TensorFlow's
    checkpoint does not see: a training checkpoint would silently leave out every block.
    Each block is also set as an attribute of its own, which the checkpoint follows; no
    variable is added or duplicated.
    """
    encoder = getattr(tower, "encoder", None)
    for i, block in enumerate(getattr(encoder, "layers", None) or []):
        setattr(encoder, f"checkpointed_block_{i}", block)
    return tower


def _tower(name, image_size, weights, architecture):
    """The keras-hub image tower: from a preset directory, or built (random, or a weights file)."""
    keras_hub = import_keras_hub()
    family, _ = ENCODERS[name]
    shape = (image_size, image_size, 3)
    if weights is not None and os.path.isdir(weights):
        check_preset_normalization(name, weights)
        if family.tower == "DINOV2Backbone":  # interpolates its position embeddings to image_shape
            return keras_hub.models.Backbone.from_preset(weights, image_shape=shape, name="vision_encoder")
        loaded = keras_hub.models.Backbone.from_preset(weights)
        return loaded if isinstance(loaded, getattr(keras_hub.models, family.tower)) else loaded.vision_encoder
    tower = getattr(keras_hub.models, family.tower)(**architecture, image_shape=shape, name="vision_encoder")
    if weights is not None:
        tower.load_weights(weights)
    return tower


def build_vision_transformer(name, image_size, weights, model_name, architecture=None):
    """A keras-hub encoder as a keras.Model [B, S, S, 3] RGB 0..255 → [B, feature_width].

    Args:
      name: a key of ENCODERS.
      image_size: the input side, a multiple of the patch size (with a SigLIP or CLIP
        preset: the preset's own size).
      weights: None (random), a keras-hub preset directory, or a ``.weights.h5`` file saved
        from the same tower (``tower.save_weights``).
      model_name: the returned model's name.
      architecture: the tower's arguments (ModelConfig.backbone_config); None: the preset's,
        or else the published one.
    """
    family, published = ENCODERS[name]
    preset_shape = None
    if weights is not None and os.path.isdir(weights):
        found, preset_shape = preset_architecture(name, weights)
        if architecture is not None and dict(architecture) != found:
            raise SettingsError(f"--backbone_weights={weights!r} holds another architecture than the model's "
                             f"backbone_config ({found} vs {dict(architecture)}).")  # fmt: skip
        architecture = found
    architecture = dict(architecture or published)
    _check_size(name, image_size, architecture, preset_shape)
    tower = _checkpointable(_tower(name, image_size, weights, architecture))
    scale, offset = normalization_constants(family)
    inputs = keras.Input((image_size, image_size, 3), name="images")
    tokens = tower({"images": keras.layers.Rescaling(scale, offset, name="normalize")(inputs)})
    if family.pooling != "head":
        prefix = 1 + int(architecture.get("num_register_tokens", 0))
        tokens = TokenPooling(family.pooling, prefix, name="pool")(tokens)
    return keras.Model(inputs, tokens, name=model_name)
