"""A run's TensorBoard views, every scalar on the global-step axis.

``<model_dir>/logs/`` holds the runs ``train`` (loss terms per step and per epoch),
``validation`` (the epoch's validation losses and metrics), ``pear`` (learning rates,
reconstructions, q(z|x) histograms, the final test metrics) and, at its root, the
HParams summary and the projector of the content latent.
"""

import os

import keras
import numpy as np
import tensorflow as tf

from pear_tf.attributes import ATTRIBUTE_NAMES

# The figures the HParams tab compares across runs (Table 1's columns among them).
HPARAM_METRICS = ("srcc", "plcc", "accuracy", "emd_r1", "emd_r2", "attribute_corr_diff")


class RunSummaries:
    """Writes a run's summaries (the chief's alone).

    Args:
      log_dir: ``<model_dir>/logs``.
      png_dir: where ``reconstructions.png`` is written each epoch.
      sample_images: a few validation images [N, S, S, 3] to reconstruct.
    """

    def __init__(self, log_dir, png_dir, sample_images):
        self.log_dir = log_dir
        self.png_dir = png_dir
        self.sample_images = sample_images
        self.writers = {name: tf.summary.create_file_writer(os.path.join(log_dir, name))
                        for name in ("train", "validation", "pear")}  # fmt: skip

    def step(self, step, values):
        """This batch's loss terms, as ``batch_<term>``."""
        with self.writers["train"].as_default(step=step):
            for name, value in values.items():
                tf.summary.scalar(f"batch_{name}", value)

    def epoch(self, step, model, train_logs, validation_logs, validation_predictions):
        """The epoch's means and validation figures; learning rates, reconstructions and q(z|x)."""
        for name, values in (("train", train_logs), ("validation", validation_logs)):
            with self.writers[name].as_default(step=step):
                for key, value in values.items():
                    tf.summary.scalar(f"epoch_{key.removeprefix('val_')}", value)
        with self.writers["pear"].as_default(step=step):
            for name, optimizer in (("backbone", model.backbone_optimizer), ("heads", model.optimizer)):
                # (float() of a distributed variable fails: read its value.)
                tf.summary.scalar(f"learning_rate/{name}", float(keras.ops.convert_to_numpy(optimizer.learning_rate)))
            if model.config.objective == "pear":  # the baselines have neither decoder nor z
                outputs = model(self.sample_images, training=False, reconstruct=True)
                grid = reconstruction_grid(self.sample_images, outputs["reconstruction"])
                keras.utils.save_img(os.path.join(self.png_dir, "reconstructions.png"), grid, scale=False)
                tf.summary.image("reconstructions", grid[np.newaxis] / 255.0)
                for i, name in enumerate(ATTRIBUTE_NAMES):
                    tf.summary.histogram(f"q_z/{name}", validation_predictions["attributes"][:, i])
        for writer in self.writers.values():
            writer.flush()

    def evaluation(self, step, metrics):
        """The final test metrics, as ``eval/<metric>``."""
        with self.writers["pear"].as_default(step=step):
            for key, value in metrics.items():
                tf.summary.scalar(f"eval/{key}", value)
        self.writers["pear"].flush()

    def hparams(self, run_name, hparams, metrics):
        """The run's settings and final figures for TensorBoard's HParams tab (compare runs there)."""
        from tensorboard.plugins.hparams import api as hp

        writer = tf.summary.create_file_writer(self.log_dir)
        with writer.as_default(step=0):
            hp.hparams(hparams, trial_id=run_name)
            for key in HPARAM_METRICS:
                if isinstance(metrics.get(key), float):
                    tf.summary.scalar(f"hparams/{key}", metrics[key])
        writer.flush()


def reconstruction_grid(images, reconstructions):
    """Inputs over their reconstructions, side by side: a uint8-range [2R, N·R, 3] array."""
    size = reconstructions.shape[1]
    inputs = tf.image.resize(images, [size, size]) / 255.0
    rows = [tf.concat(tf.unstack(row), axis=1) for row in (inputs, tf.clip_by_value(reconstructions, 0.0, 1.0))]
    return np.round(tf.concat(rows, axis=0).numpy() * 255.0)
