"""TF Serving's REST predict format (DESIGN.md §7), parsed and checked, as pure functions.

Row format: ``{"instances": [...]}`` → ``{"predictions": [...]}``; columnar:
``{"inputs": ...}`` → ``{"outputs": {...}}``. Binary inputs are ``{"b64": "..."}``.
Every problem with a request raises BadRequest naming it, which the server answers
with a 4xx and ``{"error": "..."}``.
"""

import base64
import binascii

import numpy as np
import tensorflow as tf

from pear_tf.data.images import decode_checked

# Larger images are refused from their header, before any pixel is decoded.
REQUEST_MAX_PIXELS = 50_000_000
SIGNATURE_INPUTS = {"serving_default": "image_bytes", "predict_images": "images"}


class BadRequest(Exception):
    """A request the server refuses; ``status`` is the HTTP code (4xx)."""

    def __init__(self, message, status=400):
        super().__init__(message)
        self.status = status


def parse_body(body):
    """(signature name, list of instances, columnar?) from a decoded JSON body."""
    if not isinstance(body, dict):
        raise BadRequest("The request body must be a JSON object with 'instances' or 'inputs'.")
    signature = body.get("signature_name") or "serving_default"
    if signature not in SIGNATURE_INPUTS:
        raise BadRequest(f"Unknown signature_name {signature!r}; this model has {sorted(SIGNATURE_INPUTS)}.")
    if ("instances" in body) == ("inputs" in body):
        raise BadRequest("The request needs exactly one of 'instances' (row format) or 'inputs' (columnar format).")
    name = SIGNATURE_INPUTS[signature]
    if "instances" in body:
        instances = body["instances"]
        if not isinstance(instances, list) or not instances:
            raise BadRequest("'instances' must be a non-empty list.")
        values = [i[name] if isinstance(i, dict) and name in i else i for i in instances]
        return signature, values, False
    inputs = body["inputs"]
    if isinstance(inputs, dict):
        if name not in inputs:
            raise BadRequest(f"'inputs' must hold {name!r} for signature {signature!r}; got keys {sorted(inputs)}.")
        inputs = inputs[name]
    if not isinstance(inputs, list) or not inputs:
        raise BadRequest(f"'inputs' must be a non-empty list of {name!r} values.")
    return signature, inputs, True


def image_bytes(value, index, max_pixels=REQUEST_MAX_PIXELS):
    """Checks one ``{"b64": ...}`` instance and returns its bytes; BadRequest names the problem."""
    if not (isinstance(value, dict) and set(value) == {"b64"} and isinstance(value["b64"], str)):
        raise BadRequest(f'Instance {index}: an image must be given as {{"b64": "<base64 bytes>"}}.')
    try:
        data = base64.b64decode(value["b64"], validate=True)
    except (binascii.Error, ValueError) as e:
        raise BadRequest(f"Instance {index}: invalid base64 ({e}).") from None
    _, problem = decode_checked(data, max_pixels)
    if problem:
        raise BadRequest(f"Instance {index}: image rejected, {problem.rstrip('.')}.")
    return data


def image_tensor(value, index, image_size):
    """Checks one preprocessed image instance ([S, S, 3] numbers) for predict_images."""
    try:
        array = np.asarray(value, np.float32)
    except (TypeError, ValueError):
        raise BadRequest(f"Instance {index}: 'images' must be numbers, [{image_size}, {image_size}, 3].") from None
    if array.shape != (image_size, image_size, 3):
        raise BadRequest(f"Instance {index}: expected shape [{image_size}, {image_size}, 3], got {list(array.shape)}.")
    if not np.isfinite(array).all():
        raise BadRequest(f"Instance {index}: 'images' holds NaN or infinite values.")
    return array


def format_outputs(outputs, columnar):
    """Numpy outputs (name → [N, ...]) as TF Serving's JSON: predictions (rows) or outputs (columns)."""
    lists = {key: np.asarray(value).tolist() for key, value in outputs.items()}
    if columnar:
        return {"outputs": lists}
    count = len(next(iter(lists.values())))
    return {"predictions": [{key: value[i] for key, value in lists.items()} for i in range(count)]}


def _dtype_name(dtype):
    return "DT_" + tf.as_dtype(dtype).name.upper()


def _tensor_info(spec):
    dims = [{"size": str(-1 if d is None else d)} for d in spec.shape]
    return {"dtype": _dtype_name(spec.dtype), "tensor_shape": {"dim": dims}, "name": spec.name or ""}


def signature_metadata(signatures):
    """The signature_def map of TF Serving's metadata answer, from loaded concrete functions."""
    result = {}
    for name, function in signatures.items():
        inputs = function.structured_input_signature[1]
        outputs = function.structured_outputs
        result[name] = {
            "inputs": {key: _tensor_info(spec) for key, spec in inputs.items()},
            "outputs": {key: _tensor_info(tf.TensorSpec(t.shape, t.dtype, key)) for key, t in outputs.items()},
            "method_name": "tensorflow/serving/predict",
        }
    return {"signature_def": {"signature_def": result}}
