"""Modern convolutional encoders from keras.applications: ConvNeXt and EfficientNetV2.

Both normalise inside the network (``include_preprocessing``): ConvNeXt subtracts the
ImageNet mean and divides by its std, in 0..255 units; EfficientNetV2-S/M map 0..255 to
[-1, 1) (x/128 − 1), as their ImageNet weights were trained. ConvNeXt's features are the
average-pooled last stage through a LayerNorm (what its classifier reads); EfficientNetV2's
the average-pooled top convolution.

``architecture`` (ModelConfig.backbone_config) builds a smaller member of the same family
with random weights, for tests: ConvNeXt ``{"depths": [..4], "projection_dims": [..4]}``,
EfficientNetV2 ``{"width_coefficient": w, "depth_coefficient": d}``. The published
networks are the public constructors; the smaller ones call the function those wrap
(``keras.src``, stable under the pinned keras 3.15).
"""

import keras

from pear_tf.errors import SettingsError

# The published networks: (public constructor, its feature width, its native input side).
CONVNEXT = {
    "convnext_tiny": (keras.applications.ConvNeXtTiny, 768, 224),
    "convnext_small": (keras.applications.ConvNeXtSmall, 768, 224),
    "convnext_base": (keras.applications.ConvNeXtBase, 1024, 224),
}
EFFICIENTNET_V2 = {
    "efficientnetv2_s": (keras.applications.EfficientNetV2S, 1280, 384),
    "efficientnetv2_m": (keras.applications.EfficientNetV2M, 1280, 480),
}
# Keras's names of the block layouts, for the smaller EfficientNetV2s of tests.
_EFFICIENTNET_V2_BLOCKS = {"efficientnetv2_s": "efficientnetv2-s", "efficientnetv2_m": "efficientnetv2-m"}
MIN_IMAGE_SIZE = 32


def build_convnet(name, image_size, weights, model_name, architecture=None):
    """A ConvNeXt or EfficientNetV2 as a keras.Model [B, S, S, 3] RGB 0..255 → [B, features].

    Args:
      name: a key of CONVNEXT or EFFICIENTNET_V2.
      image_size: the input side (at least 32: the networks downsample 32×).
      weights: None, "imagenet" or a local weights file (already resolved).
      model_name: the returned model's name.
      architecture: None (the published network) or a smaller one's arguments (see module doc).
    """
    if image_size < MIN_IMAGE_SIZE:
        raise SettingsError(f"--backbone={name} needs --image_size of at least {MIN_IMAGE_SIZE} (got {image_size}).")
    shape = (image_size, image_size, 3)
    common = dict(include_top=False, include_preprocessing=True, pooling="avg", input_shape=shape)
    if architecture is None:
        constructor = (CONVNEXT.get(name) or EFFICIENTNET_V2[name])[0]
        network = constructor(weights=weights, **common)
    else:
        if weights is not None:
            raise SettingsError(f"--backbone={name} with a custom architecture has no pretrained weights.")
        network = _custom(name, architecture, common)
    inputs = keras.Input(shape, name="images")
    return keras.Model(inputs, network(inputs), name=model_name)


def _custom(name, architecture, common):
    from keras.src.applications import convnext, efficientnet_v2

    if name in CONVNEXT:
        return convnext.ConvNeXt(
            depths=list(architecture["depths"]),
            projection_dims=list(architecture["projection_dims"]),
            weights=None,
            name=name,
            **common,
        )
    return efficientnet_v2.EfficientNetV2(
        width_coefficient=float(architecture["width_coefficient"]),
        depth_coefficient=float(architecture["depth_coefficient"]),
        default_size=EFFICIENTNET_V2[name][2],
        blocks_args=efficientnet_v2.DEFAULT_BLOCKS_ARGS[_EFFICIENTNET_V2_BLOCKS[name]],
        name=_EFFICIENTNET_V2_BLOCKS[name],
        weights=None,
        **common,
    )
