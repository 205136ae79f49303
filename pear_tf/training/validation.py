"""Validation during training: one pass over the validation split per epoch."""

import numpy as np
import tensorflow as tf

from pear_tf.evaluation.scoring import evaluate_model, scoring_function


class Validator:
    """The validation loss terms and the DESIGN.md §3 metrics of a model, epoch after epoch.

    The scoring and loss functions are traced once and reused every epoch; one pass
    over the data gives both.

    Args:
      model: the RatingModel being trained.
      dataset: the batched validation pipeline.
      scale: the data set's RatingScale.

    Example:
      >>> validator = Validator(model, val_ds, splits.scale)
      >>> validator.run()  # {"val_loss": ..., "val_srcc": ..., ...}
    """

    def __init__(self, model, dataset, scale):
        self.model = model
        self.dataset = dataset
        self.scale = scale
        self.score = scoring_function(model)
        self.loss_terms = tf.function(lambda batch: model.loss_terms(batch, training=False))
        self.predictions = None  # the last pass's per-image outputs (summaries draw q(z|x) from them)

    def run(self):
        """Scores the split; returns ``val_<term>`` for every loss term and ``val_<metric>``."""
        metrics, self.predictions = evaluate_model(
            self.model, self.dataset, self.scale, score=self.score, loss_terms=self.loss_terms
        )
        figures = {f"val_{name}": float(np.mean(self.predictions[f"loss_{name}"])) for name in self.model.LOSS_TERMS}
        figures.update({f"val_{key}": value for key, value in metrics.items() if key != "num_images"})
        return figures
