"""The image encoder: ResNet50 as in the paper, or a tiny CNN for tests and the demo.

Both take RGB images in 0..255 (the tensor every input path produces) and return one
feature vector per image; input normalisation lives inside, so callers never need to
know which backbone they hold.
"""

import os

import keras

RESNET50_FEATURES = 2048
TINY_FEATURES = 128
BACKBONES = ("resnet50", "tiny")

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


def _resolve_weights(weights):
    if weights in (None, "", "none", "None"):
        return None
    if weights == "imagenet":
        return "imagenet"
    if not os.path.exists(weights):
        raise FileNotFoundError(
            f"--backbone_weights={weights!r}: no such file. Give None, 'imagenet', or the "
            "path of a ResNet50 'notop' weights file (resnet50_weights_tf_dim_ordering_"
            "tf_kernels_notop.h5 from keras-applications)."
        )
    return weights


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


def build_backbone(name, image_size, weights=None, model_name="backbone"):
    """Builds the encoder x → features.

    Args:
      name: "resnet50" or "tiny".
      image_size: side of the square RGB input (0..255).
      weights: None, "imagenet" or a local weights file (ResNet50 only).
      model_name: the returned model's name.

    Returns:
      A keras.Model mapping [B, S, S, 3] → [B, feature_dim].
    """
    if name == "resnet50":
        return _resnet50_backbone(image_size, weights, model_name)
    if name == "tiny":
        if _resolve_weights(weights) is not None:
            raise ValueError("--backbone=tiny has no pretrained weights; use --backbone_weights=None.")
        return _tiny_backbone(image_size, model_name)
    raise ValueError(f"--backbone={name!r} is not one of {BACKBONES}.")
