"""Where a generic model's taste space and population live: beside its versions, one file per version.

    savedmodels/<generic>/<version>/               the SavedModel, never touched
    savedmodels/<generic>/population/<version>.json  its taste space and population prior

TF Serving and pear_tf's version listing ignore the non-numeric ``population`` folder. The
file is written aside and renamed into place (a reader never sees half of it; refitting
replaces it whole), and records a fingerprint of the SavedModel it was fitted for, so a
population is never applied to another model by mistake.
"""

import hashlib
import json
import os
import tempfile

from pear_tf.errors import BadValue, NotFound
from pear_tf.inference.versions import latest_version_dir
from pear_tf.personal.adapt import TasteModel
from pear_tf.personal.population import Population
from pear_tf.personal.space import TasteSpace

FOLDER = "population"
AUTO, NONE = "auto", "none"


def fingerprint(version_dir):
    """SHA-256 of the version's saved_model.pb: the graph and its signatures."""
    digest = hashlib.sha256()
    with open(os.path.join(version_dir, "saved_model.pb"), "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def population_path(model_path):
    """The population file of the model's latest (or given) version."""
    version_dir = os.path.normpath(latest_version_dir(model_path))
    base, version = os.path.split(version_dir)
    return os.path.join(base, FOLDER, f"{version}.json")


def save(model_path, space, population, info):
    """Writes the space, the population and ``info`` for the model's version, atomically; returns the path."""
    version_dir = latest_version_dir(model_path)
    path = population_path(version_dir)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    data = {"model": os.path.abspath(version_dir), "fingerprint": fingerprint(version_dir), **info,
            "space": space.to_json(), "population": population.to_json()}  # fmt: skip
    handle, staging = tempfile.mkstemp(prefix=".population-", suffix=".json", dir=os.path.dirname(path))
    try:
        with os.fdopen(handle, "w") as f:
            json.dump(data, f, indent=1)
        os.replace(staging, path)
    finally:
        if os.path.exists(staging):
            os.remove(staging)
    return path


def load(path, version_dir=None):
    """(TasteSpace, Population, the file's other entries); checks the fingerprint against ``version_dir``."""
    with open(path) as f:
        data = json.load(f)
    if version_dir is not None and data.get("fingerprint") != fingerprint(version_dir):
        raise BadValue(
            f"{path} was fitted for another model than {version_dir} (its saved_model.pb differs): "
            f"fit it again with python -m pear_tf.fit_population --model={version_dir}."
        )
    info = {k: v for k, v in data.items() if k not in ("space", "population")}
    return TasteSpace.from_json(data["space"]), Population.from_json(data["population"]), info


def taste_model(model_path, choice=AUTO, prior=None):
    """(TasteModel, description) for ``--population``: "auto" (the model's own file, if fitted), "none", or a file.

    Without a population the TasteModel standardises over each person's rated photos and
    chooses among the fallback Prior's scales.
    """
    version_dir = latest_version_dir(model_path)
    extra = {"prior": prior} if prior is not None else {}
    if choice == NONE:
        return TasteModel(**extra), "none (--population=none)"
    path = population_path(version_dir) if choice == AUTO else choice
    if not os.path.exists(path):
        if choice != AUTO:
            raise NotFound(f"--population={choice}: no such file.")
        return TasteModel(**extra), (
            f"none: {path} does not exist (fit one with python -m pear_tf.fit_population --model={model_path})"
        )
    space, population, _ = load(path, version_dir)
    return TasteModel(space=space, population=population, **extra), path
