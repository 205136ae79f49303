"""The suite's own rules: under CI=true a skipped test (a missing browser, a missing package) fails the run."""

import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SKIPPING = '''
import pytest

@pytest.mark.skipif(True, reason="needs a browser that is not here")
def test_needs_a_browser():
    pass

def test_needs_a_package():
    pytest.importorskip("a_package_that_is_not_installed")

def test_runs():
    pass
'''


def _pytest(folder, ci):
    env = {key: value for key, value in os.environ.items() if key != "CI"}
    if ci:
        env["CI"] = "true"
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "tests.conftest", "-p", "no:cacheprovider",
         "--continue-on-collection-errors", str(folder)],
        cwd=ROOT, env={**env, "PYTHONPATH": ROOT}, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_a_skip_fails_under_ci_and_stays_a_skip_elsewhere(tmp_path):
    (tmp_path / "test_skipping.py").write_text(SKIPPING)
    (tmp_path / "test_module_skip.py").write_text('import pytest\npytest.importorskip("not_installed_either")\n')
    local = _pytest(tmp_path, ci=False)
    assert local.returncode == 0 and "1 passed, 3 skipped" in local.stdout, local.stdout[-2000:]
    ci = _pytest(tmp_path, ci=True)
    assert ci.returncode == 1, ci.stdout[-2000:]
    assert "Skipped under CI=true, which counts as a failure: needs a browser that is not here" in ci.stdout
    assert "could not import 'a_package_that_is_not_installed'" in ci.stdout
    assert "could not import 'not_installed_either'" in ci.stdout
    assert "1 failed, 1 passed, 2 errors" in ci.stdout.splitlines()[-1], ci.stdout[-2000:]
