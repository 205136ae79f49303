"""The models a server holds, and their versions, following the files on disk.

``refresh()`` loads the versions each model's policy selects that appeared (a version
folder appears atomically, see exporting.saved_model) and unloads those that disappeared
or that the policy no longer selects. Loading needs only TensorFlow and the export's
metadata asset; nothing from training.
"""

import os
import threading

import tensorflow as tf
from absl import logging
from tensorflow.core.protobuf import saved_model_pb2

from pear_tf.inference.metadata import read_metadata
from pear_tf.inference.precision import scoring_signatures
from pear_tf.inference.versions import list_versions
from pear_tf.serving.errors import ServingError


class LoadedModel:
    """One loaded version: its signatures, their SignatureDef protos and the metadata asset."""

    def __init__(self, name, path, version, precision=None):
        self.name = name
        self.path = path
        self.version = version
        self.saved_model = tf.saved_model.load(path)
        self.metadata = read_metadata(path)
        # --precision (issue 25): bfloat16 on a float32 export wraps each signature in oneDNN's bf16 rewrite.
        self.signatures, self.precision, note = scoring_signatures(self.saved_model.signatures, self.metadata, precision)
        if note:
            logging.warning("%s version %d: %s", name, version, note)
        proto = saved_model_pb2.SavedModel()
        with open(os.path.join(path, "saved_model.pb"), "rb") as f:
            proto.ParseFromString(f.read())
        # What TF Serving's GetModelMetadata returns: the serving meta graph's signature_def map.
        self.signature_defs = dict(proto.meta_graphs[0].signature_def)


class ModelRegistry:
    """Models by name (ModelSpecs), each with its loaded versions."""

    def __init__(self, specs, precision=None):
        self.specs = {spec.name: spec for spec in specs}
        self.precision = precision
        self._lock = threading.Lock()
        self._loaded = {spec.name: {} for spec in specs}

    def refresh(self):
        """Loads and unloads versions to follow the disk; returns {name: served versions}.

        Load errors are logged, not raised: a broken export must not take the server down.
        """
        for name, spec in self.specs.items():
            wanted = spec.select(list_versions(spec.base_path))
            for version in wanted:
                if version in self._loaded[name]:
                    continue
                try:
                    model = LoadedModel(name, os.path.join(spec.base_path, str(version)), version, self.precision)
                except Exception as e:  # noqa: BLE001
                    logging.error("Could not load %s version %d: %s", name, version, e)
                    continue
                with self._lock:
                    self._loaded[name][version] = model
                logging.info("Serving %s version %d (computing in %s).", name, version, model.precision)
            with self._lock:
                for version in [v for v in self._loaded[name] if v not in wanted]:
                    del self._loaded[name][version]
                    logging.info("Unloaded %s version %d.", name, version)
        return {name: self.versions(name) for name in self.specs}

    def versions(self, name):
        """Loaded versions of ``name``, ascending."""
        with self._lock:
            return sorted(self._loaded.get(name, {}))

    def get(self, name, version=None, label=None):
        """The model ``name`` at ``version`` or ``label`` (default: its highest loaded version).

        Raises:
          ServingError: NOT_FOUND for an unknown model, version or label.
        """
        if name not in self.specs:
            raise ServingError(f"Servable not found for request: model {name!r} is not served here.", "NOT_FOUND")
        if label is not None:
            labels = dict(self.specs[name].labels)
            if label not in labels:
                raise ServingError(
                    f"Unrecognized servable version label {label!r} of model {name!r}; labels: {sorted(labels)}.",
                    "NOT_FOUND",
                )
            version = labels[label]
        with self._lock:
            loaded = self._loaded[name]
            model = loaded.get(max(loaded) if version is None and loaded else version)
        if model is None:
            which = f"Latest({name})" if version is None else f"Specific({name}, {version})"
            raise ServingError(f"Servable not found for request: {which}.", "NOT_FOUND")
        return model
