"""A user's mistake ends a command with its message and exit status 2, never a traceback; a bug keeps its traceback.

Each case is a command as a user types it (``python -m pear_tf.<command> ...``), run in a
child process; they run side by side to keep the file's wall time near one command's.
"""

import os
import subprocess
import sys

import pytest

from pear_tf import cli, errors

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# (command line, words the message must hold); "{tmp}" is the test's folder.
MISTAKES = {
    "data layout": (["pear_tf.train", f"--flagfile={ROOT}/pipelines/aadb.flags"],
                    "ERROR: --data_dir=None is not a folder. AADB is expected unpacked there."),
    "model folder": (["pear_tf.predict", "--model={tmp}/nowhere", "{tmp}/photo.jpg"],
                     "ERROR: '{tmp}/nowhere' holds no SavedModel versions"),
    "ratings file": (["pear_tf.personalize", "--model={tmp}/nowhere", "--ratings={tmp}/mine.csv",
                      "--export_dir={tmp}/me"], "ERROR: --ratings='{tmp}/mine.csv': no such file"),
    "missing flag": (["pear_tf.evaluate"], "ERROR: flag --model=None: Flag --model must have a value other than None."),
    "bad flag value, through the old data-tool path": (["pear_tf.data.service", "--role=janitor"],
                                                       "ERROR: flag --role=janitor: value should be one of"),
    "served model folder": (["pear_tf.serve", "--model_base_path={tmp}/nowhere", "--port=0", "--grpc_port=-1"],
                            "ERROR: Model 'nowhere': no loadable SavedModel version under '{tmp}/nowhere'"),
    "usage, through the old data-tool path": (["pear_tf.data.build", "--format=resized"],
                                              "ERROR: --format=resized needs --cache_dir"),
}  # fmt: skip


def test_each_commands_user_mistake_is_its_message_and_exit_status_2(tmp_path):
    env = {**os.environ, "PYTHONPATH": ROOT, "TF_CPP_MIN_LOG_LEVEL": "2"}
    started = {}
    for kind, (args, _) in MISTAKES.items():
        command = [sys.executable, "-m", *(arg.format(tmp=tmp_path) for arg in args)]
        started[kind] = subprocess.Popen(command, cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                                         stderr=subprocess.PIPE, text=True)  # fmt: skip
    for kind, process in started.items():
        out, err = process.communicate(timeout=300)
        words = MISTAKES[kind][1].format(tmp=tmp_path)
        assert process.returncode == 2 and words in err, (kind, process.returncode, err[-3000:])
        assert "Traceback" not in err + out and len(err.splitlines()) <= 4, (kind, err[-3000:])


def test_the_guard_ends_a_user_error_and_leaves_a_bug_alone(capsys):
    def mistake(argv):
        raise errors.NotFound(f"--model={argv[1]!r}: no such folder.")

    with pytest.raises(SystemExit) as ended:
        cli.guard(mistake)(["cmd", "x"])
    assert ended.value.code == cli.USER_ERROR_STATUS == 2
    assert capsys.readouterr().err == "ERROR: --model='x': no such folder.\n"

    def bug(argv):
        raise KeyError("a bug")

    with pytest.raises(KeyError, match="a bug"):  # not a SystemExit: the traceback stays
        cli.guard(bug)(["cmd"])
    assert issubclass(errors.NotFound, FileNotFoundError) and issubclass(errors.BadValue, ValueError)
