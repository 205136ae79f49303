"""pipelines/table1.sh --smoke runs every Table 1 row and writes a complete table1.md (about 2.5 min, 2 jobs)."""

import glob
import json
import os
import re
import subprocess
import sys


ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ROW_FLAGFILES = sorted(
    path
    for path in glob.glob(os.path.join(ROOT, "pipelines", "table1", "*.flags"))
    if not os.path.basename(path).startswith(("smoke", "prior"))
)
# One child process parses every row flagfile (TensorFlow imports once).
PARSE = (
    "import json, sys; from absl import flags; from pear_tf import cli; cli.define_train_flags()\n"
    "for path in sys.argv[1:]:\n"
    "    flags.FLAGS.unparse_flags(); flags.FLAGS(['cli', '--flagfile=' + path]); c = cli.train_config_from_flags()\n"
    "    print(json.dumps([path, c.data.dataset, c.model.objective, c.model.backbone, c.model.image_size,\n"
    "        c.batch_size, c.lambda_recon, c.prior_checkpoint or None, c.attribute_supervision, c.model_dir]))"
)


def test_every_row_has_a_flagfile_for_ava_and_aadb():
    rows = {"ce", "nima", "uiaa", "pear", "pear_lambda0", "pear_no_prior"}
    names = {os.path.basename(p)[: -len(".flags")] for p in ROW_FLAGFILES}
    assert names == {f"{dataset}_{row}" for dataset in ("ava", "aadb") for row in rows}


def test_row_flagfiles_keep_the_papers_settings_and_change_one_thing():
    result = subprocess.run(
        [sys.executable, "-c", PARSE, *ROW_FLAGFILES],
        env={**os.environ, "PYTHONPATH": ROOT},
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    parsed = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("[")]
    assert len(parsed) == len(ROW_FLAGFILES)
    for path, got_dataset, objective, backbone, size, batch, lam, prior, supervision, model_dir in parsed:
        dataset, row = os.path.basename(path)[: -len(".flags")].split("_", 1)
        assert (got_dataset, backbone, size, batch) == (dataset, "resnet50", 224, 128), path
        assert objective == (row if row in ("ce", "nima", "uiaa") else "pear"), path
        assert lam == (0.0 if row == "pear_lambda0" else 0.1), path
        assert (prior is not None) == (dataset == "ava" and row in ("pear", "pear_lambda0")), path
        assert supervision == (not (dataset == "aadb" and row == "pear_no_prior")), path
        assert model_dir == f"runs/table1/{dataset}/{row}", path


def test_table1_smoke_run_writes_a_complete_table(tmp_path):
    env = {**os.environ, "PYTHONPATH": ROOT, "PYTHON": sys.executable, "TABLE1_OUT": str(tmp_path / "out")}
    env["TABLE1_JOBS"] = "2"  # two rows at a time: the rows are mostly single-threaded tracing
    result = subprocess.run(
        ["bash", os.path.join(ROOT, "pipelines", "table1.sh"), str(tmp_path / "data"), "--smoke"],
        env=env,
        capture_output=True,
        text=True,
        timeout=1200,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert (tmp_path / "out" / "aadb" / "pear" / "train.log").stat().st_size > 0  # each row's own log
    table = (tmp_path / "out" / "table1.md").read_text()
    assert "missing" not in table
    rows = {
        line.split(" | ")[0].lstrip("| "): line.split(" | ")[1:] for line in table.splitlines() if line.startswith("| ")
    }
    for method in ("CE", "NIMA", "UIAA", "PEAR", "PEAR, λ=0 (ablation)", "PEAR, no prior (ablation)"):
        accuracy, *ours = rows[method][0:8:2]  # AVA accuracy (%), SRCC, EMD, AADB SRCC
        assert re.fullmatch(r"\d{1,3}\.\d{2}", accuracy), (method, accuracy)
        assert all(re.fullmatch(r"-?\d\.\d{4}", cell) for cell in ours), (method, ours)
        assert rows[method][8] == "2 / 2" and re.fullmatch(r"\d+m\d\ds / \d+m\d\ds \|", rows[method][9]), rows[method]
    assert rows["PAR"][0] == "not implemented"
    # The paper's figures, accuracy in per cent like ours.
    assert rows["PEAR"][1:8:2] == ["80.52", "0.7190", "0.0650", "0.7281"], rows["PEAR"]
    assert rows["AAL"][1] == "n/a"


def test_table1_refuses_a_bad_table1_jobs(tmp_path):
    for jobs in ("0", "x", "-1", "2.5"):
        result = subprocess.run(
            ["bash", os.path.join(ROOT, "pipelines", "table1.sh"), str(tmp_path / "data"), "--smoke"],
            # PYTHON=false: were TABLE1_JOBS let through, the first step fails (status 1) instead of training.
            env={**os.environ, "PYTHON": "false", "TABLE1_OUT": str(tmp_path / "out"), "TABLE1_JOBS": jobs},
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 2, (jobs, result.returncode, result.stderr)
        assert f"TABLE1_JOBS must be a whole number of rows at a time, 1 or more, not '{jobs}'" in result.stderr
    assert not (tmp_path / "data").exists() and not (tmp_path / "out").exists()  # refused before any work
