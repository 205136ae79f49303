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


class BestCheckpoint:
    """The epoch with the best validation SRCC: its weights, and whether patience has run out.

    ``<work_dir>/best/`` holds the model's weights at that epoch and ``best.json`` the
    record (epoch, step, val_srcc, epochs since). A resumed run continues the record of
    the run folder, on every worker, so all workers of a multi-worker run take the same
    decisions (a non-chief's scratch folder does not outlive its run).

    Args:
      model: the model being trained.
      model_dir: the run folder (the chief's record and best weights are read from here).
      work_dir: where this worker writes (the run folder on the chief).
      patience: epochs without improvement before training stops (0: never stop).
    """

    def __init__(self, model, model_dir, work_dir, patience=0):
        self.patience = patience
        self.path = os.path.join(work_dir, "best.json")
        self.run_best_dir = os.path.join(model_dir, "best")
        self.manager = tf.train.CheckpointManager(tf.train.Checkpoint(model=model), os.path.join(work_dir, "best"), 1)
        self.record = {"epoch": None, "step": None, "val_srcc": None, "epochs_since": 0}
        run_record = os.path.join(model_dir, "best.json")
        if os.path.exists(run_record):
            with open(run_record) as f:
                self.record = json.load(f)

    @property
    def exhausted(self):
        """True when patience has run out (a resumed run then trains no further)."""
        return bool(self.patience) and self.record["epochs_since"] >= self.patience

    def update(self, epoch, step, val_srcc):
        """Records an epoch's validation SRCC (saving the weights if best); returns ``exhausted``."""
        best = self.record["val_srcc"]
        if best is None or (val_srcc == val_srcc and val_srcc > best):  # NaN never improves
            self.manager.save(checkpoint_number=step)
            self.record = {"epoch": epoch + 1, "step": step, "val_srcc": val_srcc, "epochs_since": 0}
        else:
            self.record["epochs_since"] += 1
        with open(self.path, "w") as f:
            json.dump(self.record, f, indent=2)
        return self.exhausted

    def restore(self):
        """Loads the best epoch's weights into the model; returns the record, or None if none was saved."""
        if self.record["step"] is None:
            return None
        path = self.manager.latest_checkpoint
        if path is None or not path.endswith(f"-{self.record['step']}"):
            # The best epoch was saved by an earlier run: the run folder holds it.
            path = os.path.join(self.run_best_dir, f"ckpt-{self.record['step']}")
        self.manager.checkpoint.restore(path).assert_existing_objects_matched()
        return self.record
