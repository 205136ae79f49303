"""The local server: TF Serving's REST and gRPC APIs, equal to the SavedModel, a clear refusal for
every bad request on both, fast refusals under overload, and metrics that count it all."""

import asyncio
import base64
import io
import json
import shutil
import threading
import time
import urllib.error
import urllib.request
import struct
import zlib

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from pear_tf.exporting import saved_model as export_lib
from pear_tf.serving.core import ServingConfig


def _jpeg(seed, size=40):
    buffer = io.BytesIO()
    Image.fromarray(np.random.default_rng(seed).integers(0, 255, (size, size + 5, 3), dtype=np.uint8)).save(
        buffer, "JPEG"
    )
    return buffer.getvalue()


def _b64(data):
    return {"b64": base64.b64encode(data).decode()}


def _png_declaring(width, height):
    """A PNG whose header declares width×height but carries almost no data: a decompression bomb."""

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + chunk(b"IEND", b"")
    )


class LiveServer:
    """The real server (REST and gRPC) on loopback ports, in a thread with its own event loop."""

    def __init__(self, base_path=None, name="pear", specs=None, **config):
        from pear_tf.serving.model_config import default_spec
        from pear_tf.serving.server import RunningServer, build_model_server

        specs = specs or [default_spec(name, base_path)]
        self.model_server = build_model_server(specs, ServingConfig(**{"poll_seconds": 0.2, **config}))
        self.running = RunningServer(self.model_server, "127.0.0.1", 0, 0)
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        asyncio.run_coroutine_threadsafe(self.running.start(), self.loop).result(30)
        self.url = f"http://127.0.0.1:{self.running.rest_port}"
        self.grpc_address = f"127.0.0.1:{self.running.grpc_port}"

    def request(self, path, body=None, raw=None, method=None):
        """(status, JSON body) of a REST request."""
        status, _, data = self.request_raw(path, body, raw, method)
        return status, json.loads(data)

    def request_raw(self, path, body=None, raw=None, method=None):
        """(status, headers, body bytes) of a REST request."""
        data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
        request = urllib.request.Request(self.url + path, data=data, method=method)
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return response.status, response.headers, response.read()
        except urllib.error.HTTPError as e:
            return e.code, e.headers, e.read()

    def stop(self):
        asyncio.run_coroutine_threadsafe(self.running.stop(), self.loop).result(30)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    from tests.conftest import export_tiny_pear

    base = str(tmp_path_factory.mktemp("savedmodels") / "pear")
    _, model = export_tiny_pear(base, mc_samples=0)
    return base, model


@pytest.fixture(scope="module")
def server(exported):
    live = LiveServer(exported[0], max_pixels=100_000, max_request_bytes=200_000, max_batch_size=4)
    yield live
    live.stop()


def test_status_and_metadata(server):
    status, body = server.request("/v1/models/pear")
    assert status == 200 and body["model_version_status"][0]["state"] == "AVAILABLE"
    status, body = server.request("/v1/models/pear/versions/1/metadata")
    signatures = body["metadata"]["signature_def"]["signature_def"]
    assert status == 200 and set(signatures) >= {"serving_default", "predict_images"}
    assert signatures["serving_default"]["inputs"]["image_bytes"]["dtype"] == "DT_STRING"
    assert body["metadata"]["pear_tf"]["attribute_names"][0] == "BalacingElements"


def test_rest_answers_equal_the_saved_model(server, exported):
    images = [_jpeg(1), _jpeg(2)]
    direct = tf.saved_model.load(exported[0] + "/1").signatures["serving_default"](image_bytes=tf.constant(images))
    status, rows = server.request("/v1/models/pear:predict", {"instances": [_b64(b) for b in images]})
    assert status == 200 and len(rows["predictions"]) == 2
    np.testing.assert_allclose([r["score"] for r in rows["predictions"]], direct["score"].numpy(), rtol=1e-5)
    np.testing.assert_allclose([r["attributes"] for r in rows["predictions"]], direct["attributes"].numpy(), rtol=1e-5)
    status, columns = server.request(
        "/v1/models/pear/versions/1:predict", {"inputs": {"image_bytes": [_b64(images[1])]}}
    )
    assert status == 200
    np.testing.assert_allclose(columns["outputs"]["distribution"][0], direct["distribution"].numpy()[1], rtol=1e-5)
    tensor = np.random.default_rng(3).uniform(0, 255, (32, 32, 3)).round(2)
    status, rows = server.request(
        "/v1/models/pear:predict", {"signature_name": "predict_images", "instances": [tensor.tolist()]}
    )
    expected = tf.saved_model.load(exported[0] + "/1").signatures["predict_images"](
        images=tf.constant(tensor[None], tf.float32)
    )
    assert status == 200
    np.testing.assert_allclose(rows["predictions"][0]["score"], expected["score"].numpy()[0], rtol=1e-5)


def test_concurrent_requests_are_batched_and_answered_in_order(server):
    images = [_jpeg(10 + i) for i in range(8)]
    _, single = server.request("/v1/models/pear:predict", {"instances": [_b64(b) for b in images]})
    results = [None] * 8

    def call(i):
        results[i] = server.request("/v1/models/pear:predict", {"instances": [_b64(images[i])]})

    threads = [threading.Thread(target=call, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for i, (status, body) in enumerate(results):
        assert status == 200
        assert body["predictions"][0]["score"] == pytest.approx(single["predictions"][i]["score"], rel=1e-5)


# kind: (request, expected status, words the error must contain)
BAD_REQUESTS = {
    "malformed JSON": (dict(raw=b"{not json"), 400, "Malformed JSON"),
    "not an object": (dict(body=[1, 2]), 400, "JSON object"),
    "no instances or inputs": (dict(body={"foo": []}), 400, "'instances'"),
    "both instances and inputs": (dict(body={"instances": [], "inputs": []}), 400, "exactly one"),
    "wrong input key": (dict(body={"inputs": {"pixels": [1]}}), 400, "'image_bytes'"),
    "not b64": (dict(body={"instances": ["plain string"]}), 400, '"b64"'),
    "bad base64": (dict(body={"instances": [{"b64": "@@@not base64@@@"}]}), 400, "invalid base64"),
    "zero-byte image": (dict(body={"instances": [{"b64": ""}]}), 400, "zero bytes"),
    "non-image bytes": (dict(body={"instances": [_b64(b"<html>hello</html>")]}), 400, "unknown image format"),
    "truncated header": (dict(body={"instances": [_b64(_jpeg(5)[:200])]}), 400, "damaged or truncated"),
    # The header is whole, so the model's decoder finds the damage; the server names the instance.
    "truncated image": (
        dict(body={"instances": [_b64(_jpeg(0)), _b64(_jpeg(5)[:1200])]}),
        400,
        "Instance 1: image rejected, not decodable",
    ),
    "decompression bomb": (dict(body={"instances": [_b64(_png_declaring(60000, 60000))]}), 400, "too many pixels"),
    "unknown signature": (dict(body={"signature_name": "nope", "instances": [1]}), 400, "signature_name"),
    "wrong tensor shape": (dict(body={"signature_name": "predict_images", "instances": [[[1, 2, 3]]]}), 400, "shape"),
    "too large": (dict(raw=json.dumps({"instances": [_b64(b"x" * 300_000)]}).encode()), 413, "body size"),
}


@pytest.mark.parametrize("kind", sorted(BAD_REQUESTS))
def test_bad_request_gets_a_4xx_naming_it_and_the_server_stays_up(server, kind):
    request, expected_status, words = BAD_REQUESTS[kind]
    status, body = server.request("/v1/models/pear:predict", **request)
    assert status == expected_status and words in body["error"], (kind, status, body)
    status, body = server.request("/v1/models/pear:predict", {"instances": [_b64(_jpeg(0))]})
    assert status == 200 and len(body["predictions"]) == 1


@pytest.mark.parametrize(
    "path, expected",
    [("/v1/models/other:predict", 404), ("/v1/models/pear/versions/9:predict", 404),
     ("/v1/models/pear/versions/x", 400)],
)  # fmt: skip
def test_unknown_model_or_version_is_404_or_400(server, path, expected):
    status, body = server.request(path, {"instances": [_b64(_jpeg(0))]} if path.endswith("predict") else None)
    assert status == expected and body["error"], (status, body)


def test_a_new_version_is_picked_up_while_serving(exported, tmp_path):
    base = str(tmp_path / "pear")
    shutil.copytree(exported[0], base)
    live = LiveServer(base)
    try:
        assert live.request("/v1/models/pear")[1]["model_version_status"][0]["version"] == "1"
        export_lib.export_saved_model(
            exported[1], base, export_lib.export_metadata(exported[1], "synthetic"), mc_samples=0
        )
        # TF Serving's default policy serves the latest version only: 2 replaces 1.
        assert _wait_until(lambda: _versions(live) == ["2"]), _versions(live)
        status, body = live.request("/v1/models/pear/versions/2:predict", {"instances": [_b64(_jpeg(0))]})
        assert status == 200
        assert live.request("/v1/models/pear/versions/1:predict", {"instances": [_b64(_jpeg(0))]})[0] == 404
    finally:
        live.stop()


def _versions(live, name="pear"):
    """The versions the server reports for ``name`` ([] while it has none)."""
    return [s["version"] for s in live.request(f"/v1/models/{name}")[1].get("model_version_status", [])]


def test_a_request_larger_than_max_batch_size_is_split(server, exported):
    images = [_jpeg(40 + i) for i in range(10)]  # the server's max_batch_size is 4
    before = _metric(server, "pear_serving_batch_size_count", model="pear", signature="serving_default")
    status, body = server.request("/v1/models/pear:predict", {"instances": [_b64(b) for b in images]})
    direct = tf.saved_model.load(exported[0] + "/1").signatures["serving_default"](image_bytes=tf.constant(images))
    assert status == 200
    np.testing.assert_allclose([r["score"] for r in body["predictions"]], direct["score"].numpy(), rtol=1e-5)
    assert _metric(server, "pear_serving_batch_size_count", model="pear", signature="serving_default") >= before + 3
    # Every batch the server ran fits in max_batch_size.
    assert _metric(server, "pear_serving_batch_size_bucket", le="4.0", signature="serving_default") == _metric(
        server, "pear_serving_batch_size_count", signature="serving_default"
    )


# ---- gRPC: TF Serving's protos, a client written for the real TF Serving. ----


def _grpc(server):
    import grpc
    from tensorflow_serving.apis import model_service_pb2_grpc, prediction_service_pb2_grpc

    channel = grpc.insecure_channel(server.grpc_address)
    return prediction_service_pb2_grpc.PredictionServiceStub(channel), model_service_pb2_grpc.ModelServiceStub(channel)


def _predict_request(images=None, name="pear", signature="", version=None, label=None, inputs=None):
    from tensorflow_serving.apis import predict_pb2

    request = predict_pb2.PredictRequest()
    request.model_spec.name = name
    request.model_spec.signature_name = signature
    if version is not None:
        request.model_spec.version.value = version
    if label is not None:
        request.model_spec.version_label = label
    inputs = {"image_bytes": tf.make_tensor_proto(images, tf.string)} if inputs is None else inputs
    for key, value in inputs.items():
        request.inputs[key].CopyFrom(value)
    return request


def test_grpc_answers_equal_rest(server):
    from tensorflow_serving.apis import get_model_metadata_pb2, get_model_status_pb2

    prediction, models = _grpc(server)
    images = [_jpeg(1), _jpeg(2)]
    _, rest = server.request("/v1/models/pear:predict", {"instances": [_b64(b) for b in images]})
    response = prediction.Predict(_predict_request(images), timeout=60)
    assert response.model_spec.version.value == 1 and response.model_spec.signature_name == "serving_default"
    for key in ("score", "score_std", "distribution", "attributes"):
        np.testing.assert_allclose(
            tf.make_ndarray(response.outputs[key]), [r[key] for r in rest["predictions"]], rtol=1e-5
        )
    tensor = np.random.default_rng(3).uniform(0, 255, (1, 32, 32, 3)).astype(np.float32)
    _, rest = server.request(
        "/v1/models/pear:predict", {"signature_name": "predict_images", "instances": tensor.tolist()}
    )
    request = _predict_request(signature="predict_images", version=1, inputs={"images": tf.make_tensor_proto(tensor)})
    request.output_filter.append("score")
    response = prediction.Predict(request, timeout=60)
    assert list(response.outputs) == ["score"]
    np.testing.assert_allclose(tf.make_ndarray(response.outputs["score"]), [rest["predictions"][0]["score"]], rtol=1e-5)

    metadata_request = get_model_metadata_pb2.GetModelMetadataRequest(metadata_field=["signature_def"])
    metadata_request.model_spec.name = "pear"
    metadata = prediction.GetModelMetadata(metadata_request, timeout=60)
    signatures = get_model_metadata_pb2.SignatureDefMap()
    metadata.metadata["signature_def"].Unpack(signatures)
    assert signatures.signature_def["serving_default"].inputs["image_bytes"].dtype == tf.string.as_datatype_enum
    _, rest = server.request("/v1/models/pear/metadata")
    assert set(signatures.signature_def) == set(rest["metadata"]["signature_def"]["signature_def"])

    status_request = get_model_status_pb2.GetModelStatusRequest()
    status_request.model_spec.name = "pear"
    status = models.GetModelStatus(status_request, timeout=60).model_version_status
    assert [(s.version, s.state) for s in status] == [(1, get_model_status_pb2.ModelVersionStatus.AVAILABLE)]


IMAGE_KINDS = {"zero-byte image", "non-image bytes", "truncated header", "truncated image", "decompression bomb"}


def _grpc_twin(kind):
    """The gRPC request for each REST bad-request kind, and the status code TF Serving answers."""
    if kind in IMAGE_KINDS:
        body = BAD_REQUESTS[kind][0]["body"]
        return _predict_request([base64.b64decode(i["b64"]) for i in body["instances"]]), "INVALID_ARGUMENT"
    floats = tf.make_tensor_proto(np.zeros([1, 3], np.float32))
    twins = {
        "malformed JSON": b"\xff\xff not a proto",
        "not an object": _predict_request(inputs={}),
        "no instances or inputs": _predict_request(inputs={}),
        "both instances and inputs": _predict_request(
            inputs={"image_bytes": tf.make_tensor_proto([_jpeg(0)]), "images": floats}
        ),
        "wrong input key": _predict_request(inputs={"pixels": floats}),
        "not b64": _predict_request(inputs={"image_bytes": floats}),
        "bad base64": _predict_request(inputs={"image_bytes": tf.make_tensor_proto([[_jpeg(0)]])}),
        "unknown signature": _predict_request([_jpeg(0)], signature="nope"),
        "wrong tensor shape": _predict_request(signature="predict_images", inputs={"images": floats}),
        "too large": _predict_request([b"x" * 300_000]),
    }
    # Too large: gRPC's own message size limit (the server's --max_request_mb), as on TF Serving.
    codes = {"too large": "RESOURCE_EXHAUSTED"}
    return twins[kind], codes.get(kind, "INVALID_ARGUMENT")


@pytest.mark.parametrize("kind", sorted(BAD_REQUESTS))
def test_grpc_bad_request_twin_gets_tf_servings_status_code(server, kind):
    import grpc
    from tensorflow_serving.apis import predict_pb2

    request, code = _grpc_twin(kind)
    prediction, _ = _grpc(server)
    call = prediction.Predict
    if isinstance(request, bytes):  # bytes that are no PredictRequest at all
        channel = grpc.insecure_channel(server.grpc_address)
        call = channel.unary_unary("/tensorflow.serving.PredictionService/Predict",
                                   response_deserializer=predict_pb2.PredictResponse.FromString)  # fmt: skip
    with pytest.raises(grpc.RpcError) as error:
        call(request, timeout=60)
    assert error.value.code() == grpc.StatusCode[code], (kind, error.value.code(), error.value.details())
    if kind in IMAGE_KINDS:  # the same check as REST, the same words
        assert BAD_REQUESTS[kind][2] in error.value.details(), error.value.details()
    assert prediction.Predict(_predict_request([_jpeg(0)]), timeout=60).outputs["score"].float_val


@pytest.mark.parametrize(
    "spec, rest_path",
    [
        (dict(name="other"), "/v1/models/other"),
        (dict(version=9), "/v1/models/pear/versions/9"),
        (dict(label="nope"), "/v1/models/pear/labels/nope"),
    ],  # fmt: skip
)
def test_unknown_model_version_or_label_is_not_found_on_both_apis(server, spec, rest_path):
    import grpc

    prediction, _ = _grpc(server)
    with pytest.raises(grpc.RpcError) as error:
        prediction.Predict(_predict_request([_jpeg(0)], **spec), timeout=60)
    assert error.value.code() == grpc.StatusCode.NOT_FOUND and str(list(spec.values())[0]) in error.value.details()
    status, body = server.request(rest_path + ":predict", {"instances": [_b64(_jpeg(0))]})
    assert status == 404 and body["error"]


# ---- Metrics and overload. ----


def _metric(server, sample_name, **labels):
    """Sum of the samples of ``sample_name`` whose labels include ``labels``, from the metrics page."""
    from prometheus_client.parser import text_string_to_metric_families

    status, headers, data = server.request_raw("/monitoring/prometheus/metrics")
    assert status == 200 and headers["Content-Type"].startswith("text/plain")
    return sum(
        sample.value
        for family in text_string_to_metric_families(data.decode())
        for sample in family.samples
        if sample.name == sample_name and all(sample.labels.get(k) == v for k, v in labels.items())
    )


def test_metrics_parse_and_move_with_requests(server):
    ok = dict(model="pear", version="1", signature="serving_default", status="OK")
    rest_ok, grpc_ok = (_metric(server, "pear_serving_requests_total", api=api, **ok) for api in ("rest", "grpc"))
    bad = _metric(server, "pear_serving_requests_total", api="rest", model="pear", status="INVALID_ARGUMENT")
    latency = _metric(server, "pear_serving_request_latency_seconds_count", model="pear", api="rest")
    server.request("/v1/models/pear:predict", {"instances": [_b64(_jpeg(0)), _b64(_jpeg(1))]})
    server.request("/v1/models/pear:predict", {"instances": [_b64(b"")]})
    _grpc(server)[0].Predict(_predict_request([_jpeg(0)]), timeout=60)
    assert _metric(server, "pear_serving_requests_total", api="rest", **ok) == rest_ok + 1
    assert _metric(server, "pear_serving_requests_total", api="grpc", **ok) == grpc_ok + 1
    assert (
        _metric(server, "pear_serving_requests_total", api="rest", model="pear", status="INVALID_ARGUMENT") == bad + 1
    )
    assert _metric(server, "pear_serving_request_latency_seconds_count", model="pear", api="rest") == latency + 2
    assert _metric(server, "pear_serving_queue_depth", model="pear", version="1", signature="serving_default") == 0


def test_overload_is_refused_at_once_and_the_server_recovers(exported):
    """Event-driven: the model call waits on a gate the test holds closed. Refusals that arrive while
    it is closed were refused without waiting for the model, however loaded the machine is."""
    import grpc

    live = LiveServer(exported[0], max_batch_size=1, max_enqueued_batches=1, batch_timeout_ms=0)
    run = live.model_server.run_signature
    entered, gate = threading.Semaphore(0), threading.Event()

    def gated(*args):
        entered.release()
        assert gate.wait(120), "the test never opened the gate"
        return run(*args)

    live.model_server.run_signature = gated
    depth = dict(model="pear", version="1", signature="serving_default")
    results = {}

    def post(i):
        status, headers, data = live.request_raw("/v1/models/pear:predict", {"instances": [_b64(_jpeg(i))]})
        results[i] = (status, headers.get("Retry-After"), json.loads(data))

    try:
        threads = [threading.Thread(target=post, args=(0,))]
        threads[0].start()
        assert entered.acquire(timeout=120), "the first request never reached the model"  # the worker is busy
        threads.append(threading.Thread(target=post, args=(1,)))
        threads[1].start()
        assert _wait_until(lambda: _metric(live, "pear_serving_queue_depth", **depth) == 1)  # the queue is full
        for i in range(2, 5):
            post(i)  # answered while the model call still waits: refused without queueing
        with pytest.raises(grpc.RpcError) as error:
            _grpc(live)[0].Predict(_predict_request([_jpeg(9)]), timeout=60)
        assert not gate.is_set() and error.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        refused = [results[i] for i in range(2, 5)]
        assert all(r[0] == 503 and r[1] == "1" and "queue is full" in r[2]["error"] for r in refused), refused
        gate.set()
        for t in threads:
            t.join(120)
        assert [results[i][0] for i in (0, 1)] == [200, 200], results
        status, body = live.request("/v1/models/pear:predict", {"instances": [_b64(_jpeg(0))]})
        assert status == 200 and len(body["predictions"]) == 1
        assert _metric(live, "pear_serving_requests_total", status="RESOURCE_EXHAUSTED") == len(refused) + 1
    finally:
        gate.set()
        live.model_server.run_signature = run
        live.stop()


def _wait_until(condition, attempts=1200):
    """Polls ``condition`` (each poll a request to the server) until it holds; a bounded number of tries."""
    for _ in range(attempts):
        if condition():
            return True
        time.sleep(0.05)  # between polls only: no outcome depends on how long anything takes
    return False
