"""TFLite export of PEAR's scoring graph (DESIGN.md §8), builtin ops only.

Variants: ``float32``, ``float16`` (float16 weights), ``dynamic`` (int8 weights,
float activations) and ``int8`` (full integer quantization calibrated on a
representative set; float32 input and outputs, so apps feed the same tensor).
The input is the ``predict_images`` tensor: one RGB image, float32 0..255, resized to
round(S·256/224) and centre-cropped to S×S. The outputs are ``score``, ``score_std``
(always 0: no sampling on device), ``distribution`` and ``attributes``.

TF 2.21's converter leaks memory on every call, so ``convert_in_subprocess`` runs each
conversion in a fresh Python process (this module's ``__main__``). ``agreement`` checks
the result against the SavedModel.
"""

import os
import subprocess
import sys
import tempfile

import numpy as np

from pear_tf.exporting.agreement import check_agreement
from pear_tf.exporting.representative import representative_images
from pear_tf.inference.metadata import image_size as model_image_size
from pear_tf.inference.metadata import read_metadata
from pear_tf.inference.versions import latest_version_dir

VARIANTS = ("float32", "float16", "dynamic", "int8")


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


def convert_in_subprocess(saved_model_dir, variant, output, representative=None, timeout=1800):
    """Runs ``convert`` in a fresh Python process; raises RuntimeError with its message on failure."""
    with tempfile.TemporaryDirectory() as scratch:
        args = [sys.executable, "-m", "pear_tf.exporting.tflite", saved_model_dir, variant, output]
        if representative is not None:
            path = os.path.join(scratch, "representative.npy")
            np.save(path, representative)
            args.append(path)
        result = subprocess.run(args, capture_output=True, text=True, timeout=timeout)
    if result.returncode != 0:
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        raise RuntimeError(f"TFLite conversion ({variant}) failed: " + "\n".join(lines[-8:]))
    return output


def export_tflite(model_path, variant, output=None, representative_data=None, representative_count=200,
                  check_images=100, min_spearman=0.98):  # fmt: skip
    """Converts a SavedModel (a version or base folder) to ``variant`` and checks the result.

    Args:
      output: the .tflite path (default ``<model name>_<variant>.tflite``).
      representative_data: a folder of images or ``synthetic``: int8 calibration, and the
        check's held-out images (synthetic when unset).
      check_images: held-out images scored by both models (0: no check).
      min_spearman: below it, agreement.AgreementError is raised (the file is kept).

    Returns:
      (the output path, the agreement dict or None).
    """
    path = latest_version_dir(model_path)
    size = model_image_size(read_metadata(path))
    representative = None
    if variant == "int8":
        if not representative_data:
            raise ValueError("--tflite=int8 needs --representative_data (a folder of images, or 'synthetic').")
        representative = representative_images(representative_data, size, representative_count)
    output = output or f"{os.path.basename(os.path.normpath(model_path))}_{variant}.tflite"
    convert_in_subprocess(path, variant, output, representative)
    print(f"Wrote {output} ({os.path.getsize(output) / 2**20:.2f} MiB, {variant}) from {path}")
    if not check_images:
        return output, None
    calibrated = representative_count if variant == "int8" else 0
    result = check_agreement(path, output, size, representative_data or "synthetic", check_images, calibrated,
                             min_spearman)  # fmt: skip
    return output, result


if __name__ == "__main__":
    saved_model_dir, variant, output = sys.argv[1:4]
    representative = np.load(sys.argv[4]) if len(sys.argv) > 4 else None
    convert(saved_model_dir, variant, output, representative)
