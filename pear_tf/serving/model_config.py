"""TF Serving's ``--model_config_file``: a text-format ``ModelServerConfig``, read with its own protos.

model_config_list {
  config {
    name: "pear"  base_path: "/models/pear"  model_platform: "tensorflow"
    model_version_policy { specific { versions: 1 versions: 2 } }
    version_labels { key: "stable" value: 1 }
    version_labels { key: "canary" value: 2 }
  }
  config { name: "baseline"  base_path: "/models/baseline" }   # latest version
}
"""

import dataclasses
import os

from google.protobuf import text_format
from tensorflow_serving.config import model_server_config_pb2

from pear_tf import errors


@dataclasses.dataclass(frozen=True)
class ModelSpec:
    """One served model: its base folder, which versions to serve, and version labels.

    ``policy`` is ``"latest"`` (the ``num_versions`` highest), ``"all"`` or ``"specific"``
    (``versions``), as in TF Serving's ``FileSystemStoragePathSourceConfig.ServableVersionPolicy``.
    """

    name: str
    base_path: str
    policy: str = "latest"
    num_versions: int = 1
    versions: tuple = ()
    labels: tuple = ()  # (label, version) pairs

    def select(self, on_disk):
        """The versions to serve out of the ascending ``on_disk`` ones."""
        if self.policy == "all":
            return list(on_disk)
        if self.policy == "specific":
            return [v for v in on_disk if v in self.versions]
        return list(on_disk)[-self.num_versions :]


def spec_from_proto(config):
    """A ModelSpec from one ``ModelConfig`` message; ValueError names what is unsupported."""
    if not config.name or not config.base_path:
        raise errors.BadValue(
            f"Every model config needs a name and a base_path; got {text_format.MessageToString(config)!r}."
        )
    if config.model_platform not in ("", "tensorflow"):
        raise errors.BadValue(
            f"Model {config.name!r}: model_platform {config.model_platform!r}; only 'tensorflow' is served."
        )
    policy = config.model_version_policy
    kind = policy.WhichOneof("policy_choice") or "latest"
    num_versions = max(1, policy.latest.num_versions) if kind == "latest" else 1
    versions = tuple(sorted(policy.specific.versions)) if kind == "specific" else ()
    if kind == "specific" and not versions:
        raise errors.BadValue(f"Model {config.name!r}: a 'specific' version policy needs at least one version.")
    labels = tuple(sorted(config.version_labels.items()))
    for label, version in labels:
        if kind == "specific" and version not in versions:
            raise errors.BadValue(
                f"Model {config.name!r}: label {label!r} points at version {version}, which is not served."
            )
    return ModelSpec(config.name, config.base_path, kind, num_versions, versions, labels)


def read_model_config(path):
    """The ModelSpecs of a ``--model_config_file``; ValueError names a problem in it."""
    with open(path) as f:
        text = f.read()
    try:
        config = text_format.Parse(text, model_server_config_pb2.ModelServerConfig())
    except text_format.ParseError as e:
        raise errors.BadValue(f"{path}: not a text-format ModelServerConfig: {e}") from None
    if config.WhichOneof("config") != "model_config_list":
        raise errors.BadValue(f"{path}: needs a model_config_list (custom_model_config is not supported).")
    specs = [spec_from_proto(c) for c in config.model_config_list.config]
    if not specs:
        raise errors.BadValue(f"{path}: model_config_list holds no model.")
    names = [s.name for s in specs]
    if len(set(names)) != len(names):
        raise errors.BadValue(f"{path}: model names must be unique; got {names}.")
    return specs


def default_spec(name, base_path):
    """What TF Serving serves without a config file: the latest version of one base folder."""
    return ModelSpec(name, os.path.normpath(base_path))
