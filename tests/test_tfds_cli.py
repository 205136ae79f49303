"""TFDS's own CLI, ``tfds build``, on the ``ava`` and ``aadb`` builders and their dummy data (the beam extra)."""

import os
import shutil
import subprocess
import sys

from pear_tf.data import tfds as tfds_builders
from pear_tf.data.tfds import load_tfds_splits

BUILDERS_DIR = os.path.dirname(tfds_builders.__file__)
# AVA's validation is a slice of its 6 train-list images (5%, at least one); AADB lists its own.
EXPECTED = {"ava": (10, (5, 1, 2)), "aadb": (6, (4, 2, 2))}


def test_tfds_build_prepares_both_builders_from_their_dummy_data(tmp_path):
    # One manual folder holds both layouts (their files do not overlap), so one CLI run builds both.
    manual_dir = tmp_path / "manual"
    for name in EXPECTED:
        shutil.copytree(os.path.join(BUILDERS_DIR, "dummy_data", name), manual_dir, dirs_exist_ok=True)
    tfds_cli = os.path.join(os.path.dirname(sys.executable), "tfds")
    command = [tfds_cli, "build", *(os.path.join(BUILDERS_DIR, name) for name in EXPECTED)]
    command += [f"--manual_dir={manual_dir}", f"--data_dir={tmp_path / 'tfds'}"]
    # Run from elsewhere than the repository: the builder folders must be enough to find the builders.
    process = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert process.returncode == 0, process.stderr[-3000:]
    for name, (bins, splits) in EXPECTED.items():
        data = load_tfds_splits(name, str(tmp_path / "tfds"))
        counts = tuple(sum(1 for _ in split) for split in (data.train, data.validation, data.test))
        assert counts == splits, name
        example = next(iter(data.test))
        assert example["image"].shape[-1] == 3 and example["distribution"].shape == (bins,)
