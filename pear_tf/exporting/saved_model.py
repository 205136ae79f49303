"""SavedModel export for TF Serving: scoring signatures with preprocessing inside the graph.

Signatures (DESIGN.md §6): ``serving_default`` takes encoded image bytes
(``image_bytes``, tf.string [batch]: JPEG, PNG, GIF, BMP, WebP; the one decode of
pear_tf/data/decode.py in the graph, EXIF orientation included); ``predict_pixels`` takes
decoded upright RGB pixels (``pixels``, uint8 [batch, H, W, 3], any H and W: what a client
decoded itself, e.g. a TIFF or HEIC); ``predict_images`` takes preprocessed float32
images (``images`` [batch, S, S, 3], RGB 0..255). All return ``score``,
``score_std``, ``distribution``, ``attributes`` and ``content`` (the content latent's
mean μ, what personalisation builds on; a Table 1 baseline, which has no latents,
returns neither; its metadata lists its outputs). Only the scoring parts of the
model are saved: not the reconstruction head, not the prior network.
"""

import dataclasses
import json
import os
import shutil
import tempfile

import tensorflow as tf

import pear_tf
from pear_tf import errors
from pear_tf.attributes import ATTRIBUTE_NAMES
from pear_tf.config import ModelConfig
from pear_tf.data import decode
from pear_tf.data.preprocessing import preprocess, resize_size
from pear_tf.exporting import bfloat16, run_images
from pear_tf.model import build_rating_model
from pear_tf.inference.versions import METADATA_FILE, list_versions


class ScoringModule(tf.Module):
    """The exported object: PEAR's scoring path plus the metadata asset."""

    def __init__(self, model, mc_samples, metadata_path, max_pixels=decode.MAX_PIXELS):
        super().__init__()
        size = model.config.image_size
        side = resize_size(size)
        # The raw tf.Variables behind the Keras layers, not the layers: the TF1 session
        # loader (what TF Serving runs) finds variables only when tracked this way.
        self.scoring_variables = [v.value for part in model.scoring_layers() for v in part.variables]
        self.metadata = tf.saved_model.Asset(metadata_path)
        # PEAR also returns ``content`` (μ of s): what personalisation's taste space is built on.
        content = model.config.objective == "pear"
        score = lambda images: model.score(images, mc_samples=mc_samples, with_content=content)  # noqa: E731

        image_spec = tf.TensorSpec([size, size, 3], tf.float32)

        @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="image_bytes")])
        def serve_bytes(image_bytes):
            decode_one = lambda data: preprocess(decode.decode_image(data, side, max_pixels), size)  # noqa: E731
            return score(tf.map_fn(decode_one, image_bytes, fn_output_signature=image_spec))

        @tf.function(input_signature=[tf.TensorSpec([None, None, None, 3], tf.uint8, name="pixels")])
        def predict_pixels(pixels):
            return score(tf.map_fn(lambda image: preprocess(image, size), pixels, fn_output_signature=image_spec))

        @tf.function(input_signature=[tf.TensorSpec([None, size, size, 3], tf.float32, name="images")])
        def predict_images(images):
            return score(images)

        # For TFLite: the same outputs without Monte-Carlo sampling (score_std is 0), since
        # TFP's stateless random ops are not TFLite builtins. Saved, but not a signature.
        @tf.function(input_signature=[tf.TensorSpec([1, size, size, 3], tf.float32, name="images")])
        def predict_images_deterministic(images):
            return model.score(images, mc_samples=0, with_content=content)

        self.serve_bytes = serve_bytes
        self.predict_pixels = predict_pixels
        self.predict_images = predict_images
        self.predict_images_deterministic = predict_images_deterministic


def export_metadata(model, dataset, extra=None, max_pixels=decode.MAX_PIXELS):
    """What a client needs to read the outputs and to preprocess the same way."""
    size = model.config.image_size
    has_attributes = model.config.objective == "pear"
    return {
        "pear_tf_version": pear_tf.__version__,
        "dataset": dataset,
        "bin_values": list(model.config.bin_values),
        "objective": model.config.objective,
        "outputs": ["score", "score_std", "distribution"] + (["attributes", "content"] if has_attributes else []),
        "attribute_names": list(ATTRIBUTE_NAMES) if has_attributes else [],
        "model_config": json.loads(model.config.to_json()),
        "preprocessing": {
            "decode": (
                "upright RGB: EXIF orientation applied (JPEG APP1, PNG eXIf, WebP EXIF); grey expanded; "
                f"transparency composited on grey {decode.NEUTRAL_GREY:g}; 16-bit scaled to 8 (high byte); "
                "first GIF frame; a JPEG whose short side is at least 2x the resize side is decoded at the largest "
                "DCT scale (1/2, 1/4, 1/8) that keeps it at least the resize side"
            ),
            "formats_in_graph": list(decode.GRAPH_FORMATS),
            "host_only": (
                "TIFF, HEIC/HEIF, AVIF and ICC colour profiles (converted to sRGB) are decoded on the host "
                "(pear_tf.data.host_decode); send their upright RGB pixels to the predict_pixels signature"
            ),
            "max_pixels": max_pixels,
            "resize": [resize_size(size), resize_size(size)],
            "resize_method": "bilinear, antialiased, aspect ratio not kept",
            "crop": "centre",
            "input_size": [size, size],
            "input_range": "float32 RGB 0..255",
        },
        **(extra or {}),
    }


def export_saved_model(model, export_dir, metadata, mc_samples=16, precision="float32", check_images=None):
    """Writes the next numbered version of ``export_dir`` atomically and returns its path.

    The graph refuses images declaring more than ``metadata["preprocessing"]["max_pixels"]``.
    ``precision``: float32, bfloat16 or auto (issue 25, exporting/bfloat16.py): a bfloat16 model is
    checked against float32 on real images (``check_images``: (images, what they are) besides the
    package photos) before anything is written; the metadata records the precision and the check.
    """
    model, metadata = bfloat16.with_precision(model, metadata, precision, check_images)
    max_pixels = metadata.get("preprocessing", {}).get("max_pixels", decode.MAX_PIXELS)
    return write_version(
        export_dir, metadata, lambda metadata_path: ScoringModule(model, mc_samples, metadata_path, max_pixels)
    )


def write_version(export_dir, metadata, make_module):
    """Saves ``make_module(metadata_path)`` as the next version of ``export_dir``; returns its path.

    The module has ``serve_bytes``, ``predict_images`` and (modules of this version of pear_tf)
    ``predict_pixels``: the signatures; it keeps the metadata asset. The SavedModel is written into a hidden folder beside the
    versions and renamed into place, so a server polling ``export_dir`` never sees half a
    model.
    """
    os.makedirs(export_dir, exist_ok=True)
    staging = tempfile.mkdtemp(prefix=".export-", dir=export_dir)
    try:
        metadata_path = os.path.join(staging, METADATA_FILE)
        with open(metadata_path, "w") as f:
            json.dump(metadata, f, indent=2, sort_keys=True)
        module = make_module(metadata_path)
        saved = os.path.join(staging, "model")
        signatures = {"serving_default": module.serve_bytes, "predict_images": module.predict_images}
        if getattr(module, "predict_pixels", None) is not None:
            signatures["predict_pixels"] = module.predict_pixels
        tf.saved_model.save(module, saved, signatures=signatures)
        while True:
            versions = list_versions(export_dir)
            target = os.path.join(export_dir, str((versions[-1] if versions else 0) + 1))
            try:
                os.rename(saved, target)
                return target
            except OSError:
                if not os.path.exists(target):
                    raise
                # Another export took this number first: take the next one.
    finally:
        shutil.rmtree(staging, ignore_errors=True)


EPOCHS = ("last", "best")


def restore_model(model_dir, epoch="last", image_size=None):
    """The model trained in ``model_dir`` (PEAR or a baseline), rebuilt from model_config.json.

    Args:
      epoch: "last" (the latest checkpoint) or "best" (the epoch with the best validation
        SRCC, ``<model_dir>/best/``: what train's ``--export=best`` exports).
      image_size: build the network for another input side than it was trained at (the
        backbones are convolutional with global pooling, so every weight fits). Its scores
        then mean little; benchmarks use it to time a trained network at phone sizes.

    Returns:
      (model, the checkpoint path restored).
    """
    if epoch not in EPOCHS:
        raise errors.BadValue(f"epoch={epoch!r} is not one of {EPOCHS}.")
    config_path = os.path.join(model_dir, "model_config.json")
    folder = os.path.join(model_dir, "checkpoints" if epoch == "last" else "best")
    latest = tf.train.latest_checkpoint(folder)
    if not os.path.exists(config_path) or latest is None:
        raise errors.NotFound(
            f"--model_dir={model_dir!r} is not a finished pear_tf.train run: it needs model_config.json and "
            + ("checkpoints/." if epoch == "last" else "best/ (a run that validated at least one epoch).")
        )
    with open(config_path) as f:
        config = ModelConfig.from_json(f.read())
    # No weights download: every weight comes from the checkpoint.
    config = dataclasses.replace(config, backbone_weights=None, image_size=image_size or config.image_size)
    model = build_rating_model(config)
    model.build_all()
    tf.train.Checkpoint(model=model).restore(latest).expect_partial().assert_existing_objects_matched()
    return model, latest


def run_metadata(model, model_dir, checkpoint, max_pixels=decode.MAX_PIXELS):
    """Export metadata from a run folder: its flags, test metrics and data set."""
    extra = {"checkpoint": checkpoint}
    flags_path = os.path.join(model_dir, "flags.txt")
    if os.path.exists(flags_path):
        with open(flags_path) as f:
            extra["training_flags"] = f.read().splitlines()
    metrics_path = os.path.join(model_dir, "eval_metrics.json")
    if os.path.exists(metrics_path):
        with open(metrics_path) as f:
            extra["metrics"] = json.load(f)
    dataset = next(
        (line.split("=", 1)[1] for line in extra.get("training_flags", []) if line.startswith("--dataset=")), ""
    )
    return export_metadata(model, dataset, extra, max_pixels)


def export_run(model_dir, export_dir, mc_samples=16, epoch="last", image_size=None, max_pixels=decode.MAX_PIXELS,
               precision="float32"):  # fmt: skip
    """Exports a training run's ``epoch`` ("last" or "best") as the next version of ``export_dir``; returns its path.

    ``image_size``: build it for another input side (see restore_model; benchmarks only).
    ``max_pixels``: the graph refuses images whose header declares more.
    ``precision``: see export_saved_model; the bfloat16 check also scores the run's validation images.
    """
    model, checkpoint = restore_model(model_dir, epoch, image_size)
    metadata = run_metadata(model, model_dir, checkpoint, max_pixels)
    check_images = None
    if bfloat16.resolve(precision)[0] == "bfloat16":
        images, what = run_images.validation_images(model_dir, model.config.image_size)
        check_images = None if images is None else (images, what)
        if images is None:
            print(f"The bfloat16 check scores the package photos only: {what}.")
    path = export_saved_model(model, export_dir, metadata, mc_samples, precision, check_images)
    print(f"Exported {checkpoint} to {path}")
    return path
