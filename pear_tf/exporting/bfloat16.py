"""A bfloat16 copy of a trained model for export, and the check that it still ranks as float32 does.

The copy is the same network built under Keras' ``mixed_bfloat16`` policy: the backbone's
layers compute in bfloat16 (AMX and AVX512-BF16 run those convolutions natively), the latents
and heads stay float32 (they are built float32 under any policy), and every output is float32.
Its weights are the float32 model's, copied, with each batch normalisation that follows a
biased convolution folded into it (``fold_batch_norms``: Keras would compute it in float32);
a float32 export folds them the same way (the ratio between the two is then bfloat16's alone).
(A model trained with --mixed_precision is such a copy already; a float32 export of it is
rebuilt in float32 the same way.) Before such a model is written,
``check_agreement`` scores real photographs with both (the package photos below, in several
views each, plus a training run's own validation images when there are some) and refuses a
copy whose ranking falls below Spearman ``MIN_SPEARMAN``.
"""

import dataclasses

import keras
import numpy as np
import tensorflow as tf
from scipy import stats

from pear_tf.data.preprocessing import preprocess
from pear_tf.inference.precision import resolve
from pear_tf.model import build_rating_model

MIN_SPEARMAN = 0.999
# Photographs that ship inside scikit-learn and scikit-image (no download): the check's own images.
SKLEARN_PHOTOS = ("china", "flower")
SKIMAGE_PHOTOS = ("astronaut", "coffee", "chelsea", "rocket", "hubble_deep_field", "immunohistochemistry",
                  "camera", "moon")  # fmt: skip


class PrecisionCheckError(RuntimeError):
    """The bfloat16 model does not keep the float32 model's ranking; nothing was written."""


class Float32Outputs:
    """A model whose ``score`` outputs are float32 whatever its layers compute in; the rest is the model's."""

    def __init__(self, model):
        self.model = model

    def score(self, images, **kwargs):
        return {key: tf.cast(value, tf.float32) for key, value in self.model.score(images, **kwargs).items()}

    def __getattr__(self, name):
        return getattr(self.model, name)


def compute_precision(model):
    """What ``model``'s backbone computes in: "bfloat16" (built under mixed_bfloat16) or "float32"."""
    return "bfloat16" if model.backbone.compute_dtype == "bfloat16" else "float32"


def model_in(model, precision, fold=False):
    """The same network computing in ``precision``, weights copied (``model`` itself for float32 of float32
    when there is nothing to fold).

    bfloat16: built under mixed_bfloat16, its stem kept float32 (keep_stem_float32), outputs cast to
    float32. A model trained with --mixed_precision computes in bfloat16: its float32 copy is what a
    float32 export writes. ``fold``: batch normalisations folded into their convolutions
    (fold_batch_norms; what an export writes, in either precision).
    """
    if precision == compute_precision(model) == "float32" and not (fold and _fold_pairs(model.backbone)):
        return model
    previous = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy("mixed_bfloat16" if precision == "bfloat16" else "float32")
    try:
        # No weights download: every weight is copied from ``model``.
        twin = build_rating_model(dataclasses.replace(model.config, backbone_weights=None))
        twin.build_all()
    finally:
        keras.mixed_precision.set_global_policy(previous)
    for source, target in zip(model.scoring_layers(), twin.scoring_layers(), strict=True):
        target.set_weights(source.get_weights())
    if precision == "bfloat16":
        keep_stem_float32(twin.backbone)
    if fold:
        fold_batch_norms(twin.backbone)
    return Float32Outputs(twin) if precision == "bfloat16" else twin


def flat_layers(model):
    """The layers of a model in its order, nested models opened."""
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            yield from flat_layers(layer)
        else:
            yield layer


def keep_stem_float32(backbone):
    """Computes the backbone's stem in float32: every layer up to its first convolution, that convolution
    and the normalisation and activation right after it. Returns their names.

    The stem sees the input pixels after mean subtraction, where bfloat16's 8 significant bits are a
    step of 0.5 on a 0..255 scale; measured on a trained ResNet50 (notes/issue-25.md), keeping it
    float32 cut the bfloat16 copy's score error by a third for ~3% of the network's work.
    """
    names, convolved = [], False
    for layer in flat_layers(backbone):
        if isinstance(layer, keras.layers.InputLayer):
            continue
        after_conv = isinstance(layer, (keras.layers.BatchNormalization, keras.layers.Activation, keras.layers.ReLU))
        if convolved and not after_conv:
            break
        layer.dtype_policy = "float32"
        names.append(layer.name)
        convolved = convolved or isinstance(layer, keras.layers.Conv2D)
    return names


def _identity(inputs, training=None, mask=None):
    del training, mask
    return inputs


def _single(layer, attribute):
    """A layer's only input or output tensor; None for a layer called more than once (no single one)."""
    try:
        return getattr(layer, attribute)
    except (AttributeError, ValueError):
        return None


def _foldable(conv, norm):
    """Whether ``norm``, which reads ``conv``'s output, normalises per output channel, is ``conv``'s only
    reader, and ``conv`` has a bias to take the shift."""
    return (
        type(conv) is keras.layers.Conv2D
        and conv.use_bias
        and norm.axis in (-1, 3)
        and norm.center
        and norm.scale
        and len(conv._outbound_nodes) == 1  # noqa: SLF001 - Keras keeps a layer's consumers only there
    )


def _fold_pairs(backbone):
    """[(Conv2D, the BatchNormalization that reads only its output)] that fold_batch_norms folds."""
    layers = [layer for layer in flat_layers(backbone) if not isinstance(layer, keras.layers.InputLayer)]
    producers = {id(_single(layer, "output")): layer for layer in layers if isinstance(layer, keras.layers.Conv2D)}
    producers.pop(id(None), None)  # layers called more than once have no single output
    norms = [layer for layer in layers if isinstance(layer, keras.layers.BatchNormalization)]
    pairs = [(producers.get(id(_single(norm, "input"))), norm) for norm in norms]
    return [(conv, norm) for conv, norm in pairs if conv is not None and _foldable(conv, norm)]


def fold_batch_norms(backbone):
    """Folds every inference-mode BatchNormalization that follows a biased Conv2D into it; returns their names.

    Keras computes a normalisation as separate element-wise ops, in float32 whatever the policy
    (under mixed_bfloat16 an up-cast, four passes and a down-cast per layer: in ResNet50, 53 of them
    between the convolutions), which keeps oneDNN from fusing convolution, bias and ReLU. Folded
    (kernel·s, (bias − mean)·s + beta with s = gamma/√(variance + ε), computed in float64), the
    convolution does it and the normalisation layer passes its input through. Only for an export's
    copy (changed in place); backbones whose convolutions have no bias (the tiny one, MobileNetV3,
    EfficientNet) keep theirs.
    """
    folded = []
    for conv, norm in _fold_pairs(backbone):
        kernel, bias = (np.asarray(w, np.float64) for w in conv.get_weights())
        gamma, beta, mean, variance = (np.asarray(w, np.float64) for w in norm.get_weights())
        scale = gamma / np.sqrt(variance + norm.epsilon)
        conv.set_weights([kernel * scale, (bias - mean) * scale + beta])
        norm.call = _identity
        folded.append(norm.name)
    return folded


def views(pixels):
    """Seven views of one photo (uint8 [H, W, 3]): whole, four corners and the centre at 2/3 and 1/2 side, mirrored."""
    height, width = pixels.shape[:2]
    h, w = 2 * height // 3, 2 * width // 3
    corners = [pixels[:h, :w], pixels[:h, -w:], pixels[-h:, :w], pixels[-h:, -w:]]
    centre = pixels[height // 4 : height // 4 + height // 2, width // 4 : width // 4 + width // 2]
    return [pixels, *corners, centre, pixels[:, ::-1]]


def package_photos():
    """{name: uint8 RGB [H, W, 3]} of the photographs scikit-learn and scikit-image ship (those installed)."""
    photos = {}
    try:
        from sklearn.datasets import load_sample_image

        photos.update({name: load_sample_image(f"{name}.jpg") for name in SKLEARN_PHOTOS})
    except ImportError:
        pass
    try:
        import skimage.data
    except ImportError:
        return photos
    for name in SKIMAGE_PHOTOS:
        try:
            pixels = np.asarray(getattr(skimage.data, name)())
        except Exception:  # noqa: BLE001 - a photo this version lacks or would download: the others do
            continue
        photos[name] = np.repeat(pixels[..., None], 3, -1) if pixels.ndim == 2 else pixels[..., :3]
    return photos


def check_images(image_size, extra_images=None):
    """(preprocessed float32 [N, S, S, 3], a description) of the package photos' views plus ``extra_images``.

    Args:
      extra_images: (preprocessed images [M, S, S, 3], what they are), e.g. a run's validation images.
    """
    photos = package_photos()
    images = [preprocess(np.ascontiguousarray(view), image_size).numpy() for p in photos.values() for view in views(p)]
    parts = [f"{len(images)} views of {len(photos)} package photos ({', '.join(photos)})"] if photos else []
    if extra_images is not None and len(extra_images[0]):
        images.extend(np.asarray(extra_images[0], np.float32))
        parts.append(f"{len(extra_images[0])} {extra_images[1]}")
    if len(images) < 10:
        raise PrecisionCheckError(
            "The bfloat16 check needs real images: install scikit-learn and scikit-image (their bundled photos), "
            "or export a training run folder (its validation images are used)."
        )
    return np.stack(images), "; ".join(parts)


def scores(model, images, batch_size=16):
    """(score [N], attributes [N, k] or None) of preprocessed images, deterministic (no latent samples)."""
    size = model.config.image_size
    spec = tf.TensorSpec([None, size, size, 3], tf.float32)
    run = tf.function(lambda batch: model.score(batch, mc_samples=0), input_signature=[spec])
    outputs = [run(tf.constant(images[i : i + batch_size])) for i in range(0, len(images), batch_size)]
    attributes = [o["attributes"].numpy() for o in outputs if "attributes" in o]
    return np.concatenate([o["score"].numpy() for o in outputs]), np.concatenate(attributes) if attributes else None


def check_agreement(model, twin, images, description, min_spearman=None):
    """Scores ``images`` with the float32 ``model`` and its bfloat16 ``twin``; raises PrecisionCheckError below the bar.

    ``min_spearman``: the bar (default MIN_SPEARMAN, 0.999).

    Returns:
      The record stored in the metadata: ``reference`` (float32), ``spearman``, ``max_abs_score_diff``,
      ``max_abs_attribute_diff`` (None for a baseline), ``images``, ``image_sources``, ``min_spearman``.
    """
    min_spearman = MIN_SPEARMAN if min_spearman is None else min_spearman
    reference, reference_attributes = scores(model, images)
    candidate, candidate_attributes = scores(twin, images)
    spearman = float(stats.spearmanr(candidate, reference)[0])
    record = {
        "reference": "float32",
        "spearman": spearman,
        "max_abs_score_diff": float(np.abs(candidate - reference).max()),
        "max_abs_attribute_diff": None
        if reference_attributes is None
        else float(np.abs(candidate_attributes - reference_attributes).max()),
        "reference_score_std": float(np.std(reference)),
        "images": int(len(images)),
        "image_sources": description,
        "min_spearman": min_spearman,
    }
    print(
        f"bfloat16 against float32 on {len(images)} real images ({description}): Spearman {spearman:.5f}, "
        f"max |Δscore| {record['max_abs_score_diff']:.4f} (float32 scores: std {record['reference_score_std']:.4f})"
    )
    if not spearman >= min_spearman:
        raise PrecisionCheckError(
            f"The bfloat16 model does not keep the float32 ranking (Spearman {spearman:.5f} < {min_spearman}); "
            "nothing was written. Export it in float32 (--precision=float32)."
        )
    return record


def with_precision(model, metadata, precision, extra_images=None):
    """(the model to export, its metadata) for ``--precision`` (float32, bfloat16 or auto).

    ``auto`` is decided by the machine that exports (inference/precision.py); the metadata keeps
    what was asked, what was chosen and why, and for bfloat16 the agreement check's record.
    Raises PrecisionCheckError (nothing to write) when the bfloat16 copy fails the check.
    """
    chosen, reason = resolve(precision)
    record = {"precision": chosen, "precision_asked": precision, "precision_reason": reason}
    if chosen == "float32":
        return model_in(model, "float32", fold=True), {**metadata, **record}
    reference = model_in(model, "float32")  # unfolded: the check sees the fold's error too
    twin = model_in(model, "bfloat16", fold=True)
    images, description = check_images(model.config.image_size, extra_images)
    record["precision_check"] = check_agreement(reference, twin, images, description)
    return twin, {**metadata, **record}
