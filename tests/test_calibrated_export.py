"""A trained model's calibrated export (issue 27): the raters' scale, the same answer on every path, the flag.

One tiny PEAR trained for a few epochs on the synthetic set; its export carries
``calibrated_score``, a chosen ``score_std``, ``ood_score`` and ``is_photo_like``.
"""

import io
import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from pear_tf.calibration import record
from pear_tf.config import ModelConfig
from pear_tf.data import sources
from pear_tf.data.splits import DataConfig
from pear_tf.inference.saved_model import SavedModelScorer
from pear_tf.training import config as train_config
from pear_tf.training import run as train_lib
from tests.not_photos import not_photos

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = DataConfig(synthetic_sizes=(240, 64, 96))
NEW_OUTPUTS = ("calibrated_score", "ood_score", "is_photo_like")


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    base = tmp_path_factory.mktemp("calibrated")
    config = train_config.TrainConfig(
        model=ModelConfig(backbone="tiny", image_size=32, recon_size=16), data=DATA, model_dir=str(base / "run"),
        export_dir=str(base / "savedmodels" / "pear"), batch_size=32, epochs=2, backbone_lr=1e-3, mc_samples=8,
        verbose=0,
    )  # fmt: skip
    os.makedirs(config.model_dir, exist_ok=True)
    with open(os.path.join(config.model_dir, "flags.txt"), "w") as f:  # as the train command writes it
        f.write("--dataset=synthetic\n--synthetic_sizes=240,64,96\n--seed=0\n--notfds\n--image_size=32\n")
    with pytest.MonkeyPatch.context() as patch:
        # The attribute analysis (t-SNE, figures) has its own tests; here it would only double the time.
        patch.setattr(train_lib, "analyse", lambda *args, **kwargs: {})
        result = train_lib.train_and_evaluate(config)
    return config, result


def _png(pixels):
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "PNG")
    return buffer.getvalue()


def _test_photos(count=None):
    splits = sources.load_splits(DATA, 32)
    images = splits.test["image"]
    return images if count is None else images[:count]


def test_training_exports_the_calibration_and_reports_both_scores(trained):
    config, result = trained
    scorer = SavedModelScorer(result["export_path"])
    metadata = scorer.metadata
    assert metadata["outputs"][-3:] == list(NEW_OUTPUTS) and set(metadata["output_descriptions"]) == set(
        metadata["outputs"]
    )
    choice = metadata["calibration"]["score_std"]
    assert choice["source"] in ("latent", "distribution", "combined", "constant") and choice["factor"] > 0
    assert metadata["calibration"]["ood"]["training_photos"] == 240
    assert os.path.exists(os.path.join(config.model_dir, record.FILE))
    metrics = result["metrics"]
    # The raters' scale comes back: the calibrated spread is near the truths', the raw one far below.
    assert metrics["calibrated_score_spread_ratio"] > 2 * metrics["score_spread_ratio"]
    assert metrics["calibrated_score_mae"] < metrics["score_mae"]
    assert metrics["calibrated_score_srcc"] == pytest.approx(metrics["srcc"], abs=1e-3)  # the same ranking
    assert 0 <= metrics["not_photo_like_fraction"] <= 0.05


def test_the_same_image_gives_the_same_outputs_on_every_path_and_batch(trained, tmp_path):
    from pear_tf.exporting import tflite as tflite_lib
    from pear_tf.inference.beam import model_info, score_batch
    from pear_tf.inference.tflite import TFLiteScorer, load_image
    from tests.test_serving import LiveServer, _b64

    _, result = trained
    path = result["export_path"]
    photos = _test_photos(6)
    files = []
    for i, pixels in enumerate(photos):
        files.append(tmp_path / f"photo_{i}.png")
        files[-1].write_bytes(_png(pixels))
    scorer = SavedModelScorer(path)
    target = str(files[2])
    alone = scorer.score_file(target)
    assert alone["score_std"] > 0
    in_batches = [row for row in scorer.score_files([str(f) for f in files], batch_size=4) if row["path"] == target]
    reversed_batch = [row for row in scorer.score_files([str(f) for f in files[::-1]]) if row["path"] == target]
    beam_row = [r for r in score_batch(scorer, [(str(f), f.read_bytes()) for f in files], model_info(path))
                if r["path"] == target]  # fmt: skip
    tflite_file = tflite_lib.convert_in_subprocess(path, "float32", str(tmp_path / "model.tflite"))
    on_device = TFLiteScorer(tflite_file).score(load_image(target, 32))
    live = LiveServer(os.path.dirname(path))
    try:
        answers = [live.request("/v1/models/pear:predict", {"instances": [_b64(f.read_bytes()) for f in batch]})[1]
                   for batch in ([files[2]], files, [files[2]] * 3, [files[2]])]  # fmt: skip
    finally:
        live.stop()
    served = [answers[0]["predictions"][0], answers[1]["predictions"][2], *answers[2]["predictions"],
              answers[3]["predictions"][0]]  # fmt: skip
    for key in ("score", "score_std", "calibrated_score", "ood_score"):
        values = [alone[key], in_batches[0][key], reversed_batch[0][key], beam_row[0][key], float(on_device[key])]
        values += [row[key] for row in served]
        np.testing.assert_allclose(values, alone[key], rtol=2e-5, atol=2e-6, err_msg=key)
        # The same request, again and again: exactly the same answer.
        assert answers[0]["predictions"][0][key] == answers[3]["predictions"][0][key], key
    assert {row["is_photo_like"] for row in served} | {bool(on_device["is_photo_like"])} == {alone["is_photo_like"]}


def test_the_flag_in_the_graph_spares_held_out_photos_and_catches_flat_frames(trained):
    """The flag's mechanics end to end: the training photos' 1 % threshold spares held-out photos (≤ 5 %).

    What the issue's goal asks of the flag (≥ 95 % of blank, single-colour, noise, text and
    screenshot inputs) is not a property a 2-epoch, 32 px toy can have: its features do not tell
    noise or text from the synthetic photos (their ood_scores sit among the photos'). It is
    measured on demo-size models by benchmarks/calibration.py (BUILD_NOTES.md, issue 27). Here: the
    single-colour and blank frames (no texture: the texture density's), far from every photo even
    for the toy, rank above the held-out photos.
    """
    _, result = trained
    scorer = SavedModelScorer(result["export_path"])
    photos = scorer.score_bytes([_png(image) for image in _test_photos()])
    assert np.mean(~photos["is_photo_like"]) <= 0.05
    kinds = not_photos(8)
    frames = scorer.score_bytes([_png(image) for image in kinds["single_colour"] + kinds["blank"]])
    np.testing.assert_array_equal(frames["is_photo_like"], frames["ood_score"] <= 1.0)
    # AUROC: the share of (frame, photo) pairs where the frame is the less photo-like.
    auroc = np.mean(frames["ood_score"][:, np.newaxis] > photos["ood_score"][np.newaxis])
    assert auroc >= 0.9, (frames["ood_score"], np.quantile(photos["ood_score"], [0.5, 0.95, 1.0]))


def test_export_calibrates_an_older_run_from_its_flags(trained, tmp_path):
    from pear_tf.exporting.saved_model import export_run

    config, result = trained
    saved = json.load(open(os.path.join(config.model_dir, record.FILE)))
    os.remove(os.path.join(config.model_dir, record.FILE))  # a run trained before issue 27
    again = SavedModelScorer(export_run(config.model_dir, str(tmp_path / "again"), mc_samples=8, calibrate=True))
    refitted = json.load(open(os.path.join(config.model_dir, record.FILE)))
    assert refitted["score_map"] == saved["score_map"] and refitted["uncertainty"] == saved["uncertainty"]
    first = SavedModelScorer(result["export_path"])
    images = [_png(image) for image in _test_photos(4)]
    for key in ("calibrated_score", "score_std", "ood_score"):
        np.testing.assert_allclose(again.score_bytes(images)[key], first.score_bytes(images)[key], rtol=1e-4)
    # Without flags.txt the splits are unknown: a message naming --nocalibrate and exit status 2
    # (an uncalibrated export is what tests/test_export.py exports).
    bare = tmp_path / "bare"
    shutil.copytree(config.model_dir, bare, ignore=shutil.ignore_patterns("flags.txt", record.FILE))
    command = [sys.executable, "-m", "pear_tf.export", f"--model_dir={bare}", f"--export_dir={tmp_path / 'bare_export'}"]
    process = subprocess.run(command, env={**os.environ, "PYTHONPATH": ROOT}, capture_output=True, text=True)
    assert process.returncode == 2 and "--nocalibrate" in process.stderr and "Traceback" not in process.stderr
    assert not os.path.exists(tmp_path / "bare_export")


def test_evaluate_reports_both_scores_the_uncertainty_and_the_selective_curve(trained, tmp_path):
    from pear_tf.evaluation import report as evaluate_report

    config, result = trained
    for model in (result["export_path"], config.model_dir):
        report, predictions = evaluate_report.evaluate(model, DATA, "test", batch_size=16, verbose=0)
        figures = report["calibration"]
        assert set(figures) >= {"score", "calibrated_score", "uncertainty", "ood"}
        assert figures["calibrated_score"]["mae"] == pytest.approx(result["metrics"]["calibrated_score_mae"], abs=1e-4)
        fractions = [point["fraction"] for point in figures["uncertainty"]["selective"]]
        assert fractions == pytest.approx([0.1 * k for k in range(1, 11)])
    paths = evaluate_report.write_report(report, predictions, str(tmp_path / "report.json"))
    assert os.path.getsize(paths["selective"]) > 5_000
    text = open(paths["markdown"]).read()
    assert "| calibrated_score |" in text and "Spearman(score_std" in text


def test_a_personal_model_passes_the_calibration_and_the_flag_through(trained, tmp_path):
    from pear_tf.personal.adapt import fit_taste
    from pear_tf.personal.export import export_personal

    _, result = trained
    generic = SavedModelScorer(result["export_path"])
    photos = [_png(image) for image in _test_photos(16)]
    seen = generic.score_bytes(photos)
    features = {key: seen[key].astype(np.float64) for key in ("score", "attributes", "content")}
    ratings = np.random.default_rng(0).normal(size=16) + seen["attributes"][:, 0]  # a taste of its own
    version = export_personal(result["export_path"], fit_taste(features, ratings), dict(generic.metadata),
                              str(tmp_path / "me"))  # fmt: skip
    personal = SavedModelScorer(version)
    images = photos[:3] + [_png(not_photos(1)["noise"][0])]
    ours, theirs = personal.score_bytes(images), generic.score_bytes(images)
    # The personal score through the generic model's map; the flag is the generic model's.
    score_map = generic.metadata["calibration"]["score_map"]
    np.testing.assert_allclose(ours["calibrated_score"], np.interp(ours["score"], score_map["knots_x"],
                                                                   score_map["knots_y"]), rtol=1e-4)  # fmt: skip
    for key in ("ood_score", "is_photo_like"):
        np.testing.assert_allclose(ours[key], theirs[key], rtol=1e-4, err_msg=key)
