"""SavedModel export: TF Serving layout, both signatures, and the TF1 loader that TF Serving uses."""

import io
import json
import os

import numpy as np
import tensorflow as tf
from PIL import Image

from pear_tf.exporting import saved_model as export_lib
from pear_tf.data.decode import decode_image
from pear_tf.data.preprocessing import preprocess


def _jpeg(seed, size=50):
    pixels = np.random.default_rng(seed).integers(0, 255, (size, size + 7, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="JPEG")
    return buffer.getvalue()


def _export(model, base):
    metadata = export_lib.export_metadata(model, "synthetic", {"metrics": {"srcc": 0.5}})
    return export_lib.export_saved_model(model, str(base), metadata, mc_samples=4)


def test_versions_are_numbered_and_published_whole(tiny_model, tmp_path):
    first = _export(tiny_model, tmp_path / "pear")
    second = _export(tiny_model, tmp_path / "pear")
    assert [os.path.basename(first), os.path.basename(second)] == ["1", "2"]
    assert sorted(os.listdir(tmp_path / "pear")) == ["1", "2"]  # no staging folder left behind
    with open(os.path.join(second, "assets", "pear_metadata.json")) as f:
        metadata = json.load(f)
    assert metadata["bin_values"] == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]
    assert metadata["attribute_names"][0] == "BalacingElements" and len(metadata["attribute_names"]) == 11
    assert metadata["preprocessing"]["resize"] == [37, 37] and metadata["metrics"]["srcc"] == 0.5


def test_tf1_session_loader_serves_image_bytes_like_the_model(tiny_model, tmp_path):
    path = _export(tiny_model, tmp_path / "pear")
    images = [_jpeg(0), _jpeg(1)]
    with tf.Graph().as_default(), tf.compat.v1.Session() as sess:
        meta_graph = tf.compat.v1.saved_model.loader.load(sess, ["serve"], path)
        signature = meta_graph.signature_def["serving_default"]
        assert set(signature.inputs) == {"image_bytes"}
        assert set(signature.outputs) == {"score", "score_std", "distribution", "attributes", "content"}
        fetches = {key: signature.outputs[key].name for key in signature.outputs}
        served = sess.run(fetches, feed_dict={signature.inputs["image_bytes"].name: images})
        predict_signature = meta_graph.signature_def["predict_images"]
        assert set(predict_signature.inputs) == {"images"}
    expected_images = tf.stack([preprocess(decode_image(b), 32) for b in images])
    expected = tiny_model.score(expected_images)
    for key in ("score", "distribution", "attributes"):
        np.testing.assert_allclose(served[key], expected[key].numpy(), rtol=1e-4, atol=1e-5)
    assert served["score"].shape == (2,) and served["attributes"].shape == (2, 11)
    assert (served["score_std"] > 0).all()


def test_predict_images_signature_matches_the_model(tiny_model, tmp_path):
    loaded = tf.saved_model.load(_export(tiny_model, tmp_path / "pear"))
    images = tf.random.uniform([3, 32, 32, 3], 0, 255, seed=3)
    outputs = loaded.signatures["predict_images"](images=images)
    np.testing.assert_allclose(outputs["distribution"], tiny_model.score(images)["distribution"], rtol=1e-4, atol=1e-6)
    # Only the scoring path is exported: not the reconstruction head (its 111→8192 projection).
    shapes = [tuple(v.shape) for v in loaded.scoring_variables]
    assert (111, 6) in shapes and (111, 8192) not in shapes


def test_saved_model_cli_shows_the_serving_layout(tiny_model, tmp_path):
    import shutil
    import subprocess
    import sys

    path = _export(tiny_model, tmp_path / "pear")
    cli = shutil.which("saved_model_cli") or os.path.join(os.path.dirname(sys.executable), "saved_model_cli")
    result = subprocess.run([cli, "show", "--dir", path, "--all"], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "tag-set: 'serve'" in result.stdout
    for text in ("signature_def['serving_default']", "inputs['image_bytes']", "dtype: DT_STRING",
                 "signature_def['predict_images']", "shape: (-1, 32, 32, 3)", "outputs['score_std']"):  # fmt: skip
        assert text in result.stdout, text


def test_export_cli_reexports_a_trained_run(tiny_model, tmp_path):
    from pear_tf.exporting.saved_model import restore_model, run_metadata
    from pear_tf.inference.versions import METADATA_FILE

    run = tmp_path / "run"
    (run / "checkpoints").mkdir(parents=True)
    (run / "model_config.json").write_text(tiny_model.config.to_json())
    (run / "flags.txt").write_text("--dataset=synthetic\n--epochs=3\n")
    (run / "eval_metrics.json").write_text(json.dumps({"srcc": 0.7}))
    tf.train.Checkpoint(model=tiny_model).save(str(run / "checkpoints" / "ckpt"))
    model, checkpoint = restore_model(str(run))
    images = tf.random.uniform([2, 32, 32, 3], 0, 255, seed=5)
    np.testing.assert_allclose(model.score(images)["score"], tiny_model.score(images)["score"], rtol=1e-5)
    path = export_lib.export_saved_model(model, str(tmp_path / "sm"), run_metadata(model, str(run), checkpoint))
    with open(os.path.join(path, "assets", METADATA_FILE)) as f:
        metadata = json.load(f)
    assert metadata["dataset"] == "synthetic" and metadata["metrics"]["srcc"] == 0.7
    assert "--epochs=3" in metadata["training_flags"]


def test_a_run_s_best_epoch_and_another_input_size_restore(tiny_model, tmp_path):
    import keras
    import pytest

    from pear_tf.exporting.saved_model import restore_model
    from pear_tf.model import PEAR

    run = tmp_path / "run"
    (run / "model_config.json").parent.mkdir(parents=True)
    (run / "model_config.json").write_text(tiny_model.config.to_json())
    tf.train.Checkpoint(model=tiny_model).save(str(run / "best" / "ckpt"))
    keras.utils.set_random_seed(7)
    later = PEAR(tiny_model.config, seed=7)  # other weights: the last epoch differs from the best
    later.build_all()
    tf.train.Checkpoint(model=later).save(str(run / "checkpoints" / "ckpt"))
    images = tf.random.uniform([2, 32, 32, 3], 0, 255, seed=5)
    best, checkpoint = restore_model(str(run), "best")
    assert "best" in checkpoint
    np.testing.assert_allclose(best.score(images)["score"], tiny_model.score(images)["score"], rtol=1e-5)
    last, _ = restore_model(str(run))
    np.testing.assert_allclose(last.score(images)["score"], later.score(images)["score"], rtol=1e-5)
    # The same weights in a network built for 64 px (what benchmarks/tflite.py times at phone sizes).
    wide, _ = restore_model(str(run), "best", image_size=64)
    assert wide.config.image_size == 64 and wide.score(tf.zeros([1, 64, 64, 3]))["score"].shape == (1,)
    np.testing.assert_array_equal(wide.backbone.get_weights()[0], tiny_model.backbone.get_weights()[0])
    with pytest.raises(FileNotFoundError, match="best/"):
        restore_model(str(tmp_path / "nothing"), "best")
