"""TFLite export of PEAR's scoring graph (DESIGN.md §8), builtin ops only.

Variants: ``float32``, ``float16`` (float16 weights), ``dynamic`` (int8 weights,
float activations) and ``int8`` (full integer quantization calibrated on a
representative set; float32 outputs). The input is the ``predict_images`` tensor: one
RGB image resized to round(S·256/224) and centre-cropped to S×S, either float32 0..255
(``input_type="float32"``) or uint8 0..255 (``"uint8"``: the camera's bytes as they are;
the graph casts them to float32 first, so every variant takes it and no input
quantization parameters are needed). The outputs are the SavedModel's: ``score``,
``score_std``, ``distribution``, ``attributes`` and, for a calibrated export, ``calibrated_score``,
``ood_score`` and ``is_photo_like`` (the sampling noise and the maps are constants of the graph,
so the device answers as the server does; an older export's ``score_std`` is 0 on device).

Full int8 keeps the ranking by keeping a few layers in float (``float_layers``): TFLite's
QuantizationDebugger measures each layer's int8 error, the layers are ranked by it against
their own float spread, and ``auto`` keeps the fewest of the worst in float that reach the
agreement bar on images of the search's own (int8_search.py); the check then tests that.
Every file carries the SavedModel's metadata (tflite_metadata.py).

TF 2.21's converter leaks memory on every call, so every conversion runs in a fresh Python
process (converter.py).
"""

import os

from pear_tf import errors
from pear_tf.exporting import tflite_metadata
from pear_tf.exporting.agreement import check_agreement
from pear_tf.exporting.converter import INPUT_TYPES, VARIANTS, parse_float_layers, run_job
from pear_tf.exporting.int8_search import keep_layers_in_float
from pear_tf.exporting.representative import representative_images
from pear_tf.inference.metadata import image_size as model_image_size
from pear_tf.inference.metadata import read_metadata
from pear_tf.inference.versions import latest_version_dir

__all__ = ["INPUT_TYPES", "VARIANTS", "convert_in_subprocess", "export_tflite", "parse_float_layers"]


def convert_in_subprocess(saved_model_dir, variant, output, representative=None, input_type="float32", timeout=1800):
    """Runs ``convert`` in a fresh Python process, then writes the model's metadata into the file.

    Raises RuntimeError with the process's message on failure.
    """
    run_job({"action": "convert", "saved_model_dir": saved_model_dir, "variant": variant, "output": output,
             "representative": representative, "input_type": input_type}, timeout)  # fmt: skip
    tflite_metadata.embed_saved_model_metadata(output, saved_model_dir, variant, input_type)
    return output


def export_tflite(model_path, variant, output=None, representative_data=None, representative_count=200,
                  check_images=100, min_spearman=0.98, input_type="float32", float_layers="auto"):  # fmt: skip
    """Converts a SavedModel (a version or base folder) to ``variant`` and checks the result.

    Args:
      output: the .tflite path (default ``<model name>_<variant>[_uint8].tflite``).
      representative_data: a folder of images or ``synthetic``: int8 calibration, and the
        check's held-out images (synthetic when unset).
      check_images: held-out images scored by both models (0: no check; int8 with
        ``float_layers="auto"`` needs them).
      min_spearman: below it, agreement.AgreementError is raised (the file is kept).
      input_type: "float32" or "uint8" (the app's RGB bytes; see the module docstring).
      float_layers: int8 only: "auto", or how many of the worst layers stay float (0: none).

    Returns:
      (the output path, the agreement dict or None).
    """
    path = latest_version_dir(model_path)
    size = model_image_size(read_metadata(path))
    suffix = "_uint8" if input_type == "uint8" else ""
    output = output or f"{os.path.basename(os.path.normpath(model_path))}_{variant}{suffix}.tflite"
    float_layers = parse_float_layers(float_layers) if variant == "int8" else 0
    selective = None
    if variant == "int8":
        if not representative_data:
            raise errors.BadValue("--tflite=int8 needs --representative_data (a folder of images, or 'synthetic').")
        representative = representative_images(representative_data, size, representative_count)
        if float_layers == 0:
            convert_in_subprocess(path, variant, output, representative, input_type)
        else:
            selective = keep_layers_in_float(path, output, representative, representative_data, size, check_images,
                                             min_spearman, input_type, float_layers, representative_count)  # fmt: skip
            tflite_metadata.embed_saved_model_metadata(output, path, variant, input_type, float_layers=selective)
    else:
        convert_in_subprocess(path, variant, output, None, input_type)
    print(f"Wrote {output} ({os.path.getsize(output) / 2**20:.2f} MiB, {variant}, {input_type} input) from {path}")
    if not check_images:
        return output, None
    calibrated = representative_count if variant == "int8" else 0
    result = check_agreement(path, output, size, representative_data or "synthetic", check_images, calibrated,
                             min_spearman)  # fmt: skip
    tflite_metadata.embed_saved_model_metadata(output, path, variant, input_type, float_layers=selective,
                                               agreement=result)  # fmt: skip
    return output, result
