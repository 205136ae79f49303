"""The SavedModel versions a server holds: the highest is served, new ones are picked up live.

Loading needs only TensorFlow and the export's metadata asset; nothing from training.
"""

import os
import threading

import tensorflow as tf
from absl import logging

from pear_tf.inference.metadata import read_metadata
from pear_tf.inference.versions import list_versions


class LoadedModel:
    """One loaded version: its signatures and the metadata asset."""

    def __init__(self, path, version):
        self.path = path
        self.version = version
        self.saved_model = tf.saved_model.load(path)
        self.signatures = dict(self.saved_model.signatures)
        self.metadata = read_metadata(path)


class ModelRegistry:
    """Versions of one model base folder (``<base>/<version>/``).

    ``refresh()`` loads versions that appeared (a version folder appears atomically,
    see exporting.saved_model) and keeps up to ``keep`` of the highest ones loaded.
    """

    def __init__(self, name, base_path, keep=2):
        self.name = name
        self.base_path = base_path
        self.keep = keep
        self._lock = threading.Lock()
        self._loaded = {}

    def refresh(self):
        """Loads new versions; returns the versions now served. Load errors are logged, not raised."""
        available = list_versions(self.base_path)[-self.keep :]
        for version in available:
            if version in self._loaded:
                continue
            try:
                model = LoadedModel(os.path.join(self.base_path, str(version)), version)
            except Exception as e:  # noqa: BLE001 - a broken export must not take the server down
                logging.error("Could not load %s version %d: %s", self.name, version, e)
                continue
            with self._lock:
                self._loaded[version] = model
            logging.info("Serving %s version %d.", self.name, version)
        with self._lock:
            for version in [v for v in self._loaded if v not in available]:
                del self._loaded[version]
            return sorted(self._loaded)

    def get(self, version=None):
        """The model at ``version`` (default: the highest loaded), or None."""
        with self._lock:
            if not self._loaded:
                return None
            return self._loaded.get(max(self._loaded) if version is None else version)

    def versions(self):
        with self._lock:
            return sorted(self._loaded)
