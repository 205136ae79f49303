"""The train CLI for real: one short run on tiny images, then its outputs, resume, export and predict."""

import glob
import json
import os
import subprocess
import sys

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TINY_FLAGS = [
    "--backbone=tiny", "--image_size=32", "--recon_size=16", "--batch_size=16",
    "--synthetic_sizes=64,32,32", "--mc_samples=4", "--verbose=2",
]  # fmt: skip
STEPS_PER_EPOCH = 4  # 64 training images in batches of 16


def _run(module, *args, cwd):
    env = {**os.environ, "PYTHONPATH": ROOT, "TF_CPP_MIN_LOG_LEVEL": "2"}
    result = subprocess.run(
        [sys.executable, "-m", module, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    return result.stdout


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A 2-epoch run of ``python -m pear_tf.train``: (its folder, its export base, what it printed)."""
    tmp_path = tmp_path_factory.mktemp("train_cli")
    model_dir, export_dir = str(tmp_path / "run"), str(tmp_path / "savedmodels" / "tiny")
    flags = [*TINY_FLAGS, f"--model_dir={model_dir}", f"--export_dir={export_dir}"]
    out = _run("pear_tf.train", *flags, "--epochs=2", cwd=tmp_path)
    return tmp_path, model_dir, export_dir, out


def test_training_writes_metrics_flags_checkpoints_and_views(trained):
    _, model_dir, export_dir, out = trained
    assert "Test metrics: srcc=" in out
    with open(os.path.join(model_dir, "eval_metrics.json")) as f:
        metrics = json.load(f)
    assert {"srcc", "plcc", "accuracy", "emd_r1", "emd_r2"} <= set(metrics) and metrics["num_images"] == 32
    assert {"attribute_corr_diff", "attribute_corr_diff_offdiag"} <= set(metrics)
    with open(os.path.join(model_dir, "flags.txt")) as f:
        resolved = f.read()
    assert "--image_size=32" in resolved and "--lambda_recon=0.1" in resolved
    assert os.path.exists(os.path.join(model_dir, "skipped_images.txt"))
    assert glob.glob(os.path.join(model_dir, "checkpoints", f"ckpt-{2 * STEPS_PER_EPOCH}.index"))
    assert os.path.getsize(os.path.join(model_dir, "reconstructions.png")) > 0
    with open(os.path.join(model_dir, "history.jsonl")) as f:
        history = [json.loads(line) for line in f]
    assert [r["step"] for r in history] == list(range(1, 2 * STEPS_PER_EPOCH + 1))


def _scalars(event_dir):
    """{tag: [(step, value)]} of the scalar summaries in a TensorBoard run folder."""
    import tensorflow as tf

    found = {}
    for path in glob.glob(os.path.join(event_dir, "events.*")):
        for event in tf.compat.v1.train.summary_iterator(path):
            for value in event.summary.value:
                found.setdefault(value.tag, []).append((event.step, float(tf.make_ndarray(value.tensor))))
    return found


def test_tensorboard_has_per_step_losses_epochs_on_the_step_axis_hparams_and_projector(trained):
    _, model_dir, _, _ = trained
    logs = os.path.join(model_dir, "logs")
    train = _scalars(os.path.join(logs, "train"))
    assert [step for step, _ in train["batch_loss"]] == list(range(1, 2 * STEPS_PER_EPOCH + 1))
    # Epoch figures sit on the global-step axis, beside the per-step ones.
    assert [step for step, _ in train["epoch_loss"]] == [STEPS_PER_EPOCH, 2 * STEPS_PER_EPOCH]
    validation = _scalars(os.path.join(logs, "validation"))
    assert [step for step, _ in validation["epoch_srcc"]] == [STEPS_PER_EPOCH, 2 * STEPS_PER_EPOCH]
    with open(os.path.join(model_dir, "history.jsonl")) as f:
        first = json.loads(f.readline())
    assert train["batch_loss"][0][1] == pytest.approx(first["loss"], rel=1e-5)

    from tensorboard.backend.event_processing import event_accumulator

    root = event_accumulator.EventAccumulator(logs, size_guidance={event_accumulator.TENSORS: 0})
    root.Reload()
    assert "_hparams_/session_start_info" in root.Tags()["tensors"], "an HParams summary per run"
    # The projector at the root of logs/, so `tensorboard --logdir <run>/logs` shows it.
    assert os.path.exists(os.path.join(logs, "projector_config.pbtxt"))
    with open(os.path.join(logs, "metadata.tsv")) as f:
        labels = f.read().splitlines()
    assert len(labels) == 32 and set(labels) <= {"high", "low"}, "one column: N lines, no header"


def test_the_resolved_flags_replay_the_run_and_resume_where_it_stopped(trained):
    tmp_path, model_dir, export_dir, _ = trained
    out = _run("pear_tf.train", f"--flagfile={model_dir}/flags.txt", "--epochs=3", cwd=tmp_path)
    assert f"Resumed from step {2 * STEPS_PER_EPOCH} (epoch 3, batch 0 of {STEPS_PER_EPOCH}" in out
    assert "Epoch 3/3" in out and "Epoch 2/3" not in out
    assert sorted(os.listdir(export_dir)) == ["1", "2"]


def test_predict_scores_the_export_and_lists_unreadable_files(trained):
    tmp_path, _, export_dir, _ = trained
    samples = tmp_path / "samples"
    _run("pear_tf.data.synthetic", f"--out={samples}", "--count=2", "--image_size=32", cwd=tmp_path)
    (samples / "broken.jpg").write_bytes(b"\xff\xd8\xff not really a jpeg")
    output = str(tmp_path / "scores.jsonl")
    out = _run("pear_tf.predict", f"--model={export_dir}", str(samples), f"--output={output}", cwd=tmp_path)
    assert "Wrote 3 rows (1 unreadable)" in out
    with open(output) as f:
        rows = [json.loads(line) for line in f]
    assert len(rows) == 3 and [("error" in r) for r in rows] == [False, False, True]
    assert "could not decode" in rows[2]["error"] and rows[2]["path"].endswith("broken.jpg")
    assert rows[0]["score"] >= rows[1]["score"] and len(rows[0]["attributes"]) == 11
    assert np.isfinite(rows[0]["score_std"])

    # A list file, printed: the same scores, and the broken file named with its error.
    (tmp_path / "paths.txt").write_text(f"# photos\n{samples}/sample_1.png\n{samples}/broken.jpg\n")
    out = _run("pear_tf.predict", f"--model={export_dir}", f"--list={tmp_path}/paths.txt", "--sort=path", cwd=tmp_path)
    assert "broken.jpg: ERROR could not decode" in out
    sample_1 = next(r for r in rows if r["path"].endswith("sample_1.png"))
    assert f"score {sample_1['score']:.3f}" in out


def test_train_cli_on_the_aadb_layout_skips_and_lists_exactly_the_bad_files(tmp_path):
    from pear_tf.data import aadb, synthetic

    data_dir = synthetic.write_aadb_layout(str(tmp_path / "aadb"), (24, 8, 8), 37)
    (train, _, test), _ = aadb.read_aadb(data_dir)
    broken = {train["path"][0]: None, train["path"][1]: b"", train["path"][2]: b"GIF89a-but-not-really",
              test["path"][0]: open(test["path"][0], "rb").read()[:100]}  # fmt: skip
    for path, data in broken.items():
        os.remove(path)
        if data is not None:
            with open(path, "wb") as f:
                f.write(data)
    model_dir = tmp_path / "run"
    out = _run("pear_tf.train", *TINY_FLAGS, "--dataset=aadb", f"--data_dir={data_dir}", f"--model_dir={model_dir}",
               "--export=none", "--epochs=1", cwd=tmp_path)  # fmt: skip
    assert "4 image(s) could not be read and were skipped" in out
    with open(model_dir / "skipped_images.txt") as f:
        listed = [line.split("\t")[0] for line in f.read().splitlines()]
    assert sorted(listed) == sorted(broken)
    with open(model_dir / "eval_metrics.json") as f:
        assert json.load(f)["num_images"] == 7
