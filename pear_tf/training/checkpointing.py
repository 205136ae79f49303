"""What makes a run resumable: its checkpoint (model, both optimizers, the global step) and history.

Every worker restores the chief's checkpoint and saves (the save reads distributed
variables collectively); only the chief's lands in the run folder.
"""

import json
import os

import tensorflow as tf
from absl import logging


class HistoryLog:
    """Per-step loss terms as JSON lines; on resume, lines after the restored step are dropped."""

    def __init__(self, path):
        self.path = path

    def truncate_after(self, step):
        if not self.path or not os.path.exists(self.path):
            return
        with open(self.path) as f:
            kept = [line for line in f if line.strip() and json.loads(line)["step"] <= step]
        with open(self.path, "w") as f:
            f.writelines(kept)

    def append(self, record):
        if self.path:
            with open(self.path, "a") as f:
                f.write(json.dumps(record) + "\n")


class RunCheckpoint:
    """The checkpoint of a training run, its manager and its per-step history.

    Args:
      model: a RatingModel with both optimizers built (build_optimizers).
      model_dir: the run folder (the chief's checkpoints are read from here).
      work_dir: where this worker writes (the run folder on the chief).
      keep: checkpoints kept.
    """

    def __init__(self, model, model_dir, work_dir, keep=3):
        self.model_dir = model_dir
        self.step = tf.Variable(0, dtype=tf.int64, trainable=False, name="step")
        self.checkpoint = tf.train.Checkpoint(
            model=model,
            backbone_optimizer=model.backbone_optimizer,
            head_optimizer=model.optimizer,
            step=self.step,
            **model.random_state(),
        )
        self.manager = tf.train.CheckpointManager(self.checkpoint, os.path.join(work_dir, "checkpoints"), keep)
        self.history = HistoryLog(os.path.join(work_dir, "history.jsonl"))

    def restore_latest(self, steps_per_epoch):
        """Restores the run folder's latest checkpoint, if any; returns the resume message or None."""
        latest = tf.train.latest_checkpoint(os.path.join(self.model_dir, "checkpoints"))
        if not latest:
            self.history.truncate_after(0)
            return None
        self.checkpoint.restore(latest).assert_existing_objects_matched()
        step = int(self.step)
        self.history.truncate_after(step)
        epoch, position = divmod(step, steps_per_epoch)
        logging.info("Resumed from %s (step %d).", latest, step)
        return f"Resumed from step {step} (epoch {epoch + 1}, batch {position} of {steps_per_epoch}; {latest})"
