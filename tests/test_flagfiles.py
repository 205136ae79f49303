"""Every flagfile in pipelines/ parses against the train CLI's flags and documents itself."""

import glob
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FLAGFILES = sorted(glob.glob(os.path.join(ROOT, "pipelines", "*.flags")))
# Flagfiles named prior_* are for train_prior, the others for train.
PARSE = (
    "import sys; from absl import flags; from pear_tf import cli; kind = sys.argv[2]; "
    "getattr(cli, f'define_{kind}_flags')(); flags.FLAGS(['cli', '--flagfile=' + sys.argv[1]]); "
    "c = getattr(cli, f'{kind}_config_from_flags')(); "
    "print(c.data.dataset, c.model.backbone, c.model.image_size, c.epochs)"
)


def test_the_expected_flagfiles_exist():
    expected = {"demo.flags", "ava.flags", "aadb.flags", "custom.flags", "prior_aadb.flags"}
    assert {os.path.basename(f) for f in FLAGFILES} >= expected


@pytest.mark.parametrize("path", FLAGFILES, ids=os.path.basename)
def test_flagfile_parses_and_starts_with_its_command(path):
    with open(path) as f:
        first_lines = f.read().split("\n--", 1)[0]
    name = os.path.basename(path)[: -len(".flags")]
    kind = "prior" if name.startswith("prior_") else "train"
    command = "python -m pear_tf.train_prior " if kind == "prior" else "python -m pear_tf.train "
    assert first_lines.startswith("#") and command in first_lines
    result = subprocess.run(
        [sys.executable, "-c", PARSE, path, kind],
        env={**os.environ, "PYTHONPATH": ROOT},
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    dataset, backbone, image_size, epochs = result.stdout.split()
    assert dataset == {"demo": "synthetic", "prior_aadb": "aadb"}.get(name, name)
    assert (backbone, image_size) == (("tiny", "64") if name == "demo" else ("resnet50", "224"))
