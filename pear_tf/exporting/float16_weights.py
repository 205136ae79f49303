"""The float layers of a selectively quantized int8 model, with their weights stored as float16.

TFLite's converter has no mixed int8/float16 mode: the layers an int8 search keeps in
float (QuantizationDebugger's ``denylisted_nodes``) keep float32 weights, 4 bytes a
value against int8's 1, and a dozen such layers can double the file. This rewrites the
flatbuffer the way the converter's own float16 variant is laid out: each float32
constant that a float op reads becomes a float16 constant and a DEQUANTIZE op (float16
→ float32) ahead of it. The ops compute in float32 as before; only the weights are
rounded to float16 (the float16 variant's error, which keeps the ranking: BUILD_NOTES).
XNNPACK folds a DEQUANTIZE of a static float16 tensor into the weights it feeds, and
LiteRT's own kernel dequantizes a constant once, at Prepare: no cost per invoke.
"""

import flatbuffers
import numpy as np

_FILE_IDENTIFIER = b"TFL3"
# Smaller constants (a scalar, a shape-like vector) save fewer bytes than their DEQUANTIZE op costs.
MIN_VALUES = 16


def float32_weights_to_float16(data):
    """The .tflite model ``data`` (bytes) with its float32 constants of MIN_VALUES or more stored as float16.

    Returns:
      (new model bytes, number of constants converted).
    """
    from ai_edge_litert import schema_py_generated as schema

    model = schema.ModelT.InitFromPackedBuf(bytearray(data), 0)
    dequantize = _opcode_index(model, schema.BuiltinOperator.DEQUANTIZE)
    converted, emptied = 0, set()
    for subgraph in model.subgraphs:
        new_ops = []
        for index in sorted(_float_constants(model, subgraph, schema)):
            tensor = subgraph.tensors[index]
            values = np.frombuffer(np.asarray(model.buffers[tensor.buffer].data, np.uint8).tobytes(), np.float32)
            half = schema.TensorT()
            half.name = (tensor.name or b"") + b"_float16"
            half.shape, half.type = tensor.shape, schema.TensorType.FLOAT16
            half.buffer = len(model.buffers)
            buffer = schema.BufferT()
            buffer.data = np.frombuffer(values.astype(np.float16).tobytes(), np.uint8)
            model.buffers.append(buffer)
            subgraph.tensors.append(half)
            emptied.add(tensor.buffer)
            tensor.buffer = 0  # buffer 0 is the empty one: the float32 tensor is now computed
            op = schema.OperatorT()
            op.opcodeIndex, op.inputs, op.outputs = dequantize, [len(subgraph.tensors) - 1], [index]
            new_ops.append(op)
            converted += 1
        # Constants first: every DEQUANTIZE runs before any op that reads its output.
        subgraph.operators = new_ops + list(subgraph.operators)
    in_use = {tensor.buffer for subgraph in model.subgraphs for tensor in subgraph.tensors}
    for index in emptied - in_use:
        model.buffers[index].data = None  # the float32 bytes: no tensor reads them any more
    builder = flatbuffers.Builder(len(data) + 1024)
    builder.Finish(model.Pack(builder), file_identifier=_FILE_IDENTIFIER)
    return bytes(builder.Output()), converted


def _float_constants(model, subgraph, schema):
    """Indices of float32 tensors with data (MIN_VALUES or more) that ops of ``subgraph`` read."""
    found = set()
    for op in subgraph.operators:
        for index in op.inputs if op.inputs is not None else []:
            if index < 0:
                continue
            tensor = subgraph.tensors[index]
            data = model.buffers[tensor.buffer].data if tensor.buffer else None
            if tensor.type == schema.TensorType.FLOAT32 and data is not None and len(data) >= 4 * MIN_VALUES:
                found.add(int(index))
    return found


def _opcode_index(model, builtin):
    """The index of ``builtin`` in the model's operator codes, added if missing."""
    from ai_edge_litert import schema_py_generated as schema

    for index, code in enumerate(model.operatorCodes):
        if max(code.builtinCode, code.deprecatedBuiltinCode) == builtin:
            return index
    code = schema.OperatorCodeT()
    code.builtinCode = code.deprecatedBuiltinCode = builtin
    code.version = 3  # DEQUANTIZE of float16 (the version the converter's float16 files declare)
    model.operatorCodes.append(code)
    return len(model.operatorCodes) - 1
