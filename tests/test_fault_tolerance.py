"""Runs that survive: two workers in step, SIGKILL and SIGTERM mid-run, a NaN loss.

The multi-worker, kill and pre-emption tests drive the real train CLI in child
processes, on tiny images (about 10 s per run on 2 CPU cores).
"""

import dataclasses
import glob
import json
import os
import signal
import socket
import subprocess
import sys
import time

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# 128 training images in batches of 16: 8 steps per epoch.
FLAGS = [
    "--backbone=tiny", "--image_size=32", "--recon_size=16", "--batch_size=16", "--backbone_lr=1e-3",
    "--synthetic_sizes=128,32,32", "--mc_samples=2", "--verbose=2",
]  # fmt: skip
ENV = {**os.environ, "PYTHONPATH": ROOT, "TF_CPP_MIN_LOG_LEVEL": "2"}


def _train(*args, cwd, env=None):
    return subprocess.Popen(
        [sys.executable, "-m", "pear_tf.train", *FLAGS, *args],
        cwd=cwd,
        env=env or ENV,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _finish(process, timeout=600):
    out, _ = process.communicate(timeout=timeout)
    return process.returncode, out


def _history(model_dir):
    with open(os.path.join(model_dir, "history.jsonl")) as f:
        return [json.loads(line) for line in f]


def _wait_for(pattern, process, timeout=300):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if glob.glob(pattern):
            return
        assert process.poll() is None, "the run ended before its first checkpoint"
        time.sleep(0.02)
    raise AssertionError(f"no {pattern} after {timeout} s")


def _free_port():
    with socket.socket() as s:
        s.bind(("localhost", 0))
        return s.getsockname()[1]


def _two_workers(tmp_path, *args):
    ports = [_free_port(), _free_port()]
    cluster = {"worker": [f"localhost:{port}" for port in ports]}
    workers = []
    for index in range(2):
        env = {**ENV, "TF_CONFIG": json.dumps({"cluster": cluster, "task": {"type": "worker", "index": index}})}
        workers.append(_train("--strategy=multi_worker", *args, cwd=tmp_path, env=env))
    results = [_finish(worker) for worker in workers]
    for code, out in results:
        assert code == 0, out[-3000:]
    return [out for _, out in results]


def _trained_lines(out):
    return [line for line in out.splitlines() if line.startswith("Trained ")]


def test_two_workers_train_in_step_only_the_chief_writes_and_both_resume(tmp_path):
    args = ("--model_dir=run", "--export_dir=savedmodels/tiny")
    chief, other = _two_workers(tmp_path, "--epochs=2", *args)
    # Same number of steps and bit-identical weights on both workers.
    assert _trained_lines(chief) == _trained_lines(other)
    assert _trained_lines(chief)[0].startswith("Trained 16 steps; weights digest ")
    assert "Exported SavedModel" in chief and "Exported SavedModel" not in other
    assert os.listdir(tmp_path / "savedmodels" / "tiny") == ["1"]
    assert not glob.glob(str(tmp_path / "run" / ".worker_*")), "a worker's scratch folder was left behind"
    assert [r["step"] for r in _history(tmp_path / "run")] == list(range(1, 17))

    # Restarted with one more epoch, both workers resume from the chief's checkpoint.
    chief, other = _two_workers(tmp_path, "--epochs=3", *args)
    for out in (chief, other):
        assert "Resumed from step 16 (epoch 3, batch 0 of 8" in out, out[-2000:]
    assert _trained_lines(chief) == _trained_lines(other) and _trained_lines(chief)[0].startswith("Trained 24 steps")
    assert sorted(os.listdir(tmp_path / "savedmodels" / "tiny")) == ["1", "2"]


def test_a_run_killed_with_sigkill_resumes_where_its_checkpoint_stopped(tmp_path):
    args = ("--epochs=3", "--checkpoint_every_steps=2", "--export=none")
    reference = _train(*args, "--model_dir=reference", cwd=tmp_path)

    victim = _train(*args, "--model_dir=run", cwd=tmp_path)
    # A checkpoint counts once the manager's state file names it.
    _wait_for(str(tmp_path / "run" / "checkpoints" / "checkpoint"), victim)
    victim.send_signal(signal.SIGKILL)
    victim.wait()
    import tensorflow as tf

    last = int(tf.train.latest_checkpoint(str(tmp_path / "run" / "checkpoints")).rsplit("-", 1)[1])
    assert last < 24, "the run finished before it could be killed"

    code, out = _finish(_train(*args, "--model_dir=run", cwd=tmp_path))
    assert code == 0, out[-3000:]
    assert f"Resumed from step {last} (epoch {last // 8 + 1}, batch {last % 8} of 8" in out
    assert "Trained 24 steps" in out
    history = _history(tmp_path / "run")
    assert [r["step"] for r in history] == list(range(1, 25)), "steps lost or repeated"

    code, reference_out = _finish(reference)
    assert code == 0, reference_out[-3000:]
    # The resumed run replays exactly the batches and noise the uninterrupted run saw.
    expected = _history(tmp_path / "reference")
    for got, want in zip(history, expected):
        assert got["loss"] == pytest.approx(want["loss"], rel=1e-4, abs=1e-5), (got, want)
    digest = lambda text: [line for line in text.splitlines() if line.startswith("Trained ")]  # noqa: E731
    assert digest(out) == digest(reference_out)


def test_sigterm_saves_a_checkpoint_of_the_current_step_before_exiting(tmp_path):
    run = _train("--epochs=3", "--checkpoint_every_steps=2", "--export=none", "--model_dir=run", cwd=tmp_path)
    _wait_for(str(tmp_path / "run" / "checkpoints" / "checkpoint"), run)
    run.send_signal(signal.SIGTERM)
    code, out = _finish(run)
    assert code == 143, out[-3000:]
    stopped_at = _history(tmp_path / "run")[-1]["step"]
    assert f"SIGTERM: saved the checkpoint of step {stopped_at}" in out
    assert os.path.exists(tmp_path / "run" / "checkpoints" / f"ckpt-{stopped_at}.index")


def test_a_nan_loss_stops_the_run_naming_the_step_and_the_term(tmp_path, monkeypatch):
    import tensorflow as tf

    from pear_tf import losses
    from pear_tf.training import config as train_config
    from pear_tf.training import loop
    from pear_tf.training import run as train_lib
    from pear_tf.config import ModelConfig
    from pear_tf.data.splits import DataConfig

    calls = tf.Variable(0)
    gaussian_kl = losses.gaussian_kl

    def poisoned_kl(mu, log_var):
        # NaN from the 5th training step on (the step function is traced once).
        calls.assign_add(1)
        value = gaussian_kl(mu, log_var)
        return tf.where(calls >= 5, tf.fill(tf.shape(value), float("nan")), value)

    monkeypatch.setattr(losses, "gaussian_kl", poisoned_kl)
    config = train_config.TrainConfig(
        model=ModelConfig(backbone="tiny", image_size=32, recon_size=16),
        data=DataConfig(synthetic_sizes=(64, 16, 16)),
        model_dir=str(tmp_path / "run"),
        export_dir=None,
        batch_size=8,
        epochs=1,
        checkpoint_every_steps=2,
        verbose=0,
    )
    with pytest.raises(loop.NonFiniteLoss) as error:
        train_lib.train_and_evaluate(config)
    message = str(error.value)
    assert "'kl_s' is nan at step 5 (epoch 1, batch 5)" in message
    assert message.endswith(f"The last good checkpoint is {tmp_path / 'run' / 'checkpoints' / 'ckpt-4'}.")
    assert tf.train.latest_checkpoint(str(tmp_path / "run" / "checkpoints")).endswith("ckpt-4")
    assert dataclasses.asdict(config)["checkpoint_every_steps"] == 2
