"""Does a .tflite model keep its SavedModel's ranking? The export's check before an app gets it."""

import numpy as np
import tensorflow as tf
from scipy import stats

from pear_tf.exporting.representative import representative_images
from pear_tf.inference.tflite import TFLiteScorer


class AgreementError(RuntimeError):
    """The TFLite model's ranking falls below the bar; the file is kept for inspection."""


def agreement(saved_model_dir, tflite_path, images):
    """How far a .tflite model's scores are from the SavedModel's on ``images`` [N, S, S, 3].

    Returns:
      A dict: ``spearman`` (rank agreement of the scores), ``max_abs_score`` (largest
      |Δscore|) and ``images``; plus ``scores`` and ``reference``, the two score arrays.
    """
    signature = tf.saved_model.load(saved_model_dir).signatures["predict_images"]
    reference = np.concatenate(
        [signature(images=tf.constant(images[i : i + 25]))["score"].numpy() for i in range(0, len(images), 25)]
    )
    scorer = TFLiteScorer(tflite_path)
    scores = np.array([float(scorer.score(image)["score"]) for image in images])
    return {
        "spearman": float(stats.spearmanr(scores, reference)[0]),
        "max_abs_score": float(np.abs(scores - reference).max()),
        "images": len(images),
        "scores": scores,
        "reference": reference,
    }


def check_agreement(saved_model_dir, tflite_path, image_size, source, count, calibrated=0, min_spearman=0.98):
    """Scores ``count`` held-out images with both models; raises AgreementError below ``min_spearman``.

    Args:
      source: a folder of images or ``synthetic``.
      calibrated: folder images used for int8 calibration, passed over first (held out).

    Returns:
      The agreement dict, with ``held_out`` saying which images were scored.
    """
    # Held out: folder images after the calibration ones, or synthetic images of another seed.
    try:
        images = representative_images(source, image_size, count, seed=1, skip=calibrated)
        held_out = "held-out"
    except ValueError:  # a small folder: every image went into calibration
        images = representative_images(source, image_size, count, seed=1)
        held_out = "calibration (no held-out image left in the folder)"
    result = {**agreement(saved_model_dir, tflite_path, images), "held_out": held_out, "source": source}
    print(
        f"Agreement with the SavedModel on {result['images']} {held_out} images from {source}: "
        f"Spearman {result['spearman']:.4f}, max |Δscore| {result['max_abs_score']:.4f}"
    )
    if not result["spearman"] >= min_spearman:
        raise AgreementError(
            f"{tflite_path} does not keep the SavedModel's ranking (Spearman {result['spearman']:.4f} < "
            f"--min_spearman={min_spearman}). The file is kept for inspection; do not ship it. A "
            "float16 or dynamic export, or calibration images closer to what the app will score, may do better."
        )
    return result
