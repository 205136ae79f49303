"""TFLite export of PEAR's scoring graph (DESIGN.md §8), builtin ops only.

Variants: ``float32``, ``float16`` (float16 weights), ``dynamic`` (int8 weights,
float activations) and ``int8`` (full integer quantization calibrated on a
representative set; float32 input and outputs, so apps feed the same tensor).
The input is the ``predict_images`` tensor: one RGB image, float32 0..255, resized to
round(S·256/224) and centre-cropped to S×S. The outputs are ``score``, ``score_std``
(always 0: no sampling on device), ``distribution`` and ``attributes``.

TF 2.21's converter leaks memory on every call, so ``convert_in_subprocess`` runs each
conversion in a fresh Python process.
"""

import os
import subprocess
import sys
import tempfile

import numpy as np

VARIANTS = ("float32", "float16", "dynamic", "int8")


def representative_images(source, image_size, count=200, seed=0, skip=0):
    """Preprocessed images [N, S, S, 3] for int8 calibration or for checking agreement.

    Args:
      source: a folder of images (walked recursively), or ``synthetic`` (the embedded
        set's train images).
      seed: of the synthetic images.
      skip: folder images to pass over first (held-out images come after the calibration ones).
    """
    from pear_tf.data import synthetic
    from pear_tf.data.images import SkipLog, read_image
    from pear_tf.data.preprocessing import preprocess, resize_size
    from pear_tf.predict import expand_paths

    if source == "synthetic":
        raw = list(synthetic.generate(count, "aadb", resize_size(image_size), seed)["image"])
    elif os.path.isdir(source):
        skip_log = SkipLog()
        raw = [
            image
            for path in list(expand_paths([source]))[skip : skip + count]
            if (image := read_image(path, skip_log)) is not None
        ]
    else:
        raise FileNotFoundError(f"--representative_data={source!r}: give a folder of images or 'synthetic'.")
    if not raw:
        raise ValueError(f"--representative_data={source!r} holds no readable image.")
    return np.stack([preprocess(image, image_size).numpy() for image in raw])


def convert(saved_model_dir, variant, output, representative=None):
    """Converts in this process (see convert_in_subprocess); returns the output path."""
    import tensorflow as tf

    if variant not in VARIANTS:
        raise ValueError(f"--tflite={variant!r} is not one of {VARIANTS}.")
    loaded = tf.saved_model.load(saved_model_dir)
    if not hasattr(loaded, "predict_images_deterministic"):
        raise ValueError(f"{saved_model_dir} predates TFLite export: export it again with this pear_tf.")
    function = loaded.predict_images_deterministic.get_concrete_function()
    converter = tf.lite.TFLiteConverter.from_concrete_functions([function], loaded)
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
    if variant in ("float16", "dynamic", "int8"):
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    if variant == "float16":
        converter.target_spec.supported_types = [tf.float16]
    if variant == "int8":
        if representative is None or not len(representative):
            raise ValueError("--tflite=int8 needs --representative_data (a few hundred images).")
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        converter.representative_dataset = lambda: ([image[np.newaxis].astype(np.float32)] for image in representative)
    data = converter.convert()
    os.makedirs(os.path.dirname(os.path.abspath(output)), exist_ok=True)
    with open(output, "wb") as f:
        f.write(data)
    return output


def agreement(saved_model_dir, tflite_path, images):
    """How far a .tflite model's scores are from the SavedModel's on ``images`` [N, S, S, 3].

    Returns:
      A dict: ``spearman`` (rank agreement of the scores), ``max_abs_score`` (largest
      |Δscore|) and ``images``; plus ``scores`` and ``reference``, the two score arrays.
    """
    import tensorflow as tf
    from scipy import stats

    from pear_tf.tflite_score import TFLiteScorer

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


def convert_in_subprocess(saved_model_dir, variant, output, representative=None, timeout=1800):
    """Runs ``convert`` in a fresh Python process; raises RuntimeError with its message on failure."""
    with tempfile.TemporaryDirectory() as scratch:
        args = [sys.executable, "-m", "pear_tf.tflite_lib", saved_model_dir, variant, output]
        if representative is not None:
            path = os.path.join(scratch, "representative.npy")
            np.save(path, representative)
            args.append(path)
        result = subprocess.run(args, capture_output=True, text=True, timeout=timeout)
    if result.returncode != 0:
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        raise RuntimeError(f"TFLite conversion ({variant}) failed: " + "\n".join(lines[-8:]))
    return output


if __name__ == "__main__":
    saved_model_dir, variant, output = sys.argv[1:4]
    representative = np.load(sys.argv[4]) if len(sys.argv) > 4 else None
    convert(saved_model_dir, variant, output, representative)
