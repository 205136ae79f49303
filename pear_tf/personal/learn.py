"""Fitting a generic model's taste space and population prior, once, from its training photos and workers.

The data are FLICKR-AES's layout (pear_tf.data.flickr_aes): the per-worker ratings CSV
and the photos. Test workers (the shipped list or ``test_workers``) and every photo any
of them rated are left out, so the protocol's held-out ratings are never seen. The space
is fitted on a sample of the generic photos (no ratings needed); the population on the
training workers' ratings of the generic photos, or of only the generic model's
validation slice (``images="validation"``: photos it did not train on, so its score is as
good there as on a new person's photos; fewer ratings).
"""

import dataclasses
import os

import numpy as np

from pear_tf.data import flickr_aes
from pear_tf.data.layout import require
from pear_tf.errors import BadValue
from pear_tf.inference.saved_model import SavedModelScorer
from pear_tf.personal import evidence, features, population, store
from pear_tf.personal.space import FIXED, fit_space, raw_features

IMAGES = ("generic", "validation")


@dataclasses.dataclass(frozen=True)
class PopulationConfig:
    """What fit_population does.

    Attributes:
      model: the generic SavedModel (base or version folder); the result goes beside it.
      data_dir: the training data in FLICKR-AES's layout.
      test_workers: a test-worker CSV (None: the 37 ids shipped with pear_tf).
      images: "generic" (every photo no test worker rated) or "validation" (the generic
        model's validation slice, read from its metadata).
      space_photos: at most this many generic photos fit the space (a fixed-seed sample).
      max_components: content components the space offers the population's selection.
      seed: the sample.
      batch_size: images per model call.
    """

    model: str
    data_dir: str
    test_workers: str | None = None
    images: str = "generic"
    space_photos: int = 3000
    max_components: int = max(population.COMPONENT_GRID)
    seed: int = 0
    batch_size: int = 32


def _validation_names(config, scorer):
    data = scorer.metadata.get("train_config", {}).get("data", {})
    if "validation_fraction" not in data:
        raise BadValue(
            f"{scorer.path}'s metadata does not say how it was trained (no train_config): its validation slice is "
            "unknown; use --images=generic."
        )
    (_, validation, _), _, _ = flickr_aes.read_flickr_aes(
        config.data_dir, data["validation_fraction"], data.get("seed", 0), config.test_workers
    )
    return set(validation["id"])


def _photos(config, scorer, images, workers):
    """(space photo names, population photo names): generic photos, never one a test worker rated."""
    tested = set(images[np.isin(workers, flickr_aes.read_test_workers(config.test_workers))])
    generic = sorted(set(images) - tested)
    if not generic:
        raise BadValue(f"{config.data_dir}: every photo was rated by a test worker; nothing to learn from.")
    chosen = np.random.default_rng(config.seed).permutation(len(generic))[: config.space_photos]
    space_names = [generic[i] for i in sorted(chosen)]
    if config.images == "validation":
        return space_names, sorted(_validation_names(config, scorer) - tested)
    return space_names, generic


def fit_space_and_population(space_raw, raw, rated, max_components, progress=None):
    """The taste space and the population, from raw features and the training workers' ratings.

    Args:
      space_raw: raw features [n, R] of the photos that fit the space (no ratings needed).
      raw: raw features [m, R] of the photos the workers rated.
      rated: {worker: (row indices into ``raw`` [r], their scores [r])}; workers are taken in
        sorted order (the cross-validation's folds), those with fewer than 3 or constant
        ratings skipped.
      max_components: content components to offer (0 without content).
      progress: optional callable(message).

    Returns:
      (space truncated to the chosen components, Population, {"components", "selection",
      "workers", "skipped_workers", "ratings"}).
    """
    space = fit_space(space_raw, max_components)
    x = space.transform(raw)
    stats, used, skipped = [], [], []
    for worker in sorted(rated):
        index, scores = rated[worker]
        if len(index) < 3 or np.ptp(scores) == 0:
            skipped.append(worker)
            continue
        stats.append(evidence.sufficient(x[index], scores))
        used.append(worker)
    if len(stats) < population.FOLDS:
        raise BadValue(f"only {len(stats)} training workers rated 3+ of the photos with ratings that vary; "
                         f"a population needs at least {population.FOLDS}.")  # fmt: skip
    if progress:
        progress(f"Fitting the population of {len(stats)} training workers ({sum(s.dof + 1 for s in stats)} ratings)")
    fitted, components, table = population.select_and_fit(stats, FIXED, space.num_content, progress)
    info = {"components": components, "selection": table, "workers": used, "skipped_workers": skipped,
            "ratings": int(sum(s.dof + 1 for s in stats))}  # fmt: skip
    return space.truncate(components), fitted, info


def _ratings_by_worker(workers, images, scores, row_of, names, test):
    """{training worker: (rows of their readable photos among ``names``, their scores)}."""
    usable = np.array([n in row_of for n in images]) & np.isin(images, list(names)) & ~np.isin(workers, list(test))
    rated = {}
    for worker, name, score in zip(workers[usable], images[usable], scores[usable]):
        rows, values = rated.setdefault(worker, ([], []))
        rows.append(row_of[name])
        values.append(score)
    return {w: (np.array(r), np.array(v)) for w, (r, v) in rated.items()}


def learn_population(config, progress=print):
    """Fits and stores the space and the population; returns a summary dict (``path`` among it)."""
    if config.images not in IMAGES:
        raise BadValue(f"images={config.images!r} is not one of {IMAGES}.")
    require(config.data_dir, "FLICKR-AES", [flickr_aes.IMAGE_DIR, flickr_aes.RATINGS_FILE], flickr_aes.OBTAIN)
    workers, images, scores = flickr_aes.read_worker_ratings(os.path.join(config.data_dir, flickr_aes.RATINGS_FILE))
    scorer = SavedModelScorer(config.model)
    space_names, population_names = _photos(config, scorer, images, workers)
    names = sorted(set(space_names) | set(population_names))
    progress(f"Scoring {len(names)} photos with {scorer.path} ...")
    paths = [os.path.join(config.data_dir, flickr_aes.IMAGE_DIR, n) for n in names]
    feats, errors = features.image_features(scorer, paths, config.batch_size, progress=True)
    row_of = {os.path.basename(p): i for i, p in enumerate(feats["path"])}
    raw = raw_features(feats)
    space_rows = [row_of[n] for n in space_names if n in row_of]
    test = flickr_aes.read_test_workers(config.test_workers)
    rated = _ratings_by_worker(workers, images, scores, row_of, population_names, test)
    components = config.max_components if feats["content"] is not None else 0
    space, fitted, info = fit_space_and_population(raw[space_rows], raw, rated, components, progress)
    info = {
        "data_dir": os.path.abspath(config.data_dir),
        "images": config.images,
        "space_photos": len(space_rows),
        "population_photos": len({n for n in population_names if n in row_of}),
        "unreadable_images": [{"path": p, "error": e} for p, e in errors],
        "content_components": info.pop("components"),
        **info,
    }
    path = store.save(config.model, space, fitted, info)
    return {"path": path, "population": fitted, **info}
