"""TF Serving's REST predict format (DESIGN.md §7), parsed and checked, as pure functions.

Row format: ``{"instances": [...]}`` → ``{"predictions": [...]}``; columnar:
``{"inputs": ...}`` → ``{"outputs": {...}}``. Binary inputs are ``{"b64": "..."}``.
Every problem with a request raises ServingError naming it, which the server answers
with a 4xx and ``{"error": "..."}``.
"""

import base64
import binascii

import numpy as np
from google.protobuf import json_format

from pear_tf.serving.core import SIGNATURE_INPUTS
from pear_tf.serving.errors import ServingError


def parse_body(body):
    """(signature name, list of instances, columnar?) from a decoded JSON body."""
    if not isinstance(body, dict):
        raise ServingError("The request body must be a JSON object with 'instances' or 'inputs'.")
    signature = body.get("signature_name") or "serving_default"
    if not isinstance(signature, str) or signature not in SIGNATURE_INPUTS:
        raise ServingError(f"Unknown signature_name {signature!r}; this model has {sorted(SIGNATURE_INPUTS)}.")
    if ("instances" in body) == ("inputs" in body):
        raise ServingError("The request needs exactly one of 'instances' (row format) or 'inputs' (columnar format).")
    name = SIGNATURE_INPUTS[signature]
    if "instances" in body:
        instances = body["instances"]
        if not isinstance(instances, list) or not instances:
            raise ServingError("'instances' must be a non-empty list.")
        values = [i[name] if isinstance(i, dict) and name in i else i for i in instances]
        return signature, values, False
    inputs = body["inputs"]
    if isinstance(inputs, dict):
        if name not in inputs:
            raise ServingError(f"'inputs' must hold {name!r} for signature {signature!r}; got keys {sorted(inputs)}.")
        inputs = inputs[name]
    if not isinstance(inputs, list) or not inputs:
        raise ServingError(f"'inputs' must be a non-empty list of {name!r} values.")
    return signature, inputs, True


def image_bytes(value, index):
    """The bytes of one ``{"b64": ...}`` instance; ServingError names the problem."""
    if not (isinstance(value, dict) and set(value) == {"b64"} and isinstance(value["b64"], str)):
        raise ServingError(f'Instance {index}: an image must be given as {{"b64": "<base64 bytes>"}}.')
    try:
        return base64.b64decode(value["b64"], validate=True)
    except (binascii.Error, ValueError) as e:
        raise ServingError(f"Instance {index}: invalid base64 ({e}).") from None


def image_tensors(values):
    """Preprocessed image instances for predict_images as one float32 array (its shape is checked later)."""
    try:
        return np.asarray(values, np.float32)
    except (TypeError, ValueError, OverflowError):  # not numbers, ragged, or an integer beyond float32
        raise ServingError("'images' must be numbers, one [S, S, 3] array per instance.") from None


def pixel_tensors(values):
    """Decoded image instances for predict_pixels as one uint8 array (its shape is checked later)."""
    try:
        array = np.asarray(values)
    except (TypeError, ValueError):
        array = None
    if array is None or array.dtype.kind not in "iu" or (array.size and (array.min() < 0 or array.max() > 255)):
        raise ServingError("'pixels' must be integers 0..255, one [H, W, 3] upright RGB array per instance.")
    return array.astype(np.uint8)


def format_outputs(outputs, columnar):
    """Numpy outputs (name → [N, ...]) as TF Serving's JSON: predictions (rows) or outputs (columns)."""
    lists = {key: np.asarray(value).tolist() for key, value in outputs.items()}
    if columnar:
        return {"outputs": lists}
    count = len(next(iter(lists.values())))
    return {"predictions": [{key: value[i] for key, value in lists.items()} for i in range(count)]}


def signature_metadata(signature_defs):
    """The signature_def map of TF Serving's metadata answer, from the SavedModel's SignatureDef protos."""
    return {
        "signature_def": {
            "signature_def": {name: json_format.MessageToDict(proto) for name, proto in signature_defs.items()}
        }
    }
