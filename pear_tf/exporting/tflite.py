"""TFLite export of PEAR's scoring graph (DESIGN.md §8), builtin ops only.

Variants: ``float32``, ``float16`` (float16 weights), ``dynamic`` (int8 weights, float
activations), ``int8`` (full integer quantization calibrated on a representative set;
float32 outputs), ``int16x8`` (int8 weights, int16 activations: TFLite's 16x8 mode), and
``auto`` (auto.py: the smallest of them that passes the acceptance below). The input is
the ``predict_images`` tensor: one RGB image resized to round(S·256/224) and
centre-cropped to S×S, either float32 0..255 (``input_type="float32"``) or uint8 0..255
(``"uint8"``: the camera's bytes as they are; the graph casts them to float32 first, so
every variant takes it and no input quantization parameters are needed). The outputs
are the SavedModel's: ``score``,
``score_std``, ``distribution``, ``attributes`` and, for a calibrated export, ``calibrated_score``,
``ood_score`` and ``is_photo_like`` (the sampling noise and the maps are constants of the graph,
so the device answers as the server does; an older export's ``score_std`` is 0 on device).

Calibration uses 500 images of the model's own training split by default (the run's
flags are in the SavedModel's metadata; representative.py), through the serving
preprocessing. Full int8 keeps the ranking by keeping layers in float (int8_search.py).
Acceptance: the Spearman against the SavedModel on held-out images (agreement.py), a
size budget, and, given a labelled set, the SRCC against its ratings (ratings.py): a file
that loses more than ``max_srcc_drop`` of it is not written. Every file carries the
SavedModel's metadata, with the calibration's source and count (tflite_metadata.py).

TF 2.21's converter leaks memory on every call, so every conversion runs in a fresh Python
process (converter.py).
"""

import dataclasses
import os

from pear_tf.exporting import tflite_metadata
from pear_tf.exporting.agreement import check_agreement, held_out_images
from pear_tf.exporting.auto import export_auto
from pear_tf.exporting.converter import CALIBRATED, INPUT_TYPES, VARIANTS, convert_in_subprocess, parse_float_layers
from pear_tf.exporting.int8_search import FLOAT_DTYPES, keep_layers_in_float
from pear_tf.exporting.ratings import RatingsError, ratings_srcc, srcc_drop
from pear_tf.exporting.representative import TRAINING_SPLIT, representative_images, resolve_source
from pear_tf.inference.metadata import image_size as model_image_size
from pear_tf.inference.metadata import read_metadata
from pear_tf.inference.versions import latest_version_dir

__all__ = ["CHOICES", "FLOAT_DTYPES", "INPUT_TYPES", "VARIANTS", "Acceptance", "convert_in_subprocess",
           "export_tflite", "parse_float_layers"]  # fmt: skip

CHOICES = (*VARIANTS, "auto")  # what --tflite takes
MEGABYTE = 10**6  # --max_size_mb counts decimal megabytes (10⁶ bytes), as its name says


@dataclasses.dataclass(frozen=True)
class Acceptance:
    """What a .tflite file must meet to be handed over.

    Attributes:
      min_spearman: Spearman of its scores against the SavedModel's on held-out images.
      max_bytes: the largest file (0: no budget).
      max_slowdown: how much slower than the float32 file a quantized one may be, with 1 or 2 threads
        (``auto`` only).
      labelled: a ratings.LabelledSet to measure SRCC against (None: agreement only).
      max_srcc_drop: the SRCC it may lose against the float model on ``labelled``.
    """

    min_spearman: float = 0.98
    max_bytes: int = 0
    labelled: object = None
    max_srcc_drop: float = 0.01
    max_slowdown: float = 1.5


@dataclasses.dataclass(frozen=True)
class Images:
    """The export's images: the ``source``, the calibration set and the held-out check images."""

    source: object
    size: int
    calibration: object  # [N, S, S, 3] or None
    check: object  # [K, S, S, 3] or None
    held_out: str = ""

    def calibration_metadata(self):
        if self.calibration is None:
            return {}
        return {"calibration": {"source": str(self.source), "count": int(len(self.calibration)),
                                "preprocessing": "as served: decode, resize, centre crop (pear_tf.data)"}}  # fmt: skip


def export_images(path, variant, representative_data, count, check_images):
    """The calibration (calibrated variants and auto) and check images of an export.

    ``representative_data`` None means the model's training split, for a variant that
    needs calibration; for one that does not, the training split if it can be read here,
    else synthetic images (as before there was a default).
    """
    size = model_image_size(read_metadata(path))
    calibrated = variant in CALIBRATED or variant == "auto"
    source = representative_data or TRAINING_SPLIT
    try:
        source = resolve_source(source, path)
        calibration = representative_images(source, size, count) if calibrated else None
    except (ValueError, FileNotFoundError) as error:
        if calibrated or representative_data:
            raise
        print(f"Checking on synthetic images: {error}")
        source, calibration = "synthetic", None
    if not check_images:
        return Images(source, size, calibration, None)
    check, held_out = held_out_images(source, size, check_images, 0 if calibration is None else len(calibration))
    return Images(source, size, calibration, check, held_out)


def export_tflite(model_path, variant, output=None, representative_data=None, representative_count=500,
                  check_images=100, min_spearman=0.98, input_type="float32", float_layers="auto", max_size_mb=0.0,
                  eval_data=None, max_srcc_drop=0.01, float_dtype="float16", max_slowdown=1.5,
                  photo_likeness=True):  # fmt: skip
    """Converts a SavedModel (a version or base folder) to ``variant`` and checks the result.

    Args:
      output: the .tflite path (default ``<model name>_<variant>[_uint8].tflite``).
      representative_data: calibration images and the check's held-out images: a folder,
        ``synthetic``, or ``train`` (the model's training split; the default when None).
      check_images: held-out images scored by both models (0: no check; int8 with
        ``float_layers="auto"`` and ``auto`` need them).
      min_spearman: below it, agreement.AgreementError is raised (the file is kept).
      input_type: "float32" or "uint8" (the app's RGB bytes; see the module docstring).
      float_layers: int8 only: "auto" (the search), or how many of the worst layers stay float.
      max_size_mb: the size budget in megabytes (10⁶ bytes) of ``auto`` and of the int8 search (0: none).
      eval_data: a ratings.LabelledSet, or None; the file is not written (RatingsError) if
        it loses more than ``max_srcc_drop`` of the float model's SRCC on it.
      float_dtype: how the float layers of an int8 file store their weights.
      max_slowdown: ``auto`` rejects a quantized file slower than float32 by more than this.
      photo_likeness: keep ``ood_score``/``is_photo_like`` (full int8 never has them); False leaves the
        photo-likeness density out of the file (on MobileNetV3 it is larger than the network).

    Returns:
      (the output path, the agreement dict or None).
    """
    path = latest_version_dir(model_path)
    suffix = "_uint8" if input_type == "uint8" else ""
    output = output or f"{os.path.basename(os.path.normpath(model_path))}_{variant}{suffix}.tflite"
    acceptance = Acceptance(min_spearman, int(max_size_mb * MEGABYTE), eval_data, max_srcc_drop, max_slowdown)
    images = export_images(path, variant, representative_data, representative_count, check_images)
    dropped = () if photo_likeness else tflite_metadata.PHOTO_LIKENESS_OUTPUTS
    if variant == "auto":
        return export_auto(path, output, images, acceptance, input_type, float_dtype, dropped)
    float_layers = parse_float_layers(float_layers) if variant == "int8" else 0
    selective = _convert(path, variant, output, images, acceptance, input_type, float_layers, float_dtype, dropped)
    print(f"Wrote {output} ({os.path.getsize(output) / 1e6:.2f} MB, {variant}, {input_type} input) from {path}")
    extra = {**images.calibration_metadata(), **_accept_ratings(path, output, images, acceptance)}
    result = None
    if images.check is not None:
        result = check_agreement(path, output, images.size, images.source, check_images, min_spearman=min_spearman,
                                 images=(images.check, images.held_out))  # fmt: skip
    tflite_metadata.embed_saved_model_metadata(output, path, variant, input_type, float_layers=selective,
                                               agreement=result, extra=extra)  # fmt: skip
    return output, result


def _convert(path, variant, output, images, acceptance, input_type, float_layers, float_dtype, dropped=()):
    """Writes ``output`` (without the ``dropped`` outputs); returns the int8 search's report (None for others)."""
    if variant == "int8" and float_layers != 0:
        return keep_layers_in_float(path, output, images.calibration, images.source, images.size,
                                    0 if images.check is None else len(images.check), acceptance.min_spearman,
                                    input_type, float_layers, len(images.calibration), acceptance.max_bytes,
                                    float_dtype)  # fmt: skip
    convert_in_subprocess(path, variant, output, images.calibration, input_type, drop_outputs=dropped)
    return None


def _accept_ratings(path, output, images, acceptance):
    """The ratings entry of the metadata ({} without a labelled set); removes the file and raises RatingsError
    when it loses more SRCC than allowed."""
    if acceptance.labelled is None:
        return {}
    result = ratings_srcc(path, {"tflite": output}, acceptance.labelled, images.size)
    drop = srcc_drop(result, "tflite")
    print(f"Ratings: SRCC on {result['images']} images of {result['eval_data']} against the {result['against']}: "
          f"SavedModel {result['srcc']['float']:.4f}, {os.path.basename(output)} {result['srcc']['tflite']:.4f} "
          f"(Δ {-drop:+.4f})")  # fmt: skip
    if not drop <= acceptance.max_srcc_drop:
        os.remove(output)
        raise RatingsError(f"{output} was not written: it loses {drop:.4f} SRCC against the ratings of "
                           f"{result['eval_data']} (more than --max_srcc_drop={acceptance.max_srcc_drop}).")  # fmt: skip
    return {"ratings": {**result, "srcc_drop": drop}}
