"""benchmarks/gpu_check.sh --dry_run: every section of the prepared GPU check, tiny, on the CPU."""

import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_gpu_check_dry_run_writes_every_figure_and_says_the_gpu_ones_are_still_to_be_measured(tmp_path):
    out = tmp_path / "out"
    env = {**os.environ, "OUT": str(out), "PYTHON": sys.executable, "PYTHONPATH": ROOT}
    script = os.path.join(ROOT, "benchmarks", "gpu_check.sh")
    result = subprocess.run(["bash", script, "--dry_run"], env=env, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    for step in ("sections", "mirrored", "demo_build", "demo_train", "foundation", "summary"):
        status = json.loads((out / f"{step}.status.json").read_text())
        assert status["rc"] == 0, (step, (out / f"{step}.log").read_text()[-3000:])

    report = json.loads((out / "gpu_check.json").read_text())
    assert report["dry_run"] and report["gpu_figures"].startswith("still to be measured")
    assert report["device"]["tensorflow_sees_gpu"] is False and report["device"]["matmul_correct"]
    assert report["input"]["raw_images_per_s"] > 0 and report["input"]["cache_images_per_s"] > 0
    variants = {(v["precision"], v["objective"]): v for v in report["step"]["variants"]}
    assert set(variants) == {("bfloat16_xla", "ce"), ("bfloat16_xla", "pear")}
    assert all(v["images_per_s"] > 0 and v["loss_finite"] for v in variants.values())
    assert {"pear_over_ce_bfloat16_xla", "cache_over_raw", "input_over_step"} <= set(report["ratios"])
    mirrored = report["mirrored"]
    assert mirrored["replicas"] == 2 and mirrored["same_update"], mirrored
    assert report["demo_eval_metrics"]["num_images"] == 8 and "srcc" in report["demo_eval_metrics"]
    foundation = {v["route"]: v for v in report["foundation"]["variants"]}
    assert set(foundation) == {"full", "cached"} and report["foundation"]["encoder"] == "dinov2_small"
    assert all(v["images_per_s"] > 0 and v["loss_finite"] for v in foundation.values())
    assert foundation["cached"]["trained_variables"] < foundation["full"]["trained_variables"]
