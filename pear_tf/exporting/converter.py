"""The TFLite converter run on PEAR's scoring graph, one job per fresh Python process.

TF 2.21's converter leaks memory on every call, so ``run_job`` runs each conversion in a
new process (``python -m pear_tf.exporting.converter job.json``, or another module's
``__main__`` for other jobs). Builtin ops only: LiteRT cannot run Flex (select TF) ops.

``int16x8`` is TFLite's 16x8 mode (``EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8``):
int8 weights, int16 activations, int64 biases; 256 times finer activation steps than int8
in a file of int8's size. TF documents it as slower than int8 (no optimized kernels) and
not taken by the hardware delegates; XNNPACK runs none of it (BUILD_NOTES has the figures).
"""

import json
import os
import subprocess
import sys
import tempfile

import numpy as np

from pear_tf import errors
from pear_tf.exporting import tflite_metadata
from pear_tf.exporting.tflite_metadata import CALIBRATED, PHOTO_LIKENESS_OUTPUTS
from pear_tf.inference.tflite import as_input

VARIANTS = ("float32", "float16", "dynamic", "int8", "int16x8")
INPUT_TYPES = ("float32", "uint8")


def parse_float_layers(value):
    """``--int8_float_layers``: "auto", "none" (0) or a count N of the worst layers kept in float."""
    if value in (None, "none", "0", 0):
        return 0
    if value == "auto":
        return "auto"
    try:
        count = int(value)
    except ValueError:
        count = -1
    if count < 0:
        raise errors.BadValue(f"--int8_float_layers={value!r}: give auto, none, or a number of layers (0, 1, 2, ...).")
    return count


def scoring_converter(saved_model_dir, input_type="float32", int8=False, drop_outputs=()):
    """A TFLiteConverter (builtin ops only) of the SavedModel's deterministic scoring graph.

    ``int8``: without PHOTO_LIKENESS_OUTPUTS; ``drop_outputs``: without these outputs either (the
    converter prunes the ops only they need: ``--notflite_photo_likeness`` leaves out the density).
    """
    import tensorflow as tf

    if input_type not in INPUT_TYPES:
        raise errors.BadValue(f"--tflite_input={input_type!r} is not one of {INPUT_TYPES}.")
    loaded = tf.saved_model.load(saved_model_dir)
    if not hasattr(loaded, "predict_images_deterministic"):
        raise errors.BadValue(f"{saved_model_dir} predates TFLite export: export it again with this pear_tf.")
    function = loaded.predict_images_deterministic.get_concrete_function()
    dropped = tuple(drop_outputs) + (PHOTO_LIKENESS_OUTPUTS if int8 else ())
    if input_type == "uint8" or dropped:
        shape = function.structured_input_signature[0][0].shape
        deterministic = loaded.predict_images_deterministic

        # The cast is the graph's first op: the app hands over its RGB bytes unchanged.
        @tf.function(input_signature=[tf.TensorSpec(shape, tf.as_dtype(input_type), name="images")])
        def wrapped(images):
            outputs = deterministic(tf.cast(images, tf.float32))
            return {key: value for key, value in outputs.items() if key not in dropped}

        function = wrapped.get_concrete_function()
    converter = tf.lite.TFLiteConverter.from_concrete_functions([function], loaded)
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
    return converter


def calibration_dataset(images, input_type):
    """The converter's representative_dataset over preprocessed images [N, S, S, 3]."""
    return lambda: ([as_input(image, input_type)[np.newaxis]] for image in images)


def convert(saved_model_dir, variant, output, representative=None, input_type="float32", drop_outputs=()):
    """Converts in this process (see convert_in_subprocess); returns the output path."""
    import tensorflow as tf

    if variant not in VARIANTS:
        raise errors.BadValue(f"--tflite={variant!r} is not one of {VARIANTS}.")
    if variant in CALIBRATED and (representative is None or not len(representative)):
        raise errors.BadValue(f"--tflite={variant} needs --representative_data (a few hundred images).")
    converter = scoring_converter(saved_model_dir, input_type, int8=variant in CALIBRATED, drop_outputs=drop_outputs)
    if variant != "float32":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    if variant == "float16":
        converter.target_spec.supported_types = [tf.float16]
    if variant in CALIBRATED:
        # int8: the uint8 input's cast stays a float op ahead of the first QUANTIZE. int16x8: ops the
        # 16x8 mode has no kernel for (SQRT in score_std's spread) stay float, as TF's guide to the mode says.
        sets = tf.lite.OpsSet
        if variant == "int8":
            ops = [sets.TFLITE_BUILTINS_INT8] + ([sets.TFLITE_BUILTINS] if input_type == "uint8" else [])
        else:
            ops = [sets.EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8, sets.TFLITE_BUILTINS]
        converter.target_spec.supported_ops = ops
        converter.representative_dataset = calibration_dataset(representative, input_type)
    _write(output, converter.convert())
    return output


def _write(output, data):
    os.makedirs(os.path.dirname(os.path.abspath(output)), exist_ok=True)
    with open(output, "wb") as f:
        f.write(data)


def run_job(job, timeout=3600, module="pear_tf.exporting.converter"):
    """Runs one conversion job (a JSON-able dict, see ``_main``) in a fresh Python process.

    Arrays (``representative``, ``check_images``) travel as .npy files. The process's
    output goes to this one's (a long search shows its progress); its error output is
    kept, and RuntimeError carries its end when the process fails.
    """
    with tempfile.TemporaryDirectory() as scratch:
        job = dict(job)
        for key in ("representative", "check_images"):
            if job.get(key) is not None:
                np.save(os.path.join(scratch, f"{key}.npy"), job[key])
                job[key] = os.path.join(scratch, f"{key}.npy")
        path = os.path.join(scratch, "job.json")
        with open(path, "w") as f:
            json.dump(job, f)
        sys.stdout.flush()
        result = subprocess.run([sys.executable, "-m", module, path], stdout=None, stderr=subprocess.PIPE,
                                text=True, timeout=timeout)  # fmt: skip
    if result.returncode != 0:
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        raise RuntimeError(f"TFLite conversion ({job.get('variant', job['action'])}) failed: " + "\n".join(lines[-8:]))


def convert_in_subprocess(saved_model_dir, variant, output, representative=None, input_type="float32", timeout=1800,
                          drop_outputs=()):  # fmt: skip
    """Runs ``convert`` in a fresh Python process, then writes the model's metadata into the file.

    ``variant`` and ``output`` may be comma-separated lists of the same length: several
    variants converted by one process (``representative`` goes to the calibrated ones).
    Raises RuntimeError with the process's message on failure.
    """
    run_job({"action": "convert", "saved_model_dir": saved_model_dir, "variant": variant, "output": output,
             "representative": representative, "input_type": input_type, "drop_outputs": list(drop_outputs)},
            timeout)  # fmt: skip
    for name, path in zip(variant.split(","), output.split(",")):
        tflite_metadata.embed_saved_model_metadata(path, saved_model_dir, name, input_type)
    return output


def _main(job_path):
    with open(job_path) as f:
        job = json.load(f)
    representative = np.load(job["representative"]) if job.get("representative") else None
    # One job may convert several variants (--tflite=auto): one start-up of TensorFlow, a few leaks.
    for variant, output in zip(job["variant"].split(","), job["output"].split(",")):
        convert(job["saved_model_dir"], variant, output, representative if variant in CALIBRATED else None,
                job["input_type"], job.get("drop_outputs", ()))  # fmt: skip


if __name__ == "__main__":
    _main(sys.argv[1])
