"""A personalised SavedModel: the generic model's signatures with the person's correction in the graph.

The generic SavedModel is loaded and wrapped, not rebuilt: its scoring functions and
variables are saved again inside a module that adds the correction, so the personalised
model has the same signatures (serving_default, predict_images, and
predict_images_deterministic for TFLite), the same outputs and the same metadata keys, and
predict, evaluate, serve, Beam and TFLite read it unchanged.

Outputs: ``score`` = a + b·[generic score, attributes, content] (the Taste's linear map,
pear_tf.personal.adapt), clipped to the bins; exactly the generic score when the evidence
chose no correction. ``distribution`` is the generic distribution exponentially tilted
(p ∝ p·e^{λv}) so that its mean is that score; ``score_std`` adds the correction's
posterior uncertainty to the generic Monte-Carlo std; ``attributes`` and ``content`` are
the generic ones (what the photo shows does not depend on who looks).
"""


import tensorflow as tf
from absl import logging

from pear_tf import errors
from pear_tf.exporting.saved_model import write_version
from pear_tf.inference.versions import latest_version_dir

# Newton steps of the tilt; fixed (a TFLite-friendly unrolled loop), ample for |λ| of a few.
TILT_STEPS = 12


def tilt(distribution, bins, target):
    """The distribution p·e^{λv}/Z whose mean is ``target`` (per row), by Newton's method on λ."""
    log_p = tf.math.log(tf.maximum(distribution, 1e-12))
    lam = tf.zeros_like(target)
    for _ in range(TILT_STEPS):
        tilted = tf.nn.softmax(log_p + lam[:, None] * bins[None, :], axis=-1)
        mean = tf.reduce_sum(tilted * bins, axis=-1)
        variance = tf.reduce_sum(tilted * tf.square(bins - mean[:, None]), axis=-1)
        lam = tf.clip_by_value(lam - (mean - target) / tf.maximum(variance, 1e-3), -30.0, 30.0)
    return tf.nn.softmax(log_p + lam[:, None] * bins[None, :], axis=-1)


class PersonalModule(tf.Module):
    """The generic model's scoring functions followed by one person's correction."""

    def __init__(self, generic, taste, bin_values, image_size, metadata_path):
        super().__init__()
        self.generic_variables = list(generic.scoring_variables)
        self.generic_serve = generic.serve_bytes
        self.generic_predict = generic.predict_images
        self.generic_deterministic = generic.predict_images_deterministic
        self.metadata = tf.saved_model.Asset(metadata_path)
        intercept, coefficients = taste.linear()
        width = len(coefficients)  # 12 raw features, or 12 + content's when the space has content
        intercept, coefficients = tf.constant(intercept, tf.float32), tf.constant(coefficients, tf.float32)
        raw_mean = tf.constant(taste.space.raw_mean, tf.float32)
        to_taste = tf.constant(taste.space.projection[:, 1:], tf.float32)
        covariance = tf.constant(taste.correction_covariance(), tf.float32)
        bins = tf.constant(bin_values, tf.float32)

        def adapt(outputs):
            parts = [outputs["score"][:, None], outputs["attributes"]] + ([outputs["content"]] if width > 12 else [])
            raw = tf.concat(parts, axis=-1)
            score = tf.clip_by_value(intercept + tf.linalg.matvec(raw, coefficients), bins[0], bins[-1])
            offset = tf.linalg.matmul(raw - raw_mean, to_taste)
            variance = tf.reduce_sum(tf.linalg.matmul(offset, covariance) * offset, axis=-1)
            adapted = {
                "score": score,
                "score_std": tf.sqrt(tf.square(outputs["score_std"]) + variance),
                "distribution": tilt(outputs["distribution"], bins, score),
                "attributes": outputs["attributes"],
            }
            return {**adapted, **({"content": outputs["content"]} if "content" in outputs else {})}

        @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="image_bytes")])
        def serve_bytes(image_bytes):
            return adapt(self.generic_serve(image_bytes))

        @tf.function(input_signature=[tf.TensorSpec([None, image_size, image_size, 3], tf.float32, name="images")])
        def predict_images(images):
            return adapt(self.generic_predict(images))

        @tf.function(input_signature=[tf.TensorSpec([1, image_size, image_size, 3], tf.float32, name="images")])
        def predict_images_deterministic(images):
            return adapt(self.generic_deterministic(images))

        self.serve_bytes = serve_bytes
        self.predict_images = predict_images
        self.predict_images_deterministic = predict_images_deterministic
        self.predict_pixels = None
        if hasattr(generic, "predict_pixels"):  # generic models exported before issue 22 lack it
            self.generic_pixels = generic.predict_pixels

            @tf.function(input_signature=[tf.TensorSpec([None, None, None, 3], tf.uint8, name="pixels")])
            def predict_pixels(pixels):
                return adapt(self.generic_pixels(pixels))

            self.predict_pixels = predict_pixels


def export_personal(generic_path, taste, metadata, export_dir):
    """Writes the personalised model as the next version of ``export_dir`` (atomically); returns its path."""
    generic = tf.saved_model.load(latest_version_dir(generic_path))
    for name in ("serve_bytes", "predict_images", "predict_images_deterministic", "scoring_variables"):
        if not hasattr(generic, name):
            raise errors.BadValue(f"{generic_path} lacks {name!r}: export the generic model again with pear_tf.")
    size = int(metadata["model_config"]["image_size"])
    # Saving restored functions logs (at INFO) every captured variable it renames: hundreds of lines.
    verbosity = logging.get_verbosity()
    logging.set_verbosity(logging.WARNING)
    try:
        return write_version(
            export_dir,
            metadata,
            lambda metadata_path: PersonalModule(generic, taste, metadata["bin_values"], size, metadata_path),
        )
    finally:
        logging.set_verbosity(verbosity)
