"""Model files on any filesystem TensorFlow knows, without importing TensorFlow for local ones.

A local path goes through ``os`` and ``open``; a URL (``gs://``, ``s3://``, ``hdfs://``: anything
with ``://``) through ``tf.io.gfile``, TensorFlow imported then. So a process that only reads a
local model's layout and metadata starts without TensorFlow's seconds of import: Beam's launcher,
whose workers load TensorFlow anyway (docs/beam.md).
"""

import os
import shutil
import tempfile

from pear_tf import startup


def is_url(path):
    """Whether ``path`` names a file on a remote filesystem (gs://, s3://, hdfs://...)."""
    return "://" in str(path)


def is_tflite(path):
    """Whether ``path`` names a .tflite file (what predict and beam_score score with LiteRT)."""
    return str(path).lower().endswith(".tflite")


def _gfile():
    return startup.import_tensorflow_quietly().io.gfile


def exists(path):
    return _gfile().exists(path) if is_url(path) else os.path.exists(path)


def isdir(path):
    return _gfile().isdir(path) if is_url(path) else os.path.isdir(path)


def listdir(path):
    """Names in a folder (an object store's sub-folders may end with /)."""
    return _gfile().listdir(path) if is_url(path) else os.listdir(path)


def read_bytes(path):
    """The file's bytes. Raises FileNotFoundError when it does not exist, on any filesystem."""
    if not is_url(path):
        with open(path, "rb") as f:
            return f.read()
    gfile = _gfile()
    if not gfile.exists(path):
        raise FileNotFoundError(path)
    with gfile.GFile(path, "rb") as f:
        return f.read()


def local_copy(path):
    """A local path of the file: itself, or a temporary copy of a gs:// (or other remote) file."""
    if not is_url(path):
        return path
    handle, local = tempfile.mkstemp(suffix=os.path.splitext(path)[1])
    os.close(handle)
    with _gfile().GFile(path, "rb") as source, open(local, "wb") as target:
        shutil.copyfileobj(source, target)
    return local
