"""The FLICKR-AES personalisation protocol on a generic SavedModel: features once, then every trial."""

import dataclasses
import os

import numpy as np

from pear_tf.data import flickr_aes
from pear_tf.data.layout import require
from pear_tf.errors import BadValue
from pear_tf.inference.saved_model import SavedModelScorer
from pear_tf.personal import features, protocol, store
from pear_tf.personal.adapt import Prior
from pear_tf.personal.report import markdown, write_report  # noqa: F401 (markdown: the command's table)


@dataclasses.dataclass(frozen=True)
class ProtocolConfig:
    """The protocol's settings, all fixed before any held-out image is seen.

    Attributes:
      model: the generic SavedModel.
      data_dir: FLICKR-AES as distributed.
      output_dir: where personal_eval.json, .md and .png go.
      shots: k values, e.g. (10, 100).
      trials: random draws per worker and k.
      seed: the draws.
      test_workers: a test-worker CSV (None: the 37 ids shipped with pear_tf).
      prior: the fallback Prior, used when no population is.
      population: "auto" (the model's own, if fitted with pear_tf.fit_population), "none", or a file.
      batch_size: images per model call.
    """

    model: str
    data_dir: str
    output_dir: str
    shots: tuple = (10, 100)
    trials: int = 10
    seed: int = 0
    test_workers: str | None = None
    prior: Prior = Prior()
    population: str = store.AUTO
    batch_size: int = 32


def rated_by_test_workers(data_dir, test_workers=None):
    """{worker: (image paths [n], scores [n])} of the test workers found in the ratings CSV."""
    require(data_dir, "FLICKR-AES", [flickr_aes.IMAGE_DIR, flickr_aes.RATINGS_FILE], flickr_aes.OBTAIN)
    workers, images, scores = flickr_aes.read_worker_ratings(os.path.join(data_dir, flickr_aes.RATINGS_FILE))
    data = {}
    for worker in flickr_aes.read_test_workers(test_workers):
        rows = workers == worker
        if rows.any():
            paths = np.array([os.path.join(data_dir, flickr_aes.IMAGE_DIR, n) for n in images[rows]])
            data[worker] = (paths, scores[rows])
    if not data:
        raise BadValue(f"{data_dir}: none of the test workers rated an image; is --test_workers right?")
    return data


def run_protocol(config):
    """Runs the protocol and writes the report; returns the report dict."""
    rated = rated_by_test_workers(config.data_dir, config.test_workers)
    scorer = SavedModelScorer(config.model)
    model, population = store.taste_model(scorer.path, config.population, config.prior)
    unique = sorted({p for paths, _ in rated.values() for p in paths})
    feats, errors = features.image_features(scorer, unique, config.batch_size, progress=True)
    row = {p: i for i, p in enumerate(feats["path"])}
    worker_data = {}
    for worker, (paths, scores) in rated.items():
        keep = np.array([p in row for p in paths])  # unreadable images leave the worker's set, listed in errors
        index = np.array([row[p] for p in paths[keep]], int)
        worker_data[worker] = (features.select(feats, index), scores[keep])
    results = protocol.evaluate_workers(worker_data, config.shots, config.trials, config.seed, model)
    report = {
        "model": scorer.path,
        "data_dir": config.data_dir,
        "test_workers": len(worker_data),
        "images": len(unique),
        "unreadable_images": [{"path": p, "error": e} for p, e in errors],
        "trials": config.trials,
        "seed": config.seed,
        "population": population,
        "prior": dataclasses.asdict(config.prior),
        "results": results,
        "published": {name: dict(zip(("10", "100"), values)) for name, values in protocol.PUBLISHED.items()},
    }
    write_report(report, config.output_dir)
    return report
