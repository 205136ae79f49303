"""A real short run of the train CLI on tiny images, its resume, and predict on its export."""

import glob
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TINY_FLAGS = [
    "--backbone=tiny", "--image_size=32", "--recon_size=16", "--batch_size=16",
    "--synthetic_sizes=64,32,32", "--mc_samples=4", "--verbose=2",
]  # fmt: skip


def _run(module, *args, cwd):
    env = {**os.environ, "PYTHONPATH": ROOT, "TF_CPP_MIN_LOG_LEVEL": "2"}
    result = subprocess.run(
        [sys.executable, "-m", module, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    return result.stdout


def test_train_cli_trains_evaluates_exports_and_resumes(tmp_path):
    model_dir, export_dir = str(tmp_path / "run"), str(tmp_path / "savedmodels" / "tiny")
    flags = [*TINY_FLAGS, f"--model_dir={model_dir}", f"--export_dir={export_dir}"]
    out = _run("pear_tf.train", *flags, "--epochs=2", cwd=tmp_path)
    assert "Test metrics: srcc=" in out

    with open(os.path.join(model_dir, "eval_metrics.json")) as f:
        metrics = json.load(f)
    assert {"srcc", "plcc", "accuracy", "emd_r1", "emd_r2"} <= set(metrics) and metrics["num_images"] == 32
    with open(os.path.join(model_dir, "flags.txt")) as f:
        resolved = f.read()
    assert "--image_size=32" in resolved and "--lambda_recon=0.1" in resolved
    assert os.path.exists(os.path.join(model_dir, "skipped_images.txt"))
    assert glob.glob(os.path.join(model_dir, "checkpoints", "ckpt-8.index"))
    assert os.path.getsize(os.path.join(model_dir, "reconstructions.png")) > 0
    assert glob.glob(os.path.join(model_dir, "logs", "train", "events.*"))
    assert glob.glob(os.path.join(model_dir, "logs", "pear", "events.*"))
    assert os.listdir(export_dir) == ["1"]

    # The resolved flags replay the run; with more epochs it resumes where it stopped.
    out = _run("pear_tf.train", f"--flagfile={model_dir}/flags.txt", "--epochs=3", cwd=tmp_path)
    # 64 training images in batches of 16: 4 steps per epoch.
    assert "Resumed from step 8 (epoch 3, batch 0 of 4" in out and "Epoch 3/3" in out and "Epoch 2/3" not in out
    assert sorted(os.listdir(export_dir)) == ["1", "2"]

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
               "--noexport", "--epochs=1", cwd=tmp_path)  # fmt: skip
    assert "4 image(s) could not be read and were skipped" in out
    with open(model_dir / "skipped_images.txt") as f:
        listed = [line.split("\t")[0] for line in f.read().splitlines()]
    assert sorted(listed) == sorted(broken)
    with open(model_dir / "eval_metrics.json") as f:
        assert json.load(f)["num_images"] == 7
