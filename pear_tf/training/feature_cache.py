"""The feature cache: a frozen encoder's features of every training image, computed once.

Training the latents and heads on a frozen encoder needs the encoder's output, not the
image: ``encode`` runs the backbone once over the split, for a few stored views of each
image, and writes

- ``features.npy`` float16 [N, V, F]: the backbone's features of each view;
- ``targets.npy`` uint8 [N, V, R, R, 3]: each view resized to the decoder's size R, the
  target of PEAR's reconstruction term (exactly what the image path computes, rounded
  to 8 bits); absent when nothing reconstructs (λ = 0, a baseline);
- ``prior.npy`` float32 [N, V, k]: a frozen prior network's p(z|x) per view (or the
  split's cached one), when there is a prior;
- the labels (``distribution``, ``attributes``, ``attribute_mask``, ``score``) and
  ``valid`` (images that could not be read are left out, and listed by the skip log);
- ``manifest.json``: what the cache was made from (backbone, its weights' digest, sizes,
  views, the split's fingerprint). A cache that does not match is encoded again.

Views: 0 the evaluation view (centre crop), 1 its mirror image, 2… random crops with random
flips (the training augmentation, seeded per view and image). Each epoch draws one stored
view per image, so the cache stands in for the augmentation of many epochs.
"""

import hashlib
import json
import os

import keras
import numpy as np
import tensorflow as tf

from pear_tf.data import pipeline
from pear_tf.data.images import SkipLog
from pear_tf.data.preprocessing import preprocess
from pear_tf.errors import SettingsError

MANIFEST = "manifest.json"
LABELS = ("distribution", "attributes", "attribute_mask", "score")
VERSION = 1


def check_trainable_on_cache(model):
    """Raises SettingsError if ``model`` needs images to train: a prior network it fine-tunes."""
    if getattr(model, "finetune_prior", False):
        raise SettingsError("--frozen_epochs trains on cached features, where the prior network cannot be "
                            "fine-tuned: add --nofinetune_prior (its outputs are then cached per view).")  # fmt: skip


def views_of(image, index, image_size, views, seed):
    """The ``views`` stored views of one decoded image, [V, S, S, 3] float32 in 0..255 (see module doc)."""
    centre = preprocess(image, image_size)
    stack = [centre, tf.image.flip_left_right(centre)][:views]
    for view in range(2, views):
        view_seed = tf.stack([tf.cast(seed * 1000 + view, tf.int64), tf.cast(index, tf.int64)])
        stack.append(preprocess(image, image_size, training=True, seed=view_seed))
    return tf.stack(stack)


def _indexed(split):
    """The split's examples with their position as ``index`` (decoded-image streams are enumerated)."""
    if isinstance(split, tf.data.Dataset):
        return split.enumerate().map(lambda i, example: {**example, "index": i})
    return {**split, "index": np.arange(pipeline.split_size(split))}


def fingerprint(split):
    """A digest of what a split of arrays holds (its paths or pixels' shape, its labels); a stream's size."""
    if isinstance(split, tf.data.Dataset):
        return f"stream:{pipeline.split_size(split)}"
    digest = hashlib.sha256()
    for key in sorted(split):
        value = np.asarray(split[key])
        digest.update(key.encode())
        digest.update(value.tobytes() if key != "image" else str(value.shape).encode())
    return digest.hexdigest()


def weights_digest(layer):
    """SHA-256 of a layer's weights: a cache is only valid for the encoder that made it."""
    digest = hashlib.sha256()
    for variable in layer.weights:
        digest.update(np.ascontiguousarray(keras.ops.convert_to_numpy(variable)).tobytes())
    return digest.hexdigest()


class FeatureCache:
    """A cache folder's arrays, and the tf.data pipelines that read them.

    Args:
      folder: a folder ``encode`` wrote.
    """

    def __init__(self, folder):
        self.folder = folder
        with open(os.path.join(folder, MANIFEST)) as f:
            self.manifest = json.load(f)
        self.features = np.load(os.path.join(folder, "features.npy"))
        self.targets = self._optional("targets.npy", mmap_mode="r")  # can be large: read per batch
        self.prior = self._optional("prior.npy")
        self.labels = {key: np.load(path) for key in LABELS
                       if os.path.exists(path := os.path.join(folder, f"{key}.npy"))}  # fmt: skip
        self.valid = np.flatnonzero(np.load(os.path.join(folder, "valid.npy")))

    def _optional(self, name, mmap_mode=None):
        path = os.path.join(self.folder, name)
        return np.load(path, mmap_mode=mmap_mode) if os.path.exists(path) else None

    @property
    def views(self):
        return self.features.shape[1]

    def _gather(self, indices, views):
        batch = {"features": self.features[indices, views].astype(np.float32)}
        if self.targets is not None:
            order = np.argsort(indices)  # a memory map reads fastest in order
            targets = np.empty((len(indices), *self.targets.shape[2:]), np.uint8)
            targets[order] = self.targets[indices[order], views[order]]
            batch["recon_target"] = targets.astype(np.float32) / 255.0
        if self.prior is not None:
            batch["prior"] = self.prior[indices, views]
        batch.update({key: value[indices].astype(np.float32) for key, value in self.labels.items()})
        return batch

    def _batches(self, indices, views, batch_size, drop_remainder):
        spec = self._gather(self.valid[:1], np.zeros(1, np.int64))
        keys = sorted(spec)

        def gather(i, v):
            batch = self._gather(i, v)
            return [batch[key] for key in keys]

        def to_dict(i, v):
            values = tf.numpy_function(gather, [i, v], [tf.float32] * len(keys), stateful=False)
            return {key: tf.ensure_shape(value, [None, *spec[key].shape[1:]]) for key, value in zip(keys, values)}

        ds = tf.data.Dataset.from_tensor_slices((indices, views)).batch(batch_size, drop_remainder=drop_remainder)
        return ds.map(to_dict, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)

    def epoch_dataset(self, batch_size, seed, shard=(1, 0)):
        """One epoch of this worker's shard: shuffled images, one stored view each, repeated.

        ``seed`` fixes the order and the views (pipeline.epoch_seed of the epoch), so a
        resumed epoch replays the same batches.
        """
        rng = np.random.default_rng(seed)
        indices = rng.permutation(self.valid[shard[1] :: shard[0]])
        if len(indices) < batch_size:  # else the repeated, empty epoch would never end
            raise SettingsError(f"The feature cache {self.folder} has {len(indices)} readable images for this worker, "
                                f"fewer than a batch ({batch_size}): lower --batch_size.")  # fmt: skip
        views = rng.integers(0, self.views, size=len(indices))
        return self._batches(indices, views, batch_size, drop_remainder=True).repeat().prefetch(tf.data.AUTOTUNE)

    def eval_dataset(self, batch_size):
        """Every readable image once, in order, at the evaluation view (view 0)."""
        views = np.zeros(len(self.valid), np.int64)
        return self._batches(self.valid, views, batch_size, drop_remainder=False).prefetch(tf.data.AUTOTUNE)


def manifest_of(model, split, image_size, views, seed, with_targets):
    """What a cache of ``split`` encoded by ``model``'s backbone must have been made from."""
    return {
        "version": VERSION,
        "backbone": model.config.backbone,
        "backbone_digest": weights_digest(model.backbone),
        "image_size": image_size,
        "recon_size": model.config.recon_size if with_targets else 0,
        "views": views,
        "seed": seed,
        "split": fingerprint(split),
        "prior": _prior_source(model, split),
    }


def _prior_source(model, split):
    """Where the cached p(z|x) comes from: the prior network (its digest), the split's cache, or nowhere."""
    if getattr(model, "prior_network", None) is not None:
        return weights_digest(model.prior_network)
    return "split" if isinstance(split, dict) and "prior" in split else None


def open_or_encode(model, split, folder, views, batch_size, seed=0, skip_log=None):
    """The cache of ``split`` in ``folder``: reused when its manifest matches, else encoded (see encode)."""
    with_targets = model.config.objective == "pear" and getattr(model, "lambda_recon", 0.0) != 0.0
    expected = manifest_of(model, split, model.config.image_size, views, seed, with_targets)
    path = os.path.join(folder, MANIFEST)
    if os.path.exists(path):
        with open(path) as f:
            if json.load(f) == expected:
                print(f"Feature cache: reusing {folder} ({views} view(s) an image).")
                return FeatureCache(folder)
    encode(model, split, folder, expected, batch_size, SkipLog() if skip_log is None else skip_log)
    return FeatureCache(folder)


def encode(model, split, folder, manifest, batch_size, skip_log):
    """Runs the frozen backbone (and prior) over every view of every image of ``split`` into ``folder``."""
    os.makedirs(folder, exist_ok=True)
    if os.path.exists(os.path.join(folder, MANIFEST)):
        os.remove(os.path.join(folder, MANIFEST))  # written last: a half-written cache is never reused
    size, views, seed = manifest["image_size"], manifest["views"], manifest["seed"]
    count = pipeline.split_size(split)
    if count is None:
        count = int(split.reduce(0, lambda n, _: n + 1))
    ds = pipeline.read_images(pipeline.examples(_indexed(split)), skip_log)
    ds = ds.map(lambda ex: {**ex, "image": views_of(ex["image"], ex["index"], size, views, seed)},
                num_parallel_calls=tf.data.AUTOTUNE, deterministic=True).batch(batch_size)  # fmt: skip
    arrays = _Arrays(folder, model, count, views, manifest["recon_size"], ds.element_spec)
    recon_size = manifest["recon_size"]

    @tf.function(reduce_retracing=True)
    def step(images):
        return _encode_batch(model, images, recon_size)

    progbar = keras.utils.Progbar(-(-count // batch_size), unit_name="batch")
    print(f"Feature cache: encoding {count} images × {views} view(s) into {folder}")
    for i, batch in enumerate(ds):
        arrays.write(batch, {key: value.numpy() for key, value in step(batch["image"]).items()})
        progbar.update(i + 1)
    arrays.close()
    with open(os.path.join(folder, MANIFEST), "w") as f:
        json.dump(manifest, f, indent=2, sort_keys=True)


def _encode_batch(model, images, recon_size):
    """Features (and reconstruction targets, prior outputs) of a batch of view stacks [B, V, S, S, 3]."""
    shape = tf.shape(images)
    flat = tf.reshape(images, tf.concat([[-1], shape[2:]], axis=0))
    features = model.backbone(flat, training=False)
    out = {"features": tf.reshape(tf.cast(features, tf.float32), [shape[0], shape[1], -1])}
    if recon_size:
        target = tf.clip_by_value(tf.image.resize(flat / 255.0, [recon_size, recon_size]), 0.0, 1.0)
        target = tf.cast(tf.round(target * 255.0), tf.uint8)
        out["targets"] = tf.reshape(target, [shape[0], shape[1], recon_size, recon_size, 3])
    if getattr(model, "prior_network", None) is not None:
        out["prior"] = tf.reshape(model.prior_network(flat, training=False), [shape[0], shape[1], -1])
    return out


class _Arrays:
    """The cache's .npy files, written batch by batch through memory maps."""

    def __init__(self, folder, model, count, views, recon_size, spec):
        width = model.backbone.output.shape[-1]
        self.files = {"features": self._open(folder, "features", (count, views, width), np.float16)}
        if recon_size:
            self.files["targets"] = self._open(folder, "targets", (count, views, recon_size, recon_size, 3), np.uint8)
        self.prior_from_split = "prior" in spec and getattr(model, "prior_network", None) is None
        if getattr(model, "prior_network", None) is not None or self.prior_from_split:
            self.files["prior"] = self._open(folder, "prior", (count, views, model.config.num_attributes), np.float32)
        for key in LABELS:
            if key in spec:
                self.files[key] = self._open(folder, key, (count, *spec[key].shape[1:]), np.float32)
        self.files["valid"] = self._open(folder, "valid", (count,), np.bool_)
        self.files["valid"][:] = False
        self.views = views

    @staticmethod
    def _open(folder, name, shape, dtype):
        return np.lib.format.open_memmap(os.path.join(folder, f"{name}.npy"), mode="w+", dtype=dtype, shape=shape)

    def write(self, batch, encoded):
        index = batch["index"].numpy()
        for key, value in encoded.items():
            self.files[key][index] = value
        if self.prior_from_split:
            self.files["prior"][index] = np.repeat(batch["prior"].numpy()[:, None], self.views, axis=1)
        for key in LABELS:
            if key in self.files:
                self.files[key][index] = batch[key].numpy()
        self.files["valid"][index] = True

    def close(self):
        for array in self.files.values():
            array.flush()
        self.files.clear()
