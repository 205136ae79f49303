"""tf.data pipelines over in-memory examples: preprocessing, augmentation, batching.

Every element is a dict: ``image`` float32 [S, S, 3] in 0..255, ``distribution`` [d],
``attributes`` [11] in [0, 1], ``attribute_mask`` [11].
"""

import tensorflow as tf

from pear_tf.data.preprocessing import preprocess

MODEL_KEYS = ("image", "distribution", "attributes", "attribute_mask")


def dataset_from_arrays(arrays, image_size, batch_size, training=False, seed=0):
    """Builds a batched, prefetched dataset from numpy arrays.

    Args:
      arrays: dict with at least MODEL_KEYS; ``image`` uint8 [N, H, W, 3].
      image_size: encoder input side.
      batch_size: global batch size.
      training: shuffle, random crop and flip, and drop the last partial batch.
      seed: seed of the shuffle and of the augmentation (deterministic given it).
    """
    ds = tf.data.Dataset.from_tensor_slices({key: arrays[key] for key in MODEL_KEYS})
    if training:
        ds = ds.shuffle(len(arrays["image"]), seed=seed, reshuffle_each_iteration=True)
        # One stateless seed pair per element, fresh each epoch.
        seeds = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True).batch(2)
        ds = tf.data.Dataset.zip(ds, seeds).map(
            lambda ex, s: {**ex, "image": preprocess(ex["image"], image_size, True, s)},
            num_parallel_calls=tf.data.AUTOTUNE,
            deterministic=True,
        )
    else:
        ds = ds.map(
            lambda ex: {**ex, "image": preprocess(ex["image"], image_size)},
            num_parallel_calls=tf.data.AUTOTUNE,
            deterministic=True,
        )
    return ds.batch(batch_size, drop_remainder=training).prefetch(tf.data.AUTOTUNE)
