"""The backbone's feature maps at every resolution, summarised: what photo-likeness is measured on.

The pooled feature alone (global average of the last map) keeps too little to tell a page
of text or a noise frame from a photo: a tiny backbone's averages of both fall among the
training photos'. Every backbone, though, passes through a few spatial resolutions (a
stride-2 step each), and the last map at each resolution says how the image looks at that
scale: its per-channel mean and spatial standard deviation (Gram-like texture statistics,
as style transfer uses them) are ``stage_statistics``.

``stage_model(backbone)`` wraps the backbone's own layers (no new weights) so that one pass
gives the pooled feature and those maps; it is built once per backbone and kept outside
Keras's tracking, so checkpoints do not change. A backbone that is a chain of layers around
at most one nested model (every pear_tf backbone) is supported; otherwise only the pooled
feature is summarised.
"""

import weakref

import keras
import numpy as np
import tensorflow as tf

_STAGE_MODELS = weakref.WeakKeyDictionary()


def _last_map_per_resolution(functional):
    """The symbolic output of the last layer at each spatial resolution of a functional model."""
    last = {}
    for layer in functional.layers:
        if isinstance(layer, keras.layers.InputLayer):
            continue
        try:
            output = layer.output
        except (AttributeError, ValueError):  # a layer called more than once
            continue
        if isinstance(output, (list, tuple)) or len(output.shape) != 4 or output.shape[1] is None:
            continue
        last.pop(tuple(output.shape[1:3]), None)
        last[tuple(output.shape[1:3])] = output
    return list(last.values())


def _build(backbone):
    layers = [layer for layer in backbone.layers if not isinstance(layer, keras.layers.InputLayer)]
    nested = [layer for layer in layers if isinstance(layer, keras.Model)]
    if not nested:
        return keras.Model(backbone.inputs, [backbone.outputs[0], *_last_map_per_resolution(backbone)])
    inner = nested[0]
    if len(nested) > 1 or layers[-1] is not inner:
        return keras.Model(backbone.inputs, [backbone.outputs[0]])
    tapped = keras.Model(inner.inputs, [inner.outputs[0], *_last_map_per_resolution(inner)])
    x = backbone.inputs[0]
    for layer in layers:  # the chain in front of the nested model (e.g. ResNet50's normalisation)
        x = tapped(x) if layer is inner else layer(x)
    return keras.Model(backbone.inputs, x)


def stage_model(backbone):
    """keras.Model images → [pooled feature, map at resolution 1, map at resolution 2, ...], sharing weights."""
    if backbone not in _STAGE_MODELS:
        _STAGE_MODELS[backbone] = _build(backbone)
    return _STAGE_MODELS[backbone]


def spread_mask(backbone):
    """[F] bools over ``features_and_statistics``'s statistics: True for the spatial stds (scale statistics)."""
    outputs = stage_model(backbone).outputs
    if len(outputs) == 1:  # the pooled feature stands for the statistics
        return np.zeros(int(outputs[0].shape[-1]), bool)
    return np.concatenate([np.repeat([False, True], int(o.shape[-1])) for o in outputs[1:]])


def features_and_statistics(backbone, images):
    """(pooled feature [B, F] as the backbone gives it, stage statistics [B, Σ 2·channels]) in one pass.

    The statistics are float32: per map, the channel means then the channel spatial stds.
    """
    outputs = stage_model(backbone)(images, training=False)
    outputs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
    pooled, maps = outputs[0], outputs[1:]
    parts = []
    for feature_map in maps:
        feature_map = tf.cast(feature_map, tf.float32)
        mean = tf.reduce_mean(feature_map, axis=[1, 2])
        variance = tf.reduce_mean(tf.square(feature_map - mean[:, tf.newaxis, tf.newaxis]), axis=[1, 2])
        parts += [mean, tf.sqrt(variance + 1e-12)]
    statistics = tf.concat(parts, axis=-1) if parts else tf.cast(pooled, tf.float32)
    return pooled, statistics
