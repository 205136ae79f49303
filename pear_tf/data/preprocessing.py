"""The one preprocessing function: training, evaluation, SavedModel and TFLite share it.

It starts from decoded, upright RGB pixels (the one decode: pear_tf/data/decode.py in the
graph, pear_tf/data/host_decode.py on the host). Images are resized to 256×256 (for the
paper's 224 input; in general round(image_size·256/224)), then randomly cropped and
flipped for training or centre cropped otherwise. The result is float32 RGB in 0..255;
normalisation belongs to the backbone.
"""

import tensorflow as tf


def resize_size(image_size):
    """The side images are resized to before cropping: 256 for a 224 input."""
    return int(round(image_size * 256 / 224))


def resize(image, image_size):
    """float32 [R, R, 3] in 0..255, R = resize_size(image_size): the first step of preprocess.

    An image already R×R (the resized cache, the synthetic set) is not resized: at the
    same size the resize is an exact identity, and it costs several times the crop and
    flip. Images of unknown static shape (SavedModel, TFLite) are always resized.
    """
    side = resize_size(image_size)
    image = tf.cast(image, tf.float32)
    if image.shape[0] != side or image.shape[1] != side:
        image = tf.image.resize(image, [side, side], antialias=True)
    return tf.clip_by_value(image, 0.0, 255.0)


def preprocess(image, image_size, training=False, seed=None):
    """Resizes and crops one image for the encoder.

    Args:
      image: [H, W, 3] RGB, uint8 or float in 0..255.
      image_size: side of the square output.
      training: random crop and horizontal flip (needs ``seed``) instead of centre crop.
      seed: a [2] int stateless seed for the training augmentation.

    Returns:
      float32 [image_size, image_size, 3] in 0..255.
    """
    side = resize_size(image_size)
    image = resize(image, image_size)
    if training:
        crop_seed, flip_seed = tf.unstack(tf.random.experimental.stateless_split(seed, 2))
        image = tf.image.stateless_random_crop(image, [image_size, image_size, 3], crop_seed)
        return tf.image.stateless_random_flip_left_right(image, flip_seed)
    offset = (side - image_size) // 2
    return image[offset : offset + image_size, offset : offset + image_size, :]
