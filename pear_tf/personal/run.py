"""Personalising a generic model to one person: ratings → features → Taste → SavedModel and taste report."""

import dataclasses
import os

import numpy as np

from pear_tf.inference.saved_model import SavedModelScorer
from pear_tf.personal import adapt, export, features, ratings, store, taste

METHOD = (
    "bayesian linear correction on the generic score, 11 attributes and content components, its prior the "
    "population of training workers' tastes, its size chosen by the person's evidence (pear_tf.personal.adapt)"
)


@dataclasses.dataclass(frozen=True)
class PersonalizeConfig:
    """What personalise does.

    Attributes:
      model: the generic SavedModel (base folder or version folder).
      ratings: the person's ``path,score`` CSV.
      export_dir: the personal model's base folder; taste.json/taste.png go there too.
      person: who it is adapted for (default: the export folder's name).
      min_ratings: fewer usable ratings than this is an error.
      score_range: (low, high) of the person's scale, or None for any finite number.
      prior: the fallback Prior, used when no population is.
      population: "auto" (the model's own, if fitted with pear_tf.fit_population), "none", or a file.
      batch_size: images per model call when computing features.
    """

    model: str
    ratings: str
    export_dir: str
    person: str | None = None
    min_ratings: int = 10
    score_range: tuple | None = None
    prior: adapt.Prior = adapt.Prior()
    population: str = store.AUTO
    batch_size: int = 32


def personalize(config):
    """Adapts the generic model to one person and exports it; returns a dict of what was written."""
    usable, skipped = ratings.read_ratings(config.ratings, config.score_range)
    ratings.require_enough(usable, skipped, config.min_ratings, config.ratings)
    scorer = SavedModelScorer(config.model)
    model, population = store.taste_model(scorer.path, config.population, config.prior)
    paths, scores = zip(*usable)
    feats, errors = features.image_features(scorer, paths, config.batch_size)
    skipped += [(None, path, f"unreadable image: {reason}") for path, reason in errors]
    rated = dict(zip(paths, scores))
    ratings.require_enough(feats["path"], skipped, config.min_ratings, config.ratings)
    person = config.person or os.path.basename(os.path.normpath(config.export_dir))
    fitted = adapt.fit_taste(feats, [rated[p] for p in feats["path"]], model)
    summary = taste.taste_summary(fitted, person, scorer.path)
    metadata = {**scorer.metadata, "personalized": _personal_metadata(fitted, summary, scorer, config, population)}
    version = export.export_personal(scorer.path, fitted, metadata, config.export_dir)
    json_path, png_path = taste.write_taste(summary, config.export_dir)
    return {
        "version": version,
        "taste_json": json_path,
        "taste_png": png_path,
        "summary": summary["summary"],
        "num_ratings": fitted.num_ratings,
        "skipped": skipped,
        "population": population,
        "chosen": fitted.chosen,
        "paths": feats["path"],
        "generic_scores": feats["score"],
        # What the generic and the personal model say of the rated photos, for a first check.
        "personal_scores": np.asarray(fitted.predict(feats)),
    }


def _personal_metadata(fitted, summary, scorer, config, population):
    """The ``personalized`` block of the personal model's metadata."""
    intercept, coefficients = fitted.linear()
    return {
        "adapted_for": summary["person"],
        "num_ratings": fitted.num_ratings,
        "generic_model": os.path.abspath(scorer.path),
        "generic_metadata": {k: scorer.metadata.get(k) for k in ("dataset", "checkpoint", "metrics")},
        "method": METHOD,
        "population": population,
        "prior": dataclasses.asdict(config.prior),
        "chosen": fitted.chosen,
        "is_generic": fitted.is_generic,
        "evidence": fitted.evidence,
        "taste_effects": {a["name"]: a["effect"] for a in summary["attributes"] + summary["content"]},
        "taste_weights": {a["name"]: a["weight"] for a in summary["attributes"]},
        "attribute_centre": fitted.space.raw_mean[1:12].tolist(),
        "linear": {"intercept": float(intercept), "coefficients": coefficients.tolist(),
                   "inputs": "generic score, 11 attributes (AADB order), content (as the model outputs it)"},
        "summary": summary["summary"],
    }  # fmt: skip
