"""The image encoder: ResNet50 as in the paper, phone-sized networks, or a tiny CNN.

Every backbone takes RGB images in 0..255 (the tensor every input path produces) and
returns one pooled feature vector per image; input normalisation lives inside, so
callers never need to know which backbone they hold. Each one's normalisation is what
its ImageNet weights were trained with:

| backbone | normalisation inside the model | features |
|---|---|---|
| resnet50 | RGB→BGR, minus the ImageNet mean (CaffeNormalization) | 2048 |
| mobilenet_v3_large / _small | x/127.5 − 1 (Keras's ``include_preprocessing``) | 960 / 576 |
| efficientnet_b0 | x/255, minus the ImageNet mean, over its std (Keras's own layers) | 1280 |
| tiny | x/127.5 − 1 | 128 |

Modern encoders (docs/encoders.md): ConvNeXt and EfficientNetV2 from keras.applications
(pear_tf.model.convnets), and the DINOv2, SigLIP and CLIP image towers of keras-hub
(pear_tf.model.vision_transformers, the optional ``encoders`` extra). Each normalises
inside as its weights were trained; the ViTs pool their tokens into one vector.
"""

import dataclasses
import os

import keras

from pear_tf import errors
from pear_tf.errors import SettingsError
import pear_tf.model.convnets as convnets
import pear_tf.model.vision_transformers as vision_transformers

RESNET50_FEATURES = 2048
TINY_FEATURES = 128
CONVNETS = (*convnets.CONVNEXT, *convnets.EFFICIENTNET_V2)
VISION_TRANSFORMERS = tuple(vision_transformers.ENCODERS)
BACKBONES = ("resnet50", "mobilenet_v3_large", "mobilenet_v3_small", "efficientnet_b0", *CONVNETS,
             *VISION_TRANSFORMERS, "tiny")  # fmt: skip
# The feature width of each published network (a backbone_config may change it: feature_width).
FEATURES = {
    "resnet50": RESNET50_FEATURES,
    "mobilenet_v3_large": 960,
    "mobilenet_v3_small": 576,
    "efficientnet_b0": 1280,
    **{name: spec[1] for name, spec in {**convnets.CONVNEXT, **convnets.EFFICIENTNET_V2}.items()},
    **{name: vision_transformers.feature_width(name) for name in VISION_TRANSFORMERS},
    "tiny": TINY_FEATURES,
}
# The side each network's weights were trained at, the default --image_size (224 for the rest).
NATIVE_IMAGE_SIZE = {name: spec[2] for name, spec in convnets.EFFICIENTNET_V2.items()}

BATCHNORM_MOMENTUM = 0.99

# EfficientNet's ImageNet statistics of x/255 (keras.applications.efficientnet).
_IMAGENET_MEAN_RGB = (0.485, 0.456, 0.406)
_IMAGENET_STD_RGB = (0.229, 0.224, 0.225)

# ImageNet channel means in BGR order, as keras.applications.resnet50 was trained with.
_CAFFE_MEAN_BGR = (103.939, 116.779, 123.68)


@keras.saving.register_keras_serializable(package="pear_tf")
class CaffeNormalization(keras.layers.Layer):
    """RGB 0..255 → BGR minus the ImageNet mean: what ResNet50's ImageNet weights expect."""

    def call(self, images):
        # A gather, not a flip: TFLite's full-int8 REVERSE_V2 copies the int8 values but
        # the converter gives its output other quantization parameters, which wrecked
        # every int8 ResNet50 (the first layer's error was 49 quantization steps).
        bgr = keras.ops.take(images, [2, 1, 0], axis=-1)
        return bgr - keras.ops.convert_to_tensor(_CAFFE_MEAN_BGR, dtype=bgr.dtype)


@keras.saving.register_keras_serializable(package="pear_tf")
def hard_swish(x):
    """x·relu6(x + 3)/6, written as relu6(x + 3)·(x/6) so that int8 TFLite runs it in XNNPACK.

    Keras's own hard_swish converts to TFLite's HARD_SWISH op, which LiteRT's XNNPACK
    delegate runs in float only: in a full-int8 MobileNetV3 each of its 20 hard-swishes
    splits the graph into another delegate partition run between slower reference int8
    kernels. In this order the converter does not fuse the pattern: ADD (with RELU6 fused),
    MUL, MUL, all int8 in XNNPACK. The same function in float.
    """
    return keras.ops.relu6(x + 3.0) * (x * (1.0 / 6.0))


def native_image_size(name):
    """The input side ``name``'s weights were trained at: --image_size's default."""
    return NATIVE_IMAGE_SIZE.get(name, 224)


def _resolve_weights(weights, backbone="resnet50"):
    if weights in (None, "", "none", "None"):
        return None
    if backbone in VISION_TRANSFORMERS:
        family = vision_transformers.ENCODERS[backbone][0]
        if weights == "imagenet" or not os.path.exists(weights):
            raise errors.NotFound(
                f"--backbone_weights={weights!r}: {'no such file or folder' if weights != 'imagenet' else 'not for'}"
                f" {backbone}. Give a local keras-hub preset directory ({family.weights_from}: download it once "
                "where there is internet, keras_hub.models.Backbone.from_preset(NAME).save_to_preset(DIR), and "
                "copy DIR here) or a .weights.h5 file saved from the same tower; nothing is downloaded at run time."
            )
        return weights
    if weights == "imagenet":
        return "imagenet"
    if not os.path.exists(weights):
        raise errors.NotFound(
            f"--backbone_weights={weights!r}: no such file. Give None, 'imagenet', or the path of a "
            f"{backbone} 'notop' weights file (from keras-applications, or saved from this backbone)."
        )
    return weights


def resolve_backbone_config(config):
    """A ModelConfig whose ``backbone_config`` names the architecture its weights hold.

    With a keras-hub preset directory as weights, the architecture is the preset's (a
    model rebuilt from a checkpoint, without the preset, then has the same variables);
    otherwise the config is returned as it is.
    """
    if config.backbone not in VISION_TRANSFORMERS:
        return config
    weights = _resolve_weights(config.backbone_weights, config.backbone)  # a missing one is named now, not later
    if weights is None or not os.path.isdir(weights):
        return config
    architecture, _ = vision_transformers.preset_architecture(config.backbone, weights)
    return dataclasses.replace(config, backbone_config=architecture)


def _tiny_backbone(image_size, name):
    """Five stride-2 conv blocks: enough receptive field for the demo's 64 px images."""
    inputs = keras.Input((image_size, image_size, 3), name="images")
    x = keras.layers.Rescaling(1.0 / 127.5, offset=-1.0, name="normalize")(inputs)
    for i, filters in enumerate((16, 32, 64, 96, TINY_FEATURES)):
        x = keras.layers.Conv2D(filters, 3, strides=2, padding="same", use_bias=False, name=f"conv{i}")(x)
        # Synchronized so that a MirroredStrategy step equals the single-device step.
        x = keras.layers.BatchNormalization(synchronized=True, name=f"bn{i}")(x)
        x = keras.layers.ReLU(name=f"relu{i}")(x)
    features = keras.layers.GlobalAveragePooling2D(name="avg_pool")(x)
    return keras.Model(inputs, features, name=name)


def _resnet50_backbone(image_size, weights, name):
    inputs = keras.Input((image_size, image_size, 3), name="images")
    resnet = keras.applications.ResNet50(
        include_top=False,
        pooling="avg",
        weights=_resolve_weights(weights),
        input_shape=(image_size, image_size, 3),
    )
    features = resnet(CaffeNormalization(name="normalize")(inputs))
    return keras.Model(inputs, features, name=name)


def _mobilenet_v3_backbone(image_size, weights, name, large):
    if image_size < 32:
        raise errors.BadValue(f"MobileNetV3 needs --image_size of at least 32 (got {image_size}).")
    application = keras.applications.MobileNetV3Large if large else keras.applications.MobileNetV3Small
    label = "mobilenet_v3_large" if large else "mobilenet_v3_small"
    inputs = keras.Input((image_size, image_size, 3), name="images")
    # include_preprocessing: the Rescaling to [-1, 1] its ImageNet weights expect, inside the
    # network whatever the weights, so a checkpoint restored without weights scores the same.
    network = application(
        input_shape=(image_size, image_size, 3),
        include_top=False,
        pooling="avg",
        weights=_resolve_weights(weights, label),
        include_preprocessing=True,
    )
    # Keras builds MobileNetV3's BatchNorm with momentum 0.999 (its ImageNet schedule): from
    # scratch, a few hundred steps leave the moving statistics near their initial values and
    # inference outputs noise (validation SRCC -0.12 after 300 demo steps). ResNet50 and
    # EfficientNet use Keras's 0.99; so does MobileNetV3 here. No variable changes.
    for layer in network.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.momentum = BATCHNORM_MOMENTUM
        # Same values, other ops for TFLite (see hard_swish). No variable changes.
        if isinstance(layer, keras.layers.Activation) and layer.activation is keras.activations.hard_swish:
            layer.activation = hard_swish
    return keras.Model(inputs, network(inputs), name=name)


def _efficientnet_b0_backbone(image_size, weights, name):
    """EfficientNetB0 built the same way whatever its weights (see the comment inside)."""
    weights = _resolve_weights(weights, "efficientnet_b0")
    shape = (image_size, image_size, 3)
    # Keras adds a parameterless Rescaling layer only when weights == "imagenet" (it stores
    # the ImageNet std as a variance and corrects for it). A model restored from a
    # checkpoint is built without weights and would then normalise differently. So the
    # architecture is always weights=None's: pretrained weights are copied or loaded into
    # it, and its Normalization layer is set to the ImageNet mean and variance (std²).
    network = keras.applications.EfficientNetB0(include_top=False, pooling="avg", weights=None, input_shape=shape)
    if weights == "imagenet":
        pretrained = keras.applications.EfficientNetB0(include_top=False, pooling="avg", weights="imagenet",
                                                       input_shape=shape)  # fmt: skip
        network.set_weights(pretrained.get_weights())
    elif weights is not None:
        network.load_weights(weights)
    normalization = next(layer for layer in network.layers if isinstance(layer, keras.layers.Normalization))
    normalization.adapt_mean.assign(_IMAGENET_MEAN_RGB)
    normalization.adapt_variance.assign([std**2 for std in _IMAGENET_STD_RGB])
    normalization.finalize_state()  # its mean and variance are tensors computed from the variables
    inputs = keras.Input(shape, name="images")
    return keras.Model(inputs, network(inputs), name=name)


def build_backbone(name, image_size, weights=None, model_name="backbone", architecture=None):
    """Builds the encoder x → features.

    Args:
      name: one of BACKBONES.
      image_size: side of the square RGB input (0..255); MobileNetV3, ConvNeXt and
        EfficientNetV2 need at least 32, a ViT a multiple of its patch size.
      weights: None, "imagenet" or a local weights file (not for "tiny"); for the keras-hub
        encoders a local preset directory or a weights file of the tower, never "imagenet".
        MobileNetV3's ImageNet weights were trained at 224 px; Keras loads them at other sizes too.
      model_name: the returned model's name.
      architecture: ModelConfig.backbone_config (ConvNeXt, EfficientNetV2 and the ViTs): a
        smaller or preset-defined network of the same family; None: the published one.

    Returns:
      A keras.Model mapping [B, S, S, 3] → [B, features] (FEATURES[name] for the published networks).
    """
    if name in CONVNETS:
        return convnets.build_convnet(name, image_size, _resolve_weights(weights, name), model_name, architecture)
    if name in VISION_TRANSFORMERS:
        weights = _resolve_weights(weights, name)
        return vision_transformers.build_vision_transformer(name, image_size, weights, model_name, architecture)
    if name == "resnet50":
        return _resnet50_backbone(image_size, weights, model_name)
    if name in ("mobilenet_v3_large", "mobilenet_v3_small"):
        return _mobilenet_v3_backbone(image_size, weights, model_name, large=name.endswith("large"))
    if name == "efficientnet_b0":
        return _efficientnet_b0_backbone(image_size, weights, model_name)
    if name == "tiny":
        if _resolve_weights(weights) is not None:
            raise errors.BadValue("--backbone=tiny has no pretrained weights; use --backbone_weights=None.")
        return _tiny_backbone(image_size, model_name)
    raise errors.BadValue(f"--backbone={name!r} is not one of {BACKBONES}.")
