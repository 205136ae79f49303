"""Each quantized layer's int8 error, as TFLite's QuantizationDebugger measures it, and their ranking.

``layer_errors`` reads the debugger's per-layer statistics; ``activation_spread`` gives each
tensor's spread in the float model, so that an error can be set against the signal it
disturbs; ``ranked_layers`` orders the layers worst first, deterministically (equal and
nearly equal errors by tensor name), which ``--int8_float_layers=N`` and
benchmarks/tflite_layers.py use.
"""

import csv
import io

import numpy as np

from pear_tf.exporting.converter import scoring_converter
from pear_tf.inference.tflite import as_input

# Errors that agree to this many significant digits count as a tie (broken by name): the
# debugger measures them on 50 images, and digits below that move with the machine's
# arithmetic (thread count, kernels), which must not reorder the layers.
SIGNIFICANT_DIGITS = 3


def layer_errors(debugger, spread=None):
    """The debugger's layers in graph order: dicts of ``tensor``, ``op``, ``steps`` and ``relative``.

    ``steps`` is the int8 error's rmse over the quantization step (about 0.29 for rounding
    alone); ``relative`` is its rmse over the float activation's std (``spread``: tensor
    name → std), the error against the signal, NaN where the float model has no such tensor.
    """
    buffer = io.StringIO()
    debugger.layer_statistics_dump(buffer)
    layers = []
    for row in csv.DictReader(io.StringIO(buffer.getvalue())):
        scale, rmse = float(row["scale"]), float(row["mean_squared_error"]) ** 0.5
        std = (spread or {}).get(row["tensor_name"], float("nan"))
        layers.append({"tensor": row["tensor_name"], "op": row["op_name"], "steps": rmse / scale if scale else 0.0,
                       "relative": rmse / std if std > 0 else float("nan")})  # fmt: skip
    return layers


def _rounded(value):
    return float(f"{value:.{SIGNIFICANT_DIGITS}g}")


def ranked_layers(layers):
    """Worst first: by ``relative`` error, then (where the float model lacks the tensor) by ``steps``.

    Steps alone cannot tell which layers hurt: in a healthy quantization every layer is at
    rounding (0.2-0.3 steps). A layer whose values use a sliver of their int8 range (a
    pooled feature vector, a logit) has a large error against its own spread. Errors equal
    to SIGNIFICANT_DIGITS are ordered by tensor name, so the order is the same on every machine.
    """
    known = [layer for layer in layers if np.isfinite(layer["relative"])]
    unknown = [layer for layer in layers if not np.isfinite(layer["relative"])]
    return sorted(known, key=lambda layer: (-_rounded(layer["relative"]), layer["tensor"])) + sorted(
        unknown, key=lambda layer: (-_rounded(layer["steps"]), layer["tensor"])
    )


def float_model(saved_model_dir, input_type):
    """The float32 TFLite model's bytes (builtin ops) of the graph int8 quantizes (without PHOTO_LIKENESS_OUTPUTS)."""
    return scoring_converter(saved_model_dir, input_type, int8=True).convert()


def activation_spread(model_content, input_type, images):
    """{tensor name: std of its values} in the float TFLite model (``model_content``) over ``images``."""
    import tensorflow as tf

    interpreter = tf.lite.Interpreter(model_content=model_content, experimental_preserve_all_tensors=True)
    interpreter.allocate_tensors()
    tensors = [d for d in interpreter.get_tensor_details() if d["dtype"] == np.float32]
    # Over every value of every image: a scalar such as the score has its spread across images.
    moments = {d["name"]: np.zeros(3) for d in tensors}
    for image in images:
        interpreter.set_tensor(interpreter.get_input_details()[0]["index"], as_input(image, input_type)[np.newaxis])
        interpreter.invoke()
        for d in tensors:
            value = interpreter.get_tensor(d["index"]).astype(np.float64)
            moments[d["name"]] += (value.size, value.sum(), np.square(value).sum())
    return {name: float(max(sq / n - (total / n) ** 2, 0.0)) ** 0.5 for name, (n, total, sq) in moments.items() if n}


def output_groups(model_content, names):
    """{layer: the layer and the layers that read its output}, over the quantized layers ``names``.

    A layer kept in float alone still hands its output on requantized to the int8 layer
    that reads it: the error of that boundary stays. Keeping a layer's output in float
    means keeping it and its readers in float (``model_content``: the float TFLite model,
    whose tensors the debugger's layers are named after).
    """
    from ai_edge_litert import schema_py_generated as schema

    model = schema.ModelT.InitFromPackedBuf(bytearray(model_content), 0)
    names = set(names)
    groups = {name: {name} for name in names}
    for subgraph in model.subgraphs:
        tensor_name = [(tensor.name or b"").decode() for tensor in subgraph.tensors]
        for op in subgraph.operators:
            outputs = {tensor_name[i] for i in (op.outputs if op.outputs is not None else []) if i >= 0} & names
            for i in op.inputs if op.inputs is not None else []:
                if i >= 0 and tensor_name[i] in names:
                    groups[tensor_name[i]] |= outputs
    return {name: frozenset(group) for name, group in groups.items()}
