"""Per-epoch views of a run: validation metrics, reconstructions and q(z|x) in TensorBoard."""

import os

import keras
import numpy as np
import tensorflow as tf

from pear_tf.attributes import ATTRIBUTE_NAMES
from pear_tf.evaluate_lib import evaluate_model, scoring_function


class PearSummaries(keras.callbacks.Callback):
    """Per epoch: validation losses and SRCC/PLCC/accuracy/EMD, learning rates, reconstructions and z.

    One pass over the validation data gives the loss terms and the metrics; both are
    added to the epoch's logs as ``val_<name>``; learning rates,
    reconstructions (also written as ``reconstructions.png`` in ``png_dir``) and
    histograms of q(z|x) per attribute go to TensorBoard under ``log_dir``.
    """

    def __init__(self, log_dir, png_dir, validation, scale, num_images=8):
        super().__init__()
        self.writer = tf.summary.create_file_writer(log_dir)
        self.png_dir = png_dir
        self.validation = validation
        self.scale = scale
        self.images = next(iter(validation.unbatch().batch(num_images)))["image"]
        self.score = self.loss_terms = None  # set with the model; traced once, reused every epoch

    def set_model(self, model):
        super().set_model(model)
        self.score = scoring_function(model)
        self.loss_terms = tf.function(lambda batch: model.loss_terms(batch, training=False))

    def on_epoch_end(self, epoch, logs=None):
        metrics, predictions = evaluate_model(
            self.model, self.validation, self.scale, score=self.score, loss_terms=self.loss_terms
        )
        if logs is not None:
            for name in self.model.LOSS_TERMS:
                logs[f"val_{name}"] = float(np.mean(predictions[f"loss_{name}"]))
            logs.update({f"val_{key}": value for key, value in metrics.items() if key != "num_images"})
        with self.writer.as_default(step=epoch + 1):
            for name, optimizer in (("backbone", self.model.backbone_optimizer), ("heads", self.model.optimizer)):
                # (float() of a distributed variable fails: read its value.)
                tf.summary.scalar(f"learning_rate/{name}", float(keras.ops.convert_to_numpy(optimizer.learning_rate)))
            if self.model.config.objective == "pear":  # the baselines have neither decoder nor z
                outputs = self.model(self.images, training=False, reconstruct=True)
                grid = reconstruction_grid(self.images, outputs["reconstruction"])
                keras.utils.save_img(os.path.join(self.png_dir, "reconstructions.png"), grid, scale=False)
                tf.summary.image("reconstructions", grid[np.newaxis] / 255.0)
                for i, name in enumerate(ATTRIBUTE_NAMES):
                    tf.summary.histogram(f"q_z/{name}", predictions["attributes"][:, i])
        self.writer.flush()


def reconstruction_grid(images, reconstructions):
    """Inputs over their reconstructions, side by side: a uint8-range [2R, N·R, 3] array."""
    size = reconstructions.shape[1]
    inputs = tf.image.resize(images, [size, size]) / 255.0
    rows = [tf.concat(tf.unstack(row), axis=1) for row in (inputs, tf.clip_by_value(reconstructions, 0.0, 1.0))]
    return np.round(tf.concat(rows, axis=0).numpy() * 255.0)


def write_eval_summaries(log_dir, metrics, step):
    """Writes the final test metrics as TensorBoard scalars under eval/."""
    writer = tf.summary.create_file_writer(log_dir)
    with writer.as_default(step=step):
        for key, value in metrics.items():
            tf.summary.scalar(f"eval/{key}", value)
    writer.flush()
