"""Every path with every modern encoder family: a tiny member trained one step, exported, then scored
through the SavedModel (both signatures), predict's scorer, explain, personalisation, Beam, both
servers (REST and gRPC) and TFLite. Photos: scikit-learn's china.jpg and flower.jpg."""

import base64
import glob
import json
import os

import keras
import numpy as np
import pytest
import tensorflow as tf

from pear_tf.config import ModelConfig
from pear_tf.data.decode import decode_image
from pear_tf.data.preprocessing import preprocess, resize_size
from pear_tf.exporting import saved_model
from pear_tf.exporting import tflite as tflite_lib
from pear_tf.inference import beam as beam_lib
from pear_tf.inference.saved_model import SavedModelScorer
from pear_tf.inference.tflite import TFLiteScorer
from pear_tf.model import PEAR
from tests.conftest import make_batch
from tests.encoders import SIZE, TINY_ENCODERS, photographs

FAMILIES = sorted(TINY_ENCODERS)


def _train_one_step_and_export(name, base):
    keras.utils.set_random_seed(0)
    config = ModelConfig(backbone=name, backbone_config=TINY_ENCODERS[name], image_size=SIZE, recon_size=16)
    model = PEAR(config, seed=0)
    model.build_all()
    model.compile(keras.optimizers.Adam(1e-3), keras.optimizers.Adam(1e-3), jit_compile=False)
    model.build_optimizers()
    before = [v.numpy().copy() for v in model.backbone.trainable_variables]
    terms = model.update(make_batch(4, config))
    assert np.isfinite(float(terms["loss"]))
    moved = [not np.allclose(a, v.numpy()) for a, v in zip(before, model.backbone.trainable_variables)]
    assert any(moved), f"{name}: one train step left the encoder unchanged"
    path = saved_model.export_saved_model(model, str(base / name), saved_model.export_metadata(model, "ava"), 4)
    return path, model


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """{family: (version folder, Keras model)}, and the photos as files."""
    root = tmp_path_factory.mktemp("encoders")
    photos = []
    for i, data in enumerate(photographs()):
        photos.append(str(root / f"photo_{i}.jpg"))
        with open(photos[-1], "wb") as f:
            f.write(data)
    return {name: _train_one_step_and_export(name, root / "savedmodels") for name in FAMILIES}, photos


@pytest.mark.parametrize("name", FAMILIES)
def test_a_family_scores_the_same_in_keras_both_signatures_predict_and_tflite(name, exported, tmp_path):
    (path, model), photos = exported[0][name], exported[1]
    loaded = tf.saved_model.load(path)
    encoded = [open(p, "rb").read() for p in photos]
    from_bytes = loaded.signatures["serving_default"](image_bytes=tf.constant(encoded))
    # The signature's own decode: a JPEG much larger than the model's side decodes at a DCT scale (issue 22).
    images = tf.stack([preprocess(decode_image(data, resize_size(SIZE)), SIZE) for data in encoded])
    from_images = loaded.signatures["predict_images"](images=images)
    keras_scores = model.score(images)
    for key in ("score", "distribution", "attributes"):
        np.testing.assert_allclose(from_bytes[key], from_images[key], atol=1e-5)
        np.testing.assert_allclose(from_images[key], keras_scores[key], atol=1e-4)
    assert (from_bytes["score_std"].numpy() > 0).all()  # 4 Monte-Carlo samples of the latents
    rows = SavedModelScorer(os.path.dirname(path)).score_files(photos)  # what predict and explain call
    assert [r["score"] for r in rows] == pytest.approx(from_bytes["score"].numpy().tolist(), abs=1e-5)

    output = tflite_lib.convert_in_subprocess(path, "float32", str(tmp_path / f"{name}.tflite"))
    on_device = [float(TFLiteScorer(output).score(image.numpy())["score"]) for image in images]
    np.testing.assert_allclose(on_device, from_images["score"], atol=1e-4)


def test_every_family_serves_over_rest_and_grpc(exported):
    from pear_tf.serving.model_config import default_spec
    from tests.test_serving import LiveServer, _grpc, _predict_request

    models, photos = exported
    encoded = [open(p, "rb").read() for p in photos]
    live = LiveServer(specs=[default_spec(name, os.path.dirname(path)) for name, (path, _) in models.items()])
    try:
        prediction, _ = _grpc(live)
        for name, (path, _) in models.items():
            expected = tf.saved_model.load(path).signatures["serving_default"](image_bytes=tf.constant(encoded))
            body = {"instances": [{"b64": base64.b64encode(data).decode()} for data in encoded]}
            status, answer = live.request(f"/v1/models/{name}:predict", body)
            assert status == 200, (name, answer)
            np.testing.assert_allclose([r["score"] for r in answer["predictions"]], expected["score"], atol=1e-5)
            response = prediction.Predict(_predict_request(encoded, name=name), timeout=60)
            np.testing.assert_allclose(tf.make_ndarray(response.outputs["attributes"]), expected["attributes"],
                                       atol=1e-5)  # fmt: skip
    finally:
        live.stop()


def test_every_family_explains_personalises_and_scores_in_beam(exported, tmp_path):
    from pear_tf.evaluation import analysis
    from pear_tf.personal.run import PersonalizeConfig, personalize

    models, photos = exported
    # Ten rated photos: crops and mirror images of the two, rated by a rule of their brightness.
    from PIL import Image

    rated = []
    for i in range(10):
        image = Image.open(photos[i % 2]).crop((i, i, 96 - i, 96 - i))
        image = image.transpose(Image.FLIP_LEFT_RIGHT) if i % 3 else image
        rated.append((str(tmp_path / f"rated_{i}.jpg"), 1.0 + 4.0 * np.asarray(image).mean() / 255.0))
        image.save(rated[-1][0])
    with open(tmp_path / "ratings.csv", "w") as f:
        f.write("path,score\n" + "".join(f"{p},{s:.3f}\n" for p, s in rated))
    for name, (path, _) in models.items():
        base = os.path.dirname(path)
        rows = analysis.explain_files(SavedModelScorer(base), photos, str(tmp_path / "explained" / name))
        assert all(os.path.getsize(row["chart"]) > 0 and len(row["attributes"]) == 11 for row in rows)

        result = personalize(PersonalizeConfig(model=base, ratings=str(tmp_path / "ratings.csv"),
                                               export_dir=str(tmp_path / "personal" / name)))  # fmt: skip
        personal = SavedModelScorer(result["version"]).score_files([p for p, _ in rated])
        np.testing.assert_allclose([r["score"] for r in personal], result["personal_scores"], atol=1e-4)

        prefix = str(tmp_path / "beam" / name / "scores")
        summary = beam_lib.run(beam_lib.BeamScoreConfig(model=base, inputs=(os.path.join(os.path.dirname(photos[0]), "photo_*.jpg"),),
                                                        output=prefix), ["--runner=DirectRunner"])  # fmt: skip
        beam_rows = {r["path"]: r for f in glob.glob(prefix + "-0*.jsonl") for r in map(json.loads, open(f))}
        expected = SavedModelScorer(base).score_files(sorted(beam_rows))
        assert summary["scored"] == 2 and [beam_rows[r["path"]]["score"] for r in expected] == pytest.approx(
            [r["score"] for r in expected], abs=1e-5
        )
