"""A SavedModel's signatures and their inputs, read from ``saved_model.pb`` without TensorFlow.

Protocol buffers' wire format is walked by hand down the three messages on the way: SavedModel
``meta_graphs`` (field 2) → MetaGraphDef ``signature_def`` (5, a map: entries of key 1 and value 2)
→ SignatureDef ``inputs`` (1, a map of the same shape). Every other field is skipped by its
length, so a graph of any size costs only the walk over its top-level fields. TensorFlow's own
protos would import TensorFlow (tests/test_beam_score.py checks the two agree).
"""

from pear_tf.errors import BadValue
from pear_tf.inference import storage

_VARINT, _FIXED64, _DELIMITED, _FIXED32 = 0, 1, 2, 5


def _varint(data, at):
    value, shift = 0, 0
    while True:
        byte = data[at]
        value |= (byte & 0x7F) << shift
        at += 1
        if byte < 0x80:
            return value, at
        shift += 7


def _fields(data):
    """(field number, value) of one message: an int, or a memoryview of a length-delimited field."""
    at = 0
    while at < len(data):
        key, at = _varint(data, at)
        number, wire_type = key >> 3, key & 7
        if wire_type == _VARINT:
            value, at = _varint(data, at)
        elif wire_type == _DELIMITED:
            size, at = _varint(data, at)
            value, at = data[at : at + size], at + size
        elif wire_type in (_FIXED64, _FIXED32):
            size = 8 if wire_type == _FIXED64 else 4
            value, at = data[at : at + size], at + size
        else:  # groups (3, 4) are not in these messages
            raise ValueError(f"wire type {wire_type} at byte {at}")
        yield number, value


def _map(entries):
    """{key: value bytes} of a protobuf map field's entries (each a message: key 1, value 2)."""
    result = {}
    for entry in entries:
        fields = dict(_fields(entry))
        result[bytes(fields.get(1, b"")).decode("utf-8")] = fields.get(2, memoryview(b""))
    return result


def signature_inputs(saved_model_bytes):
    """{signature name: (input names)} of the first meta graph of a serialized SavedModel."""
    data = memoryview(saved_model_bytes)
    meta_graph = next((value for number, value in _fields(data) if number == 2), memoryview(b""))
    signatures = _map(value for number, value in _fields(meta_graph) if number == 5)
    return {
        name: tuple(_map(value for number, value in _fields(signature) if number == 1))
        for name, signature in signatures.items()
    }


def check_serving_signature(version_dir, signature="serving_default", input_name="image_bytes"):
    """Raises BadValue naming ``version_dir`` unless its SavedModel has ``signature`` on ``input_name``."""
    path = f"{version_dir.rstrip('/')}/saved_model.pb"
    try:
        inputs = signature_inputs(storage.read_bytes(path))
    except (ValueError, IndexError, UnicodeDecodeError):
        inputs = {}  # not a SavedModel proto: said below as for one without the signature
    if input_name not in inputs.get(signature, ()):
        raise BadValue(
            f"--model={version_dir!r} has no {signature} signature on {input_name}: "
            "export it with pear_tf.export (or pear_tf.train)."
        )
