"""Property-based fuzzing of the server (Hypothesis, derandomized): mutated REST and gRPC requests.

From valid requests of both signatures, Hypothesis draws mutations of the bytes, the JSON
structure (deep nesting included), the base64 text, the encoded images, the tensors'
shapes, sizes, values and dtypes, and the model spec. Whatever arrives, the server answers
4xx (REST; 503 only for a full queue) or a status other than INTERNAL/UNKNOWN (gRPC), keeps
serving a known request with its exact score, and its memory stays bounded.
"""

import base64
import io
import json

import numpy as np
import pytest
import tensorflow as tf
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from tests.test_serving import LiveServer, _b64, _grpc, _jpeg, _predict_request

# Deterministic (derandomized, no example database), no per-example deadline, bounded in count.
FUZZ = settings(derandomize=True, database=None, deadline=None, max_examples=250,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])  # fmt: skip
MEMORY_BOUND_MB = 400  # the server's peak RSS may grow this much over a fuzz run
SIZE = 32  # the exported model's image size


def _png(seed):
    buffer = io.BytesIO()
    Image.fromarray(np.random.default_rng(seed).integers(0, 255, (20, 24, 3), dtype=np.uint8)).save(buffer, "PNG")
    return buffer.getvalue()


IMAGES = [_jpeg(0), _jpeg(1), _png(2)]
TENSOR = np.random.default_rng(3).uniform(0, 255, (1, SIZE, SIZE, 3)).round(1).astype(np.float32)
VALID_BODIES = [
    {"instances": [_b64(IMAGES[0]), _b64(IMAGES[2])]},
    {"signature_name": "serving_default", "inputs": {"image_bytes": [_b64(IMAGES[1])]}},
    {"signature_name": "predict_images", "instances": TENSOR.tolist()},
]
GOOD = {"instances": [_b64(IMAGES[0])]}

# Leaves a client can send; integers far beyond float32 and non-finite floats included.
LEAVES = (st.none() | st.booleans() | st.integers() | st.sampled_from([10**400, -(10**40), 2**63])
          | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=12))  # fmt: skip
JSON = st.recursive(
    LEAVES, lambda kids: st.lists(kids, max_size=4) | st.dictionaries(st.text(max_size=8), kids, max_size=4),
    max_leaves=16,
)
DIMS = st.lists(st.sampled_from([0, 1, 2, 3, 31, SIZE, 33, 8192, 2**31 - 1, -1]), max_size=5)


def _bytes_mutation(data, draw):
    """Up to 4 byte edits (replace, insert, delete) and maybe a truncation."""
    data = bytearray(data)
    for _ in range(draw(st.integers(0, 4))):
        at = draw(st.integers(0, max(len(data) - 1, 0)))
        kind = draw(st.sampled_from(["replace", "insert", "delete"]))
        byte = draw(st.integers(0, 255))
        if kind == "replace" and data:
            data[at] = byte
        elif kind == "insert":
            data.insert(at, byte)
        elif data:
            del data[at]
    if draw(st.booleans()):
        data = data[: draw(st.integers(0, len(data)))]
    return bytes(data)


def _paths(node, prefix=()):
    """Every path (keys and indices) into a JSON value, the value itself first."""
    yield prefix
    children = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, child in children:
        if len(prefix) < 3 or not isinstance(child, list):  # not into each pixel of a tensor
            yield from _paths(child, prefix + (key,))


def _replace(node, path, value):
    if not path:
        return value
    copy = dict(node) if isinstance(node, dict) else list(node)
    copy[path[0]] = _replace(node[path[0]], path[1:], value)
    return copy


def _get(node, path):
    for key in path:
        node = node[key]
    return node


@st.composite
def rest_bodies(draw):
    """The raw bytes of a mutated REST predict body."""
    body = draw(st.sampled_from(VALID_BODIES))
    kind = draw(st.sampled_from(["bytes", "subtree", "nest", "image", "b64", "tensor", "count"]))
    paths = list(_paths(body))
    if kind == "bytes":
        return _bytes_mutation(json.dumps(body).encode(), draw)
    if kind == "subtree":
        body = _replace(body, draw(st.sampled_from(paths)), draw(JSON))
    elif kind == "nest":
        depth = draw(st.sampled_from([2, 50, 900, 5_000, 100_000]))
        if draw(st.booleans()):  # the whole body, or one value, at the bottom of depth lists
            return ("[" * depth + json.dumps(body) + "]" * depth).encode()
        path = draw(st.sampled_from(paths))
        return json.dumps(_replace(body, path, "@@")).replace('"@@"', "[" * depth + "1" + "]" * depth).encode()
    elif kind in ("image", "b64"):
        holders = [p for p in paths if isinstance(_get(body, p), dict) and "b64" in _get(body, p)]
        if not holders:
            return json.dumps(body).encode()
        path = draw(st.sampled_from(holders))
        text = _get(body, path)["b64"]
        if kind == "image":
            text = base64.b64encode(_bytes_mutation(base64.b64decode(text), draw)).decode()
        else:
            text = _bytes_mutation(text.encode(), draw).decode("latin-1")
        body = _replace(body, path, {"b64": text})
    elif kind == "tensor":
        # A JSON tensor of that shape (an empty axis counted as 1: [[]] * n is still n lists).
        shape = draw(DIMS.filter(lambda dims: int(np.prod([max(d, 1) for d in dims])) <= 20_000))
        value = draw(st.sampled_from([0, 1.5, float("nan"), float("inf"), "x", None, True, 10**400, [1]]))
        tensor = np.full(tuple(max(d, 0) for d in shape), 0.0).tolist() if shape else 0.0
        tensor = json.loads(json.dumps(tensor).replace("0.0", json.dumps(value) if value == value else "NaN"))
        body = {"signature_name": draw(st.sampled_from(["predict_images", "serving_default"])), "instances": tensor}
    else:  # count: none, many, more than the queue can ever hold, more than the body limit
        key = "inputs" if "inputs" in body else "instances"
        items = body[key]["image_bytes"] if isinstance(body[key], dict) else body[key]
        count = draw(st.sampled_from([0, 1, 5, 33, 200]))
        body = {**body, key: (items * count)[:count]}
    return json.dumps(body, allow_nan=True).encode()


def _rss_mb(field):
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith(field)) / 1024


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    from tests.conftest import export_tiny_pear

    base = str(tmp_path_factory.mktemp("savedmodels") / "pear")
    export_tiny_pear(base, mc_samples=0)
    server = LiveServer(base, max_pixels=100_000, max_request_bytes=200_000, max_batch_size=4)
    yield server
    server.stop()


@pytest.fixture
def bounded_memory():
    """Resets the peak RSS (Linux clear_refs), then checks the peak grew less than MEMORY_BOUND_MB."""
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
    before = _rss_mb("VmRSS:")
    yield
    assert _rss_mb("VmHWM:") - before < MEMORY_BOUND_MB, (before, _rss_mb("VmHWM:"))


def _good_score(live):
    status, body = live.request("/v1/models/pear:predict", GOOD)
    assert status == 200, body
    return body["predictions"][0]["score"]


def test_mutated_rest_requests_get_a_4xx_and_the_server_keeps_its_answers(live, bounded_memory):
    expected = _good_score(live)

    @FUZZ
    @given(rest_bodies())
    def fuzz(raw):
        status, headers, data = live.request_raw("/v1/models/pear:predict", raw=raw)
        assert status < 500 or status == 503, (status, data[:300], raw[:300])
        if status >= 400:
            assert headers["Content-Type"].startswith("application/json") and "error" in json.loads(data)

    fuzz()
    assert _good_score(live) == pytest.approx(expected, rel=1e-6)


def _mutate_proto(request, name, kind, draw):
    """One mutation of a PredictRequest, in place."""
    proto = request.inputs[name]
    if kind == "dtype":
        proto.dtype = draw(st.sampled_from([0, 1, 2, 3, 7, 9, 10, 14, 19, 23, 100, 2**30]))
    elif kind == "shape":
        del proto.tensor_shape.dim[:]
        for size in draw(DIMS):
            proto.tensor_shape.dim.add(size=size)
        proto.tensor_shape.unknown_rank = draw(st.booleans()) and draw(st.booleans())
    elif kind == "values":  # a value list that may be shorter than the shape (TensorFlow pads it)
        if proto.string_val:
            values = [_bytes_mutation(v, draw) for v in proto.string_val] * draw(st.integers(0, 3))
            del proto.string_val[:]
            proto.string_val.extend(values)
        else:
            proto.tensor_content = b""
            proto.float_val.extend(draw(st.lists(st.floats(width=32), max_size=8)))
    elif kind == "content":
        proto.tensor_content = draw(st.binary(max_size=64)) if draw(st.booleans()) else proto.tensor_content[:100]
    elif kind == "spec":
        spec = request.model_spec
        spec.name = draw(st.sampled_from(["pear", "", "other", "pear/1"]))
        if draw(st.booleans()):
            spec.version.value = draw(st.sampled_from([0, 1, 2, -1, 2**62]))
        spec.version_label = draw(st.sampled_from(["", "stable", "x" * 300]))
        spec.signature_name = draw(st.sampled_from(["", "serving_default", "predict_images", "nope"]))
        request.output_filter.extend(draw(st.lists(st.sampled_from(["score", "nope", ""]), max_size=2)))
    else:  # inputs: another alias, beside or instead of the right one
        request.inputs[draw(st.sampled_from(["images", "image_bytes", "pixels", ""]))].CopyFrom(proto)
        if draw(st.booleans()) and len(request.inputs) > 1:
            del request.inputs[name]


@st.composite
def grpc_requests(draw):
    """A PredictRequest with one to three mutations, or the bytes of one, mutated."""
    if draw(st.booleans()):
        request = _predict_request([IMAGES[0], IMAGES[2]])
    else:
        request = _predict_request(signature="predict_images", inputs={"images": tf.make_tensor_proto(TENSOR)})
    if draw(st.integers(0, 6)) == 0:
        return _bytes_mutation(request.SerializeToString(), draw)
    name = next(iter(request.inputs))
    kinds = draw(st.lists(st.sampled_from(["dtype", "shape", "values", "content", "spec", "inputs"]), min_size=1,
                          max_size=3))  # fmt: skip
    for kind in kinds:
        if name in request.inputs:
            _mutate_proto(request, name, kind, draw)
    return request


def test_mutated_grpc_requests_never_fail_inside_and_the_server_keeps_its_answers(live, bounded_memory):
    import grpc
    from tensorflow_serving.apis import predict_pb2

    expected = _good_score(live)
    prediction, _ = _grpc(live)
    raw = grpc.insecure_channel(live.grpc_address).unary_unary(
        "/tensorflow.serving.PredictionService/Predict", response_deserializer=predict_pb2.PredictResponse.FromString
    )

    @FUZZ
    @given(grpc_requests())
    def fuzz(request):
        try:
            if isinstance(request, bytes):
                raw(request, timeout=60)
            else:
                prediction.Predict(request, timeout=60)
        except grpc.RpcError as error:
            assert error.code() not in (grpc.StatusCode.INTERNAL, grpc.StatusCode.UNKNOWN), (
                error.code(), error.details(), request if isinstance(request, bytes) else str(request)[:500])

    fuzz()
    response = prediction.Predict(_predict_request([IMAGES[0]]), timeout=60)
    assert tf.make_ndarray(response.outputs["score"])[0] == pytest.approx(expected, rel=1e-6)
    assert _good_score(live) == pytest.approx(expected, rel=1e-6)


@pytest.mark.parametrize(
    "raw, words",
    [(b"[" * 100_000, "Malformed JSON"), (b'{"instances": ' + b"[" * 5_000 + b"1" + b"]" * 5_000 + b"}", ""),
     (b'{"signature_name": ["x"], "instances": [1]}', "signature_name"),
     (b'{"signature_name": "predict_images", "instances": [1' + b"0" * 400 + b"]}", "'images' must be")],
    ids=["nested 100000 deep", "nested instance", "a list as signature_name", "an integer beyond float"],
)  # fmt: skip
def test_what_the_fuzzing_found_is_refused_by_name(live, raw, words):
    status, body = live.request("/v1/models/pear:predict", raw=raw)
    assert status == 400 and words in body["error"], (status, body)


def _grpc_case(kind):
    request = _predict_request(signature="predict_images", inputs={"images": tf.make_tensor_proto(TENSOR)})
    proto = request.inputs["images"]
    if kind == "a dtype no tensor has":
        proto.dtype = 0
    elif kind == "a shape of 2**31 values in a few bytes":
        proto.tensor_content = b""
        proto.float_val.append(1.0)
        proto.tensor_shape.dim[0].size = 2**31 // (SIZE * SIZE * 3)
    else:  # content that does not fill the shape
        proto.tensor_content = proto.tensor_content[:100]
    return request


@pytest.mark.parametrize(
    "kind, words",
    [("a dtype no tensor has", "must be DT_FLOAT; got unknown dtype 0"),
     ("a shape of 2**31 values in a few bytes", "declares 2147481600 values"),
     ("content shorter than its shape", "is not a valid float32 tensor of shape [1, 32, 32, 3]")],
)  # fmt: skip
def test_what_the_grpc_fuzzing_found_is_refused_by_name(live, kind, words):
    import grpc

    with pytest.raises(grpc.RpcError) as error:
        _grpc(live)[0].Predict(_grpc_case(kind), timeout=60)
    assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT and words in error.value.details(), error.value
