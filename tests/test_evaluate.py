"""pear_tf.evaluate: the same figures as training's eval_metrics.json, from a SavedModel or a run."""

import json
import os
import subprocess
import sys

import pytest

from pear_tf.evaluation import report as evaluate_report
from pear_tf.training import config as train_config
from pear_tf.training import run as train_lib
from pear_tf.config import ModelConfig
from pear_tf.data.splits import DataConfig

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = DataConfig(synthetic_sizes=(96, 16, 48))
KEYS = ("srcc", "plcc", "accuracy", "emd_r1", "emd_r2", "num_images")


def _train(tmp_path, objective):
    config = train_config.TrainConfig(
        model=ModelConfig(backbone="tiny", image_size=32, recon_size=16, objective=objective),
        data=DATA,
        model_dir=str(tmp_path / objective / "run"),
        export_dir=str(tmp_path / objective / "savedmodels"),
        batch_size=16,
        epochs=2,
        backbone_lr=1e-3,
        mc_samples=0,
        verbose=0,
    )
    return train_lib.train_and_evaluate(config), config


@pytest.fixture(scope="module")
def pear_run(tmp_path_factory):
    return _train(tmp_path_factory.mktemp("evaluate"), "pear")


@pytest.mark.parametrize("source", ["saved_model", "model_dir"])
def test_evaluate_agrees_with_the_metrics_written_at_the_end_of_training(pear_run, source):
    result, config = pear_run
    with open(os.path.join(config.model_dir, "eval_metrics.json")) as f:
        trained = json.load(f)
    model = result["export_path"] if source == "saved_model" else config.model_dir
    report, _ = evaluate_report.evaluate(model, DATA, "test", batch_size=7, verbose=0)
    assert report["evaluated"]["model"]["kind"] == ("saved_model" if source == "saved_model" else "checkpoint")
    assert report["num_images"] == trained["num_images"] == 48
    for key in KEYS + ("attribute_corr_diff", "attribute_srcc_mean"):
        assert report[key] == pytest.approx(trained[key], abs=1e-5), key
    assert trained["srcc"] != 0.0


def test_evaluate_cli_writes_json_markdown_and_figures_with_bootstrap_intervals(pear_run, tmp_path):
    result, _ = pear_run
    output = tmp_path / "reports" / "test.json"
    command = [sys.executable, "-m", "pear_tf.evaluate", f"--model={os.path.dirname(result['export_path'])}"]
    command += ["--synthetic_sizes=96,16,48", f"--output={output}", "--bootstrap=200"]
    process = subprocess.run(command, env={**os.environ, "PYTHONPATH": ROOT}, capture_output=True, text=True)
    assert process.returncode == 0, process.stderr[-3000:]
    with open(output) as f:
        report = json.load(f)
    assert set(KEYS) <= set(report)
    for key in ("srcc", "accuracy", "emd_r2"):
        interval = report["bootstrap"][key]
        assert interval["low"] <= report[key] <= interval["high"] and interval["std"] > 0
    summary = (tmp_path / "reports" / "test.md").read_text()
    assert f"| srcc | {report['srcc']:.4f} |" in summary and "95% interval" in summary
    for figure in ("test_scatter.png", "test_histogram.png"):
        assert (tmp_path / "reports" / figure).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_baseline_exports_without_attributes_and_evaluates(tmp_path):
    result, config = _train(tmp_path, "nima")
    assert "attributes" not in result["metrics"] and "attribute_corr_diff" not in result["metrics"]
    report, predictions = evaluate_report.evaluate(result["export_path"], DATA, "test", verbose=0)
    assert "attributes" not in predictions and report["evaluated"]["model"]["objective"] == "nima"
    assert report["srcc"] == pytest.approx(result["metrics"]["srcc"], abs=1e-5)

    # predict handles a model without attributes: printed and written without them.
    import numpy as np
    from PIL import Image

    from pear_tf.inference import rows as rows_lib
    from pear_tf.inference.saved_model import SavedModelScorer

    image = tmp_path / "photo.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (40, 40, 3), dtype=np.uint8)).save(image)
    rows = SavedModelScorer(os.path.dirname(result["export_path"])).score_files([str(image)])
    assert "attributes" not in rows[0] and "attributes" not in rows_lib.format_row(rows[0], range(6))
    rows_lib.write_rows(rows, str(tmp_path / "scores.csv"))
    lines = (tmp_path / "scores.csv").read_text().splitlines()
    calibrated = lines[0].split(",")[16:]  # after path … 11 attributes, error: the calibrated outputs it has
    assert calibrated == [key for key in rows_lib.CALIBRATED_COLUMNS if key in rows[0]] and calibrated
    assert lines[1].count(",") == 15 + len(calibrated)  # path … 11 empty attributes, error, calibrated outputs


def test_a_model_evaluated_on_another_rating_scale_is_refused(pear_run):
    result, _ = pear_run
    ava_like = DataConfig(synthetic_flavour="ava", synthetic_sizes=(8, 8, 8))
    with pytest.raises(ValueError, match=r"rates on the bins \[0.0, 1.0, 2.0, 3.0, 4.0, 5.0\]"):
        evaluate_report.evaluate(result["export_path"], ava_like, "test", verbose=0)


def test_bootstrap_intervals_narrow_with_more_images():
    import numpy as np

    from pear_tf.attributes import AVA_SCALE
    from pear_tf.evaluation.bootstrap import bootstrap_intervals

    rng = np.random.default_rng(0)

    def width(count):
        true = rng.dirichlet(np.ones(10), size=count)
        predicted = 0.7 * true + 0.3 * rng.dirichlet(np.ones(10), size=count)
        interval = bootstrap_intervals(true, predicted, AVA_SCALE, samples=200)["srcc"]
        return interval["high"] - interval["low"]

    assert width(1000) < 0.6 * width(100)
