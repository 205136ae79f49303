"""Writes a model's metadata into its .tflite file, so the file describes itself.

The JSON goes into the flatbuffer's own ``metadata`` table (``Model.metadata``: a name and
the index of a ``Model.buffers`` entry holding the bytes) under ``pear_metadata``: the
place TFLite keeps its own ``min_runtime_version`` and ``CONVERSION_METADATA``. Any
flatbuffer reader can find it (docs/phones.md: Kotlin and Swift); the tflite-support metadata
writer is not needed. The model is rewritten through LiteRT's object API, as TF's converter
does when it adds its conversion metadata.
"""

import json
import os

import flatbuffers
import numpy as np

from pear_tf.inference.metadata import METADATA_NAME, read_metadata

# The variants calibrated on representative images (full-integer activations).
CALIBRATED = ("int8", "int16x8")
# The photo-likeness outputs. Full int8 leaves them out: their density's int8 kernels abort the TFLite
# interpreter (measured on ai_edge_litert; BUILD_NOTES.md, issue 27). Float, float16 and dynamic keep them; int16x8
# (calibrated too, not measured) leaves them out as well. Any variant leaves them out with
# --notflite_photo_likeness (its density is the file's largest part on MobileNetV3: BUILD_NOTES).
PHOTO_LIKENESS_OUTPUTS = ("ood_score", "is_photo_like")

_FILE_IDENTIFIER = b"TFL3"


def write_tflite_metadata(path, metadata):
    """Puts ``metadata`` (a JSON-able dict) into the .tflite file at ``path``, replacing an older entry."""
    from ai_edge_litert import schema_py_generated as schema

    with open(path, "rb") as f:
        model = schema.ModelT.InitFromPackedBuf(bytearray(f.read()), 0)
    buffer = schema.BufferT()
    buffer.data = np.frombuffer(json.dumps(metadata, sort_keys=True).encode("utf-8"), np.uint8)
    model.metadata = model.metadata or []
    entry = next((m for m in model.metadata if m.name and m.name.decode() == METADATA_NAME), None)
    if entry is None:
        entry = schema.MetadataT()
        entry.name = METADATA_NAME.encode()
        entry.buffer = len(model.buffers)
        model.buffers.append(buffer)
        model.metadata.append(entry)
    else:
        model.buffers[entry.buffer] = buffer
    builder = flatbuffers.Builder(1024)
    builder.Finish(model.Pack(builder), file_identifier=_FILE_IDENTIFIER)
    temporary = path + ".tmp"
    with open(temporary, "wb") as f:
        f.write(builder.Output())
    os.replace(temporary, path)


def tflite_metadata(saved_model_dir, variant, input_type, float_layers=None, agreement=None, extra=None):
    """The SavedModel's metadata asset plus what the .tflite adds: its variant, input and name.

    ``extra``: more entries of ``tflite`` (the calibration, the ratings, what --tflite=auto tried).

    None for a SavedModel that pear_tf did not export (it has no metadata asset).
    """
    try:
        metadata = read_metadata(saved_model_dir)
    except FileNotFoundError:
        return None
    path = os.path.normpath(os.path.abspath(saved_model_dir))
    size = int(metadata["model_config"]["image_size"])
    metadata["model"] = {"name": os.path.basename(os.path.dirname(path)), "version": os.path.basename(path)}
    metadata["preprocessing"] = {**metadata.get("preprocessing", {}), "input_range": (
        "uint8 RGB 0..255 (the bytes as they are)" if input_type == "uint8" else "float32 RGB 0..255")}  # fmt: skip
    metadata["tflite"] = {
        "variant": variant,
        "input": {"name": "images", "dtype": input_type, "shape": [1, size, size, 3]},
        "outputs": {
            name: meaning
            for name, meaning in {
                "score": "[1] mean of the distribution over bin_values",
                # Older SavedModels (no calibrated_score): no sampling on device, score_std 0.
                "score_std": "[1] the SavedModel's score_std (fixed sampling noise: the same on device)"
                if "calibrated_score" in metadata.get("outputs", []) else "[1] always 0 on device",
                "distribution": f"[1, {len(metadata['bin_values'])}] probabilities of bin_values",
                "attributes": f"[1, {len(metadata.get('attribute_names', []))}] in [0, 1], order of attribute_names",
                "calibrated_score": "[1] score on the raters' scale (the SavedModel's monotone map)",
                "ood_score": "[1] unlikeness to the training photos; above 1: not photo-like",
                "is_photo_like": "[1] bool, ood_score <= 1",
            }.items()
            if name in metadata.get("outputs", ["score", "score_std", "distribution", "attributes"])
        },
    }
    if float_layers is not None:
        metadata["tflite"]["float_layers"] = float_layers
    if agreement is not None:
        keys = ("spearman", "max_abs_score", "reference_std", "images", "source", "held_out")
        metadata["tflite"]["agreement"] = {k: agreement[k] for k in keys if k in agreement}
    metadata["tflite"].update(extra or {})
    return metadata


def output_positions(path):
    """{output name: its position among the interpreter's outputs}: for APIs without signatures."""
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_path=path)
    by_index = {details["index"]: position for position, details in enumerate(interpreter.get_output_details())}
    outputs = interpreter.get_signature_runner().get_output_details()
    return {name: by_index[details["index"]] for name, details in sorted(outputs.items())}


def embed_saved_model_metadata(path, saved_model_dir, variant, input_type, float_layers=None, agreement=None,
                               extra=None):  # fmt: skip
    """Writes ``tflite_metadata(...)`` into the file at ``path``; returns it (None: nothing to write)."""
    metadata = tflite_metadata(saved_model_dir, variant, input_type, float_layers, agreement, extra)
    if metadata is not None:
        # Swift's Interpreter (and C's) reads outputs by position, which follows no name order.
        positions = output_positions(path)
        metadata["tflite"]["output_positions"] = positions
        # Of the SavedModel's outputs, those the file has (int8 and --notflite_photo_likeness leave some out).
        metadata["tflite"]["outputs"] = {k: v for k, v in metadata["tflite"]["outputs"].items() if k in positions}
        write_tflite_metadata(path, metadata)
    return metadata
