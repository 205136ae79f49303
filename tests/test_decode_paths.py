"""One decode, everywhere: a phone's portrait photo, tagged with EXIF orientation 6 and stored in
formats decoded in the graph (PNG, JPEG) and on the host (TIFF, HEIC), scores like the upright file
on every path: the SavedModel itself (what TF Serving runs), predict, the REST and gRPC servers,
Beam, TFLite's host preprocessing, the data readers, explain and personalisation."""

import base64
import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from pear_tf.data import host_decode
from tests import real_images as ri

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SIZE = (96, 72)
# The stored pixels of a lossless copy are the upright photo's exactly, so every output must be equal;
# the same pixels stored sideways without the tag score differently by more than ``SIDEWAYS``.
EXACT, SIDEWAYS = 1e-5, 1e-3


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    folder = tmp_path_factory.mktemp("photos")
    pixels = ri.photo("china", SIZE)
    sideways = Image.fromarray(pixels).transpose(ri.STORED_AS[6])
    files = {
        "upright.png": ri.encode(pixels, "PNG"),
        "tagged.png": ri.with_orientation(pixels, 6, "PNG"),
        "tagged.tif": ri.with_orientation(pixels, 6, "TIFF"),
        "tagged.heic": ri.with_orientation(pixels, 6, "HEIF", quality=95),
        "sideways.png": ri.encode(sideways, "PNG"),
    }
    for name, data in files.items():
        (folder / name).write_bytes(data)
    return folder, files


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    from tests.conftest import export_tiny_pear

    base = str(tmp_path_factory.mktemp("savedmodels") / "pear")
    export_tiny_pear(base, mc_samples=0)
    return base


def _check(scores):
    """scores: {file name: score}. Tagged copies equal the upright file; the sideways control does not."""
    upright = scores["upright.png"]
    for name in ("tagged.png", "tagged.tif"):
        if name in scores:
            assert abs(scores[name] - upright) < EXACT, (name, scores)
    if "tagged.heic" in scores:  # lossy: within its re-encoding noise, far from sideways
        assert abs(scores["tagged.heic"] - upright) < SIDEWAYS / 2, scores
    assert abs(scores["sideways.png"] - upright) > SIDEWAYS, scores


def test_the_saved_model_graph_applies_the_orientation(model, photos):
    _, files = photos
    signatures = tf.saved_model.load(model + "/1").signatures
    names = ["upright.png", "tagged.png", "sideways.png"]
    graph = signatures["serving_default"](image_bytes=tf.constant([files[n] for n in names]))["score"].numpy()
    _check(dict(zip(names, graph)))
    # The uint8 signature scores what a client decoded itself: a TIFF and a HEIC, turned upright on the host.
    for name in ("tagged.tif", "tagged.heic"):
        pixels = host_decode.decode_bytes(files[name])
        score = signatures["predict_pixels"](pixels=tf.constant(pixels[None]))["score"].numpy()[0]
        _check({"upright.png": graph[0], name: score, "sideways.png": graph[2]})


def test_predict_scores_every_format_upright(model, photos):
    from pear_tf.inference.saved_model import SavedModelScorer

    folder, files = photos
    rows = SavedModelScorer(model).score_files([str(folder / name) for name in files])
    _check({os.path.basename(r["path"]): r["score"] for r in rows})


def test_the_predict_command_walks_every_format(model, photos):
    folder, files = photos
    output = folder / "scores.jsonl"
    command = [sys.executable, "-m", "pear_tf.predict", f"--model={model}", str(folder), f"--output={output}"]
    result = subprocess.run(command, cwd=ROOT, env={**os.environ, "PYTHONPATH": ROOT}, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]
    import json

    rows = [json.loads(line) for line in output.read_text().splitlines()]
    assert sorted(os.path.basename(r["path"]) for r in rows) == sorted(files)
    _check({os.path.basename(r["path"]): r["score"] for r in rows})


def test_both_servers_apply_the_one_decode(model, photos):
    from tensorflow_serving.apis import predict_pb2, prediction_service_pb2_grpc

    import grpc
    from tests.test_serving import LiveServer

    _, files = photos
    server = LiveServer(model)
    try:
        body = {"instances": [{"b64": base64.b64encode(data).decode()} for data in files.values()]}
        status, answer = server.request("/v1/models/pear:predict", body)
        assert status == 200, answer
        _check({name: row["score"] for name, row in zip(files, answer["predictions"])})
        # predict_pixels: decoded pixels of two sizes in one request each, batched together by the server.
        tiff = host_decode.decode_bytes(files["tagged.tif"])
        status, answer = server.request(
            "/v1/models/pear:predict", {"signature_name": "predict_pixels", "instances": [tiff.tolist()]}
        )
        assert status == 200, answer
        _check({"upright.png": _rest_score(server, files["upright.png"]), "tagged.tif": answer["predictions"][0]["score"],
                "sideways.png": _rest_score(server, files["sideways.png"])})  # fmt: skip
        request = predict_pb2.PredictRequest()
        request.model_spec.name = "pear"
        request.inputs["image_bytes"].CopyFrom(tf.make_tensor_proto(list(files.values()), tf.string))
        with grpc.insecure_channel(server.grpc_address) as channel:
            reply = prediction_service_pb2_grpc.PredictionServiceStub(channel).Predict(request, timeout=60)
            _check(dict(zip(files, tf.make_ndarray(reply.outputs["score"]))))
            request = predict_pb2.PredictRequest()
            request.model_spec.name = "pear"
            request.model_spec.signature_name = "predict_pixels"
            request.inputs["pixels"].CopyFrom(tf.make_tensor_proto(tiff[None], tf.uint8))
            reply = prediction_service_pb2_grpc.PredictionServiceStub(channel).Predict(request, timeout=60)
            assert abs(tf.make_ndarray(reply.outputs["score"])[0] - answer["predictions"][0]["score"]) < EXACT
            # A few bytes declaring a 120 MP image (within the pixel limit) are refused before any padding.
            empty = tf.make_tensor_proto(np.zeros([0], np.uint8), tf.uint8)
            del empty.tensor_shape.dim[:]
            for side in (1, 10000, 12000, 3):
                empty.tensor_shape.dim.add(size=side)
            request.inputs["pixels"].CopyFrom(empty)
            with pytest.raises(grpc.RpcError) as refused:
                prediction_service_pb2_grpc.PredictionServiceStub(channel).Predict(request, timeout=60)
            assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT and "carries 0" in refused.value.details()
    finally:
        server.stop()


def _rest_score(server, data):
    status, answer = server.request("/v1/models/pear:predict", {"instances": [{"b64": base64.b64encode(data).decode()}]})
    assert status == 200, answer
    return answer["predictions"][0]["score"]


def test_beam_scores_every_format_upright(model, photos):
    from pear_tf.inference import beam
    from pear_tf.inference.saved_model import SavedModelScorer

    _, files = photos
    info = beam.model_info(model)
    rows = beam.score_batch(SavedModelScorer(info.version_dir), list(files.items()), info)
    _check({row["path"]: row["score"] for row in rows})


def test_tflite_host_preprocessing_data_readers_explain_and_personalisation(model, photos, tmp_path):
    from pear_tf.data.images import SkipLog, read_image
    from pear_tf.evaluation import analysis
    from pear_tf.inference.saved_model import SavedModelScorer
    from pear_tf.inference.tflite import load_image
    from pear_tf.personal.features import image_features

    folder, files = photos
    paths = {name: str(folder / name) for name in files}
    upright = load_image(paths["upright.png"], 32)
    for name in ("tagged.png", "tagged.tif"):
        np.testing.assert_array_equal(load_image(paths[name], 32), upright)  # what an app's TFLite model gets
        np.testing.assert_array_equal(read_image(paths[name], SkipLog(), target_side=37),
                                      read_image(paths["upright.png"], SkipLog(), target_side=37))  # fmt: skip
    assert np.abs(load_image(paths["sideways.png"], 32) - upright).mean() > 5
    scorer = SavedModelScorer(model)
    explained = analysis.explain_files(scorer, list(paths.values()), str(tmp_path / "charts"))
    _check({os.path.basename(row["path"]): row["score"] for row in explained})
    features, errors = image_features(scorer, list(paths.values()))
    assert not errors
    _check({os.path.basename(p): s for p, s in zip(features["path"], features["score"])})


def test_a_model_exported_before_the_one_decode_is_decoded_on_the_host(model, photos):
    """An older SavedModel's graph ignores EXIF orientation: pear_tf's paths then decode every image on the host."""
    from pear_tf.inference.saved_model import SavedModelScorer

    _, files = photos
    scorer = SavedModelScorer(model)
    del scorer.metadata["preprocessing"]["formats_in_graph"]  # what an export before issue 22 lacks

    def old_graph(image_bytes):
        raise AssertionError("an old graph must not decode: it would ignore the orientation")

    scorer.signatures = {**scorer.signatures, "serving_default": old_graph}
    _check(dict(zip(files, scorer.score_bytes(list(files.values()))["score"])))
