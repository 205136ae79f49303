"""How a command starts: TensorFlow loaded without its native start-up noise.

Native (C++) logging bypasses Python, and TF_CPP_MIN_LOG_LEVEL does not reach the lines
printed before absl's logging starts (the pre-init banner, CUDA probing on a machine
without a GPU, CPU-feature notes), so ``quiet_native_startup`` captures the file
descriptor while TensorFlow loads and replays every other line. Commands (through
pear_tf.cli) call ``import_tensorflow_quietly`` before anything else imports TensorFlow.
Set PEAR_TF_STARTUP_LOGS=1 to see everything.
"""

import contextlib
import logging
import os
import sys
import tempfile

# Lines TensorFlow's native code prints at start-up that say nothing a user can act on:
# the absl pre-init banner, CUDA probing on a machine without a GPU, CPU-feature notes, and
# the oneDNN notice (written before absl's logging starts, so TF_CPP_MIN_LOG_LEVEL does not
# hold it back; one `import tensorflow` writes the banner and the notice twice).
STARTUP_NOISE = (
    "All log messages before absl::InitializeLog()",
    "oneDNN custom operations are on",
    "cudart_stub.cc",
    "Could not find cuda drivers",
    "failed call to cuInit",
    "cpu_feature_guard.cc",
    "To enable the following instructions",
    "rebuild TensorFlow with the appropriate compiler flags",
    "Unable to register cuDNN factory",
    "Unable to register cuFFT factory",
    "Unable to register cuBLAS factory",
    "computation placer already registered",
    "TF-TRT Warning",
    "oneDNN custom operations are on",
)


# Python log lines libraries write while they load, with nothing in them a user can act on:
# Apache Beam without its Google Cloud extras (BigQuery), at import.
LIBRARY_LOG_NOISE = ("apitools not found",)


_quietly_imported = False  # import_tensorflow_quietly has run in this process


def _not_library_noise(record):
    return not any(noise in record.getMessage() for noise in LIBRARY_LOG_NOISE)


def filter_library_noise():
    """Drops LIBRARY_LOG_NOISE from what is logged on the root logger from now on (once per process)."""
    root = logging.getLogger()  # libraries' logging.warning(...)
    if os.environ.get("PEAR_TF_STARTUP_LOGS") != "1" and _not_library_noise not in root.filters:
        root.addFilter(_not_library_noise)


@contextlib.contextmanager
def quiet_native_startup():
    """Holds back what native code writes to stderr in the block, then replays all but STARTUP_NOISE."""
    if os.environ.get("PEAR_TF_STARTUP_LOGS") == "1":
        yield
        return
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile(mode="w+b") as captured:
        os.dup2(captured.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            for line in captured.read().decode("utf-8", "replace").splitlines(keepends=True):
                if not any(noise in line for noise in STARTUP_NOISE):
                    sys.stderr.write(line)
            sys.stderr.flush()


def import_tensorflow_quietly():
    """Imports TensorFlow and probes its devices inside the filter; returns the module.

    Also drops LIBRARY_LOG_NOISE from what is logged on the root logger from then on. A second
    call returns the module at once.
    """
    global _quietly_imported
    if _quietly_imported:
        return sys.modules["tensorflow"]
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "1")  # INFO lines of the C++ runtime; warnings stay
    filter_library_noise()
    with quiet_native_startup():
        import tensorflow as tf

        tf.config.list_physical_devices("GPU")  # CUDA is probed here, inside the filter
    _quietly_imported = True
    return tf
