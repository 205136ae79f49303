"""The commands for real, as a user types them: train_prior, then train with the prior fine-tuned inline,
then its outputs, resume, export, and predict, explain, serve and evaluate_personal on its export."""

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
def prior_dir(tmp_path_factory):
    """A 1-epoch ``python -m pear_tf.train_prior`` run on the synthetic set's attributes."""
    tmp_path = tmp_path_factory.mktemp("prior_cli")
    flags = [flag for flag in TINY_FLAGS if not flag.startswith(("--mc_samples", "--synthetic_sizes"))]
    out = _run("pear_tf.train_prior", *flags, "--synthetic_sizes=32,16,16", "--epochs=1", "--model_dir=prior",
               cwd=tmp_path)  # fmt: skip
    assert "Prior on the test split: mean accuracy" in out
    return str(tmp_path / "prior")


@pytest.fixture(scope="module")
def trained(tmp_path_factory, prior_dir):
    """A 2-epoch run of ``python -m pear_tf.train`` with that prior fine-tuned inline (the AADB-like set has
    attributes): (its folder, its export base, what it printed)."""
    tmp_path = tmp_path_factory.mktemp("train_cli")
    model_dir, export_dir = str(tmp_path / "run"), str(tmp_path / "savedmodels" / "tiny")
    flags = [*TINY_FLAGS, f"--model_dir={model_dir}", f"--export_dir={export_dir}", f"--prior_checkpoint={prior_dir}"]
    out = _run("pear_tf.train", *flags, "--epochs=2", cwd=tmp_path)
    return tmp_path, model_dir, export_dir, out


def test_the_prior_is_fine_tuned_inline_on_the_observed_attributes(trained, prior_dir):
    import tensorflow as tf

    from pear_tf.config import ModelConfig
    from pear_tf.model import PEAR
    from pear_tf.model.prior import build_prior_network
    from pear_tf.training.prior import load_prior

    _, model_dir, _, out = trained
    assert "Prior network: inline, fine-tuned on the observed attributes." in out
    with open(os.path.join(model_dir, "history.jsonl")) as f:
        assert all(json.loads(line)["prior"] > 0 for line in f), "the prior's BCE term is trained every step"
    # The run's checkpoint holds the prior network, moved away from the pre-trained one it started from.
    start, _ = load_prior(prior_dir)
    with open(os.path.join(model_dir, "model_config.json")) as f:
        config = ModelConfig.from_json(f.read())
    tuned = PEAR(config, prior_network=build_prior_network(config), finetune_prior=True)
    tuned.build_all()
    checkpoint = tf.train.latest_checkpoint(os.path.join(model_dir, "checkpoints"))
    tf.train.Checkpoint(model=tuned).restore(checkpoint).expect_partial().assert_existing_objects_matched()
    pairs = list(zip(tuned.prior_network.trainable_variables, start.trainable_variables))
    assert len(pairs) == len(start.trainable_variables) > 10
    moved = {a.path: float(np.abs(a.numpy() - b.numpy()).max()) for a, b in pairs if "kernel" in a.path}
    # Every kernel moved, by about what 8 Adam steps at --backbone_lr=1e-4 move it: from the prior, not afresh.
    assert moved and 0 < min(moved.values()) and max(moved.values()) < 0.01, moved


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


def _sample_photos(tmp_path):
    """Two synthetic photos and a broken file, as a user's folder."""
    from pear_tf.data import synthetic

    folder = tmp_path / "photos"
    paths = synthetic.write_samples(str(folder), 2, size=48)
    (folder / "broken.jpg").write_bytes(b"\xff\xd8\xff not a jpeg")
    return paths, str(folder / "broken.jpg")


def _saved_model_scores(export_dir, paths):
    """The latest export's outputs for ``paths`` (what the commands given the base folder use)."""
    import tensorflow as tf

    from pear_tf.inference.versions import latest_version_dir

    serve = tf.saved_model.load(latest_version_dir(export_dir)).signatures["serving_default"]
    outputs = serve(image_bytes=tf.constant([open(p, "rb").read() for p in paths]))
    return {key: value.numpy() for key, value in outputs.items()}


def test_explain_prints_each_photos_attributes_and_writes_a_chart(trained, tmp_path):
    _, _, export_dir, _ = trained
    paths, broken = _sample_photos(tmp_path)
    out = _run("pear_tf.explain", f"--model={export_dir}", f"--output_dir={tmp_path / 'charts'}", *paths, broken,
               cwd=tmp_path)  # fmt: skip
    from pear_tf.attributes import ATTRIBUTE_NAMES

    expected = _saved_model_scores(export_dir, paths)
    lines = out.splitlines()
    for path, score, attributes in zip(paths, expected["score"], expected["attributes"]):
        chart = tmp_path / "charts" / (os.path.basename(path) + ".attributes.png")
        at = next(i for i, line in enumerate(lines) if line.startswith(f"{path}  score "))
        printed_score, printed_chart = lines[at][len(f"{path}  score ") :].split("  → ")
        assert float(printed_score) == pytest.approx(score, abs=5e-4) and printed_chart == str(chart)
        assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        # The 11 attributes follow, strongest first, each with its value.
        printed = {line.split()[0]: float(line.split()[1]) for line in lines[at + 1 : at + 12]}
        assert sorted(printed) == sorted(ATTRIBUTE_NAMES) and list(printed.values()) == sorted(printed.values())[::-1]
        assert [printed[name] for name in ATTRIBUTE_NAMES] == pytest.approx(list(attributes), abs=5e-3)
    assert f"{broken}: ERROR could not decode" in out


def _serving(process):
    """(REST url, gRPC address) from the line a starting ``pear_tf.serve`` prints once it serves."""
    import queue
    import threading

    lines = queue.Queue()

    def read():
        for line in process.stdout:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=read, daemon=True).start()
    while True:
        line = lines.get(timeout=600)  # a hang guard only: the line comes as soon as the server is up
        assert line is not None, f"pear_tf.serve stopped before serving: {process.stderr.read()[-3000:]}"
        if line.startswith("Page: "):  # "Page: http://127.0.0.1:PORT/   gRPC: 127.0.0.1:PORT"
            return line.split()[1].rstrip("/"), line.split("gRPC: ")[1].strip()


def test_serve_answers_rest_and_grpc_like_the_saved_model_and_stops_cleanly(trained, tmp_path):
    import base64
    import signal
    import urllib.request

    _, _, export_dir, _ = trained
    paths, _ = _sample_photos(tmp_path)
    env = {**os.environ, "PYTHONPATH": ROOT, "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONUNBUFFERED": "1"}
    command = [sys.executable, "-m", "pear_tf.serve", f"--model_base_path={export_dir}", "--port=0", "--grpc_port=0"]
    process = subprocess.Popen(command, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)  # fmt: skip
    try:
        url, grpc_address = _serving(process)
        # Ready once the model answers its status: a bounded number of tries, no timing involved.
        for _ in range(100):
            with urllib.request.urlopen(f"{url}/v1/models/tiny", timeout=60) as response:
                if json.load(response)["model_version_status"][0]["state"] == "AVAILABLE":
                    break
        body = json.dumps({"instances": [{"b64": base64.b64encode(open(p, "rb").read()).decode()} for p in paths]})
        request = urllib.request.Request(f"{url}/v1/models/tiny:predict", data=body.encode())
        with urllib.request.urlopen(request, timeout=60) as response:
            predictions = json.load(response)["predictions"]
        expected = _saved_model_scores(export_dir, paths)
        np.testing.assert_allclose([p["score"] for p in predictions], expected["score"], rtol=1e-5)
        np.testing.assert_allclose([p["attributes"] for p in predictions], expected["attributes"], rtol=1e-5)
        from tests.test_serving import _predict_request

        import grpc
        from tensorflow_serving.apis import prediction_service_pb2_grpc

        stub = prediction_service_pb2_grpc.PredictionServiceStub(grpc.insecure_channel(grpc_address))
        reply = stub.Predict(_predict_request([open(paths[0], "rb").read()], name="tiny"), timeout=60)
        assert list(reply.outputs["score"].float_val) == pytest.approx([predictions[0]["score"]], rel=1e-5)
    finally:
        process.send_signal(signal.SIGINT)  # Ctrl-C
        _, err = process.communicate(timeout=120)
    assert process.returncode == 0 and "Traceback" not in err, err[-3000:]
    assert "oneDNN" not in err and "cuInit" not in err, err[-3000:]


def test_evaluate_personal_runs_the_protocol_on_the_export(trained, tmp_path):
    from pear_tf.data import synthetic

    _, _, export_dir, _ = trained
    data_dir = synthetic.write_flickr_aes_layout(str(tmp_path / "flickr"), sizes=(0, 2, 14), size=20)
    out = _run("pear_tf.evaluate_personal", f"--model={export_dir}", f"--data_dir={data_dir}", "--shots=10",
               "--trials=2", f"--output_dir={tmp_path / 'eval'}", cwd=tmp_path)  # fmt: skip
    with open(tmp_path / "eval" / "personal_eval.json") as f:
        report = json.load(f)
    assert report["test_workers"] == 2 and report["images"] == 28 and not report["unreadable_images"]
    assert [len(w["personal_trials"]) for w in report["results"]["10"]["workers"].values()] == [2, 2]
    summary = report["results"]["10"]["summary"]
    assert f"| personalised (this model) | {summary['personal']['mean']:.3f}" in out, out[-2000:]
    assert (tmp_path / "eval" / "personal_eval.md").read_text().strip() in out
