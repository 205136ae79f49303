"""--model_config_file: TF Serving's ModelServerConfig, several models, version policies and labels,
versions following the disk."""

import shutil

import numpy as np
import pytest

from pear_tf.exporting import saved_model as export_lib
from pear_tf.serving.model_config import ModelSpec, read_model_config
from tests.test_serving import LiveServer, _b64, _grpc, _jpeg, _predict_request, _wait_until

CONFIG = """
model_config_list {
  config {
    name: "pear"
    base_path: "%(pear)s"
    model_platform: "tensorflow"
    model_version_policy { specific { versions: 1 versions: 3 } }
    version_labels { key: "stable" value: 1 }
    version_labels { key: "canary" value: 3 }
  }
  config { name: "baseline" base_path: "%(baseline)s" }
}
"""


@pytest.fixture(scope="module")
def bases(tmp_path_factory):
    """A PEAR base with versions 1, 2, 3 (copies of one export) and a CE baseline base with version 1."""
    import dataclasses

    import keras

    from pear_tf.model import build_rating_model
    from tests.conftest import TINY

    root = tmp_path_factory.mktemp("models")
    paths = {}
    for name, objective in (("pear", "pear"), ("baseline", "ce")):
        keras.utils.set_random_seed(0)
        model = build_rating_model(dataclasses.replace(TINY, objective=objective))
        model.build_all()
        paths[name] = str(root / name)
        export_lib.export_saved_model(model, paths[name], export_lib.export_metadata(model, "synthetic"), mc_samples=0)
    for version in (2, 3):
        shutil.copytree(f"{paths['pear']}/1", f"{paths['pear']}/{version}")
    config = root / "models.config"
    config.write_text(CONFIG % paths)
    return paths, str(config)


def _versions(live, name):
    status, body = live.request(f"/v1/models/{name}")
    return [int(s["version"]) for s in body["model_version_status"]] if status == 200 else []


def test_two_models_specific_policy_labels_and_versions_following_the_disk(bases):
    paths, config = bases
    live = LiveServer(specs=read_model_config(config))
    try:
        assert _versions(live, "pear") == [1, 3] and _versions(live, "baseline") == [1]
        image = {"instances": [_b64(_jpeg(0))]}
        _, by_version = live.request("/v1/models/pear/versions/3:predict", image)
        status, by_label = live.request("/v1/models/pear/labels/canary:predict", image)
        assert status == 200 and by_label == by_version
        assert live.request("/v1/models/pear/labels/stable/metadata")[1]["model_spec"]["version"] == "1"
        assert live.request("/v1/models/pear/versions/2:predict", image)[0] == 404  # not in the policy
        response = _grpc(live)[0].Predict(_predict_request([_jpeg(0)], label="stable"), timeout=60)
        assert response.model_spec.version.value == 1

        status, body = live.request("/v1/models/baseline:predict", image)
        assert status == 200 and "attributes" not in body["predictions"][0]
        assert np.isfinite(body["predictions"][0]["score"])

        shutil.rmtree(f"{paths['pear']}/3")  # a version vanishes from disk: unloaded
        assert _wait_until(lambda: _versions(live, "pear") == [1])
        assert live.request("/v1/models/pear/labels/canary:predict", image)[0] == 404
        shutil.copytree(f"{paths['baseline']}/1", f"{paths['baseline']}/2")  # latest policy: 2 replaces 1
        assert _wait_until(lambda: _versions(live, "baseline") == [2])
        assert live.request("/v1/models/baseline:predict", image)[0] == 200
    finally:
        live.stop()


@pytest.mark.parametrize(
    "text, words",
    [
        ("model_config_list { config { name: 'a' base_path: '/x' } ", "not a text-format ModelServerConfig"),
        ("model_config_list { config { name: 'a' } }", "needs a name and a base_path"),
        ("model_config_list { config { name: 'a' base_path: '/x' model_version_policy { specific {} } } }",
         "at least one version"),
        ("model_config_list { config { name: 'a' base_path: '/x' model_version_policy { specific { versions: 1 } }"
         " version_labels { key: 'x' value: 2 } } }", "not served"),
        ("model_config_list { config { name: 'a' base_path: '/x' } config { name: 'a' base_path: '/y' } }", "unique"),
        ("model_config_list { config { name: 'a' base_path: '/x' model_platform: 'pytorch' } }", "model_platform"),
    ],
)  # fmt: skip
def test_a_bad_config_file_is_refused_naming_the_problem(tmp_path, text, words):
    path = tmp_path / "bad.config"
    path.write_text(text)
    with pytest.raises(ValueError, match=words):
        read_model_config(str(path))


def test_version_policies_select_as_tf_serving_does():
    on_disk = [1, 2, 5, 7]
    assert ModelSpec("m", "/b").select(on_disk) == [7]
    assert ModelSpec("m", "/b", "latest", num_versions=2).select(on_disk) == [5, 7]
    assert ModelSpec("m", "/b", "all").select(on_disk) == on_disk
    assert ModelSpec("m", "/b", "specific", versions=(2, 3)).select(on_disk) == [2]
