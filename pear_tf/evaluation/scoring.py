"""Scoring a data set with a model and turning the scores into DESIGN.md §3 metrics."""

import keras
import numpy as np
import tensorflow as tf

from pear_tf import metrics
from pear_tf.model.rating_model import model_input


def scoring_function(model, with_content=False):
    """``model.score`` as one tf.function: trace it once and reuse it (per epoch, per split)."""
    return tf.function(lambda images: model.score(images, with_content=with_content))


def predict_dataset(model, dataset, verbose=0, with_content=False, score=None, loss_terms=None):
    """Scores every batch of ``dataset`` with ``model.score``; returns predictions and truth.

    ``score`` is a scoring_function to reuse (a new one is traced if None);
    ``loss_terms``, if given, maps a batch to per-example loss terms, computed in the
    same pass over the data (validation reads its images once).

    Returns:
      A dict of numpy arrays: the outputs of ``model.score`` (score, score_std,
      distribution, attributes) and the truth ``true_distribution``,
      ``true_attributes``, ``attribute_mask``, ``true_score`` where the data set has
      official scores; ``content`` (μ of s) if ``with_content``;
      ``loss_<term>`` for each term of ``loss_terms``.
    """
    score = score or scoring_function(model, with_content)
    batches = []
    progbar = keras.utils.Progbar(None, verbose=verbose, unit_name="batch")
    for i, batch in enumerate(dataset):
        outputs = {key: value.numpy() for key, value in score(model_input(batch)).items()}
        outputs["true_distribution"] = batch["distribution"].numpy()
        outputs["true_attributes"] = batch["attributes"].numpy()
        outputs["attribute_mask"] = batch["attribute_mask"].numpy()
        if "score" in batch:  # a data set's official scores (AADB)
            outputs["true_score"] = batch["score"].numpy()
        if loss_terms is not None:
            outputs.update({f"loss_{key}": value.numpy() for key, value in loss_terms(batch).items()})
        batches.append(outputs)
        progbar.update(i + 1)
    return {key: np.concatenate([b[key] for b in batches]) for key in batches[0]}


def evaluate_model(model, dataset, scale, verbose=0, with_content=False, score=None, loss_terms=None):
    """The metrics of DESIGN.md §3 of ``model`` on ``dataset`` (and its predictions, see predict_dataset)."""
    predictions = predict_dataset(model, dataset, verbose, with_content, score, loss_terms)
    return split_metrics(predictions, scale), predictions


def split_metrics(predictions, scale):
    """The §3 metrics of predictions (SRCC and PLCC against official scores where there are some)."""
    return metrics.aesthetic_metrics(
        predictions["true_distribution"], predictions["distribution"], scale, predictions.get("true_score")
    )
