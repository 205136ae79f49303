"""Does a .tflite model keep its SavedModel's ranking? The export's check before an app gets it."""

import numpy as np
import tensorflow as tf
from scipy import stats

from pear_tf.exporting.representative import representative_images
from pear_tf.inference.tflite import TFLiteScorer, as_input


class AgreementError(RuntimeError):
    """A .tflite file fails the export's acceptance: its ranking falls below the bar (the file is kept
    for inspection), or, as the subclasses say, it loses the ratings or no variant passes."""


def reference_scores(saved_model_dir, images):
    """The SavedModel's ``predict_images`` scores of ``images`` [N, S, S, 3] (float 0..255)."""
    signature = tf.saved_model.load(saved_model_dir).signatures["predict_images"]
    batches = [tf.constant(images[i : i + 25], tf.float32) for i in range(0, len(images), 25)]
    return np.concatenate([signature(images=batch)["score"].numpy() for batch in batches])


def tflite_scores(tflite_path, images):
    """The .tflite model's scores of ``images``, one invoke each."""
    scorer = TFLiteScorer(tflite_path)
    return np.array([float(scorer.score(image)["score"]) for image in images])


def agreement(saved_model_dir, tflite_path, images, reference=None):
    """How far a .tflite model's scores are from the SavedModel's on ``images`` [N, S, S, 3].

    A model with uint8 input sees the images rounded to uint8, and so does the SavedModel
    here: the comparison is of the two models, not of the rounding.

    Args:
      reference: the SavedModel's scores of these images, if already computed.

    Returns:
      A dict: ``spearman`` (rank agreement of the scores), ``max_abs_score`` (largest
      |Δscore|), ``reference_std`` (the SavedModel's spread of scores: a ranking spread
      over less than int8's resolution cannot survive it) and ``images``; plus ``scores``
      and ``reference``, the two score arrays.
    """
    if TFLiteScorer(tflite_path).input_type == "uint8":
        images = as_input(images, "uint8").astype(np.float32)
    if reference is None:
        reference = reference_scores(saved_model_dir, images)
    scores = tflite_scores(tflite_path, images)
    return {
        "spearman": float(stats.spearmanr(scores, reference)[0]),
        "max_abs_score": float(np.abs(scores - reference).max()),
        "reference_std": float(np.std(reference)),
        "images": len(images),
        "scores": scores,
        "reference": reference,
    }


def held_out_images(source, image_size, count, calibrated=0):
    """The check's images and where they come from: after the ``calibrated`` ones in a folder,
    or synthetic images of another seed than the calibration's.

    Returns:
      (images [N, S, S, 3], a phrase saying whether they are held out).
    """
    try:
        return representative_images(source, image_size, count, seed=1, skip=calibrated), "held-out"
    except ValueError:  # a small folder: every image went into calibration
        images = representative_images(source, image_size, count, seed=1)
        return images, "calibration (no held-out image left in the folder)"


def search_images(source, image_size, count, calibrated=0, checked=None):
    """Images the int8 search chooses its float layers by: neither calibration nor check images.

    Choosing on the check's own images would make the check pass by construction: synthetic
    images of a third seed, or the folder's (or training split's) images after the
    calibration's and the check's (``checked`` of them; default ``count``), or the check's
    own when none are left, which the phrase says.

    Returns:
      (images [N, S, S, 3], a phrase saying which they are).
    """
    checked = count if checked is None else checked
    try:
        return representative_images(source, image_size, count, seed=2, skip=calibrated + checked), "separate"
    except ValueError:  # the folder has no image past the check's
        images, _ = held_out_images(source, image_size, checked or count, calibrated)
        return images, "the check's own (no other image left in the folder)"


def check_agreement(saved_model_dir, tflite_path, image_size, source, count, calibrated=0, min_spearman=0.98,
                    images=None):  # fmt: skip
    """Scores ``count`` held-out images with both models; raises AgreementError below ``min_spearman``.

    Args:
      source: a folder of images, ``synthetic`` or a representative.TrainingSplit.
      calibrated: folder images used for int8 calibration, passed over first (held out).
      images: (the held-out images, the phrase saying which they are), if already read.

    Returns:
      The agreement dict, with ``held_out`` saying which images were scored.
    """
    images, held_out = images or held_out_images(source, image_size, count, calibrated)
    result = {**agreement(saved_model_dir, tflite_path, images), "held_out": held_out, "source": str(source)}
    print(
        f"Agreement with the SavedModel on {result['images']} {held_out} images from {source}: "
        f"Spearman {result['spearman']:.4f}, max |Δscore| {result['max_abs_score']:.4f} "
        f"(the SavedModel's scores: std {result['reference_std']:.4f})"
    )
    if not result["spearman"] >= min_spearman:
        raise AgreementError(
            f"{tflite_path} does not keep the SavedModel's ranking (Spearman {result['spearman']:.4f} < "
            f"--min_spearman={min_spearman}). The file is kept for inspection; do not ship it. "
            "--int8_float_layers=auto (int8 only), a float16 or dynamic export, or calibration images closer "
            "to what the app will score, may do better."
        )
    return result
