"""The REST endpoint: TF Serving's API, equal to the SavedModel, 4xx for every bad request."""

import asyncio
import base64
import io
import json
import shutil
import socket
import threading
import time
import urllib.error
import urllib.request
import struct
import zlib

import numpy as np
import pytest
import tensorflow as tf
from aiohttp import web
from PIL import Image

from pear_tf.exporting import saved_model as export_lib
from pear_tf.serving.app import ServingConfig, make_app


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
    """The real app on a loopback port, in a thread with its own event loop."""

    def __init__(self, base_path, name="pear", **config):
        self.app = make_app(name, base_path, ServingConfig(poll_seconds=0.2, **config))
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.loop = asyncio.new_event_loop()
        ready = threading.Event()

        def run():
            asyncio.set_event_loop(self.loop)
            self.runner = web.AppRunner(self.app)
            self.loop.run_until_complete(self.runner.setup())
            self.loop.run_until_complete(web.TCPSite(self.runner, "127.0.0.1", self.port).start())
            ready.set()
            self.loop.run_forever()

        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()
        ready.wait(30)
        self.url = f"http://127.0.0.1:{self.port}"

    def request(self, path, body=None, raw=None, method=None):
        data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
        request = urllib.request.Request(self.url + path, data=data, method=method)
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read())

    def stop(self):
        self.loop.call_soon_threadsafe(lambda: asyncio.ensure_future(self.runner.cleanup()))
        time.sleep(0.3)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    import keras

    from pear_tf.model import PEAR
    from tests.conftest import TINY

    keras.utils.set_random_seed(0)
    model = PEAR(TINY, seed=0)
    model.build_all()
    base = str(tmp_path_factory.mktemp("savedmodels") / "pear")
    export_lib.export_saved_model(model, base, export_lib.export_metadata(model, "synthetic"), mc_samples=0)
    return base, model


@pytest.fixture(scope="module")
def server(exported):
    live = LiveServer(exported[0], max_pixels=100_000, max_request_bytes=200_000)
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
    "non-image bytes": (dict(body={"instances": [_b64(b"<html>hello</html>")]}), 400, "Unknown image file format"),
    "truncated image": (dict(body={"instances": [_b64(_jpeg(5)[:200])]}), 400, "Invalid JPEG data"),
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
    "path", ["/v1/models/other:predict", "/v1/models/pear/versions/9:predict", "/v1/models/pear/versions/x"]
)
def test_unknown_model_or_version_is_404_or_400(server, path):
    status, body = server.request(path, {"instances": [_b64(_jpeg(0))]} if path.endswith("predict") else None)
    assert status in (400, 404) and body["error"]


def test_a_new_version_is_picked_up_while_serving(exported, tmp_path):
    base = str(tmp_path / "pear")
    shutil.copytree(exported[0], base)
    live = LiveServer(base)
    try:
        assert live.request("/v1/models/pear")[1]["model_version_status"][0]["version"] == "1"
        export_lib.export_saved_model(
            exported[1], base, export_lib.export_metadata(exported[1], "synthetic"), mc_samples=0
        )
        deadline = time.time() + 30
        while time.time() < deadline:
            versions = [s["version"] for s in live.request("/v1/models/pear")[1]["model_version_status"]]
            if "2" in versions:
                break
            time.sleep(0.2)
        assert "2" in versions
        status, body = live.request("/v1/models/pear/versions/2:predict", {"instances": [_b64(_jpeg(0))]})
        assert status == 200
    finally:
        live.stop()
