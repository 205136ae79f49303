"""Bulk scoring on CPUs (issue 25): .tflite models in predict and Beam, Beam workers sized to their cores."""

import dataclasses
import glob
import json
import os
import re
import subprocess
import sys

import pytest
from apache_beam.options.pipeline_options import PipelineOptions

from pear_tf.exporting import tflite as tflite_lib
from pear_tf.inference import beam as beam_lib
from pear_tf.inference import rows as rows_lib
from pear_tf.inference import sizing
from pear_tf.inference.precision import PrecisionError
from pear_tf.inference.saved_model import SavedModelScorer
from pear_tf.errors import UserError
from pear_tf.inference.scorer import open_scorer
from pear_tf.inference.tflite_bulk import TFLiteBulkScorer
from tests.conftest import export_tiny_pear
from tests.real_images import encode, photo

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NOISE = ("failed call to cuInit", "cudart_stub", "absl::InitializeLog", "cpu_feature_guard", "oneDNN custom operations")


def _run(*args):
    env = {k: v for k, v in os.environ.items() if k not in ("TF_CPP_MIN_LOG_LEVEL", "PEAR_TF_STARTUP_LOGS")}
    return subprocess.run([sys.executable, *args], cwd=ROOT, env={**env, "PYTHONPATH": ROOT}, capture_output=True,
                          text=True, timeout=600)  # fmt: skip


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """A tiny PEAR SavedModel, its float32 .tflite, and real photos beside files that cannot be scored."""
    root = tmp_path_factory.mktemp("cpu_scoring")
    saved_model, _ = export_tiny_pear(root / "savedmodels" / "pear")
    tflite = tflite_lib.convert_in_subprocess(saved_model, "float32", str(root / "pear.tflite"))
    images = root / "images"
    images.mkdir()
    for name in ("china", "flower", "coffee"):
        (images / f"{name}.jpg").write_bytes(encode(photo(name, (90, 120)), "JPEG", quality=90))
    (images / "chelsea.png").write_bytes(encode(photo("chelsea", (90, 120)), "PNG"))
    (images / "truncated.jpg").write_bytes((images / "china.jpg").read_bytes()[:300])
    (images / "garbage.jpg").write_bytes(b"not an image " * 30)
    return {"root": root, "saved_model": saved_model, "tflite": tflite, "images": images,
            "paths": sorted(str(p) for p in images.iterdir())}  # fmt: skip


def test_a_tflite_model_gives_the_saved_models_rows_and_errors(world):
    paths = world["paths"] + [str(world["images"] / "missing.jpg")]
    lite = {r["path"]: r for r in rows_lib.score_paths(open_scorer(world["tflite"], threads=2), paths, batch_size=4)}
    saved = {r["path"]: r for r in rows_lib.score_paths(SavedModelScorer(world["saved_model"]), paths, batch_size=4)}
    assert set(lite) == set(saved) == set(paths)
    for path, row in saved.items():
        if "error" in row:
            assert "error" in lite[path] and lite[path]["error"].split(":")[0] == row["error"].split(":")[0], path
            continue
        assert set(lite[path]) == set(row)
        assert lite[path]["score_std"] == 0.0  # no sampling in a .tflite file
        # Host decode (LiteRT) against the graph's decode: the same pixels up to JPEG decoder rounding.
        assert abs(lite[path]["score"] - row["score"]) < 2e-3, path
    assert lite[str(world["images"] / "missing.jpg")]["error"].startswith("could not read")
    with pytest.raises(PrecisionError, match="applies to SavedModels"):
        open_scorer(world["tflite"], precision="bfloat16")


def test_processes_per_machine_follows_each_runners_convention():
    def processes(*args):
        return sizing.processes_per_machine(PipelineOptions(list(args)))

    assert processes() == 1  # DirectRunner in memory: one process, its threads share the model
    assert processes("--direct_running_mode=multi_processing", "--direct_num_workers=3") == 3
    assert processes("--direct_running_mode=multi_processing", "--direct_num_workers=0") is None
    assert processes("--runner=DataflowRunner") is None  # one SDK process per vCPU
    assert processes("--runner=DataflowRunner", "--experiments=no_use_multiple_sdk_containers") == 1
    assert processes("--runner=FlinkRunner", "--sdk_worker_parallelism=4") == 4


def test_threads_are_the_cores_divided_among_the_processes():
    assert sizing.WorkerSizing(processes=4).threads(cores=16) == (4, 4)
    assert sizing.WorkerSizing(processes=None).threads(cores=16) == (1, 1)
    assert sizing.WorkerSizing(processes=3).threads(cores=2) == (1, 1)
    assert sizing.WorkerSizing(processes=2, intra_op_threads=3, inter_op_threads=1).threads(cores=16) == (3, 1)


def test_a_cgroup_quota_caps_the_cores(tmp_path):
    (tmp_path / "cpu.max").write_text("150000 100000\n")
    assert sizing.cgroup_cpu_quota((str(tmp_path / "cpu.max"), str(tmp_path / "none"))) == 1.5
    (tmp_path / "cpu.max").write_text("max 100000\n")
    assert sizing.cgroup_cpu_quota((str(tmp_path / "cpu.max"), str(tmp_path / "none"))) is None


def test_slots_are_claimed_once_per_process_on_a_machine(monkeypatch):
    monkeypatch.setattr(sizing, "_SLOT_LOCKS", [])
    tag = f"pear_tf-test-{os.getpid()}"
    assert [sizing.claim_slot(tag, 2) for _ in range(3)] == [0, 1, None]
    for handle in sizing._SLOT_LOCKS:
        handle.close()
        os.remove(handle.name)


def test_beam_scores_with_a_tflite_model_in_process(world, tmp_path):
    config = beam_lib.BeamScoreConfig(model=world["tflite"], output=str(tmp_path / "scores"),
                                      inputs=(str(world["images"] / "*"),), batch_size=4)  # fmt: skip
    summary = beam_lib.run(config, ["--runner=DirectRunner"])
    rows = [json.loads(line) for f in glob.glob(f"{tmp_path}/scores-0*.jsonl") for line in open(f)]
    errors = [json.loads(line) for f in glob.glob(f"{tmp_path}/scores-errors-*.jsonl") for line in open(f)]
    expected = {r["path"]: r for r in TFLiteBulkScorer(world["tflite"]).score_files(world["paths"], 4)}
    assert (summary["scored"], summary["failed"]) == (4, 2)
    assert {r["path"] for r in errors} == {p for p, r in expected.items() if "error" in r}
    for row in rows:
        assert abs(row["score"] - expected[row["path"]]["score"]) < 1e-5
        assert row["model"] == "pear" and row["version"] == 1
    with pytest.raises(PrecisionError):
        beam_lib.check_config(dataclasses.replace(config, precision="auto"))


def test_beam_worker_processes_size_and_pin_themselves_without_start_up_noise(world, tmp_path):
    """Two worker processes: each takes its share of the cores, its own core, bfloat16 where native; no CUDA lines."""
    result = _run("-m", "pear_tf.beam_score", f"--model={world['saved_model']}", f"--input={world['images']}/*.jpg",
                  f"--output={tmp_path}/scores", "--direct_running_mode=multi_processing", "--direct_num_workers=2",
                  "--pin_workers", "--precision=auto", "--batch_size=2")  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Scored 3 images, 2 failed" in result.stdout, result.stdout
    lines = [line for line in result.stderr.splitlines() if line.startswith("pear_tf worker")]
    threads = max(1, sizing.available_cores() // 2)
    assert len(lines) == 2 and all(f"{threads} intra-op / {threads} inter-op threads" in line for line in lines), lines
    if sizing.available_cores() >= 2:  # each worker on its own core(s)
        pinned = sorted(re.search(r"pinned to cores (\[[\d, ]+\])", line).group(1) for line in lines)
        allowed = sorted(os.sched_getaffinity(0))
        assert pinned == sorted(str(allowed[i * threads : (i + 1) * threads]) for i in range(2)), lines
    for noise in NOISE:
        assert noise not in result.stderr, (noise, result.stderr[-3000:])


def test_predict_scores_with_a_tflite_file_and_refuses_a_precision_it_cannot_have(world, tmp_path):
    output = str(tmp_path / "rows.jsonl")
    result = _run("-m", "pear_tf.predict", f"--model={world['tflite']}", str(world["images"]), f"--output={output}")
    assert result.returncode == 0, result.stderr[-3000:]
    assert f"Wrote 6 rows (2 unreadable) to {output}" in result.stdout
    for noise in NOISE:
        assert noise not in result.stderr, (noise, result.stderr[-3000:])
    # A UserError: cli.guard makes it predict's message and exit status 2 (checked here without a second process).
    with pytest.raises(UserError, match="drop --precision"):
        open_scorer(world["tflite"], precision="float32")
