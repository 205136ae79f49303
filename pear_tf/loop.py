"""The training loop: the model's own train step under ``strategy.run``, for every strategy.

Keras 3 ``fit`` fails under MultiWorkerMirroredStrategy, so training runs this loop on
one device, under MirroredStrategy and across workers alike. It owns what a long run
needs to survive:

- checkpoints (model, both optimizers, the global step) every N steps and at every
  epoch end; a restart with the same command resumes at the exact batch it stopped
  after (the data set of an epoch is a function of the seed and the epoch, and the
  batches already trained are skipped);
- SIGTERM (pre-emption) saves a checkpoint before the run exits, on every worker;
- a NaN or Inf loss stops the run with the step and the loss term, before anything
  is saved, so the last checkpoint stays the last good one;
- a per-step loss history (``history.jsonl``) that a resumed run continues.
"""

import dataclasses
import json
import os
import signal

import keras
import numpy as np
import tensorflow as tf
from absl import logging


class NonFiniteLoss(RuntimeError):
    """A loss term became NaN or Inf; the run stopped without saving."""


class Preempted(RuntimeError):
    """SIGTERM arrived; the run saved a checkpoint and stopped."""


@dataclasses.dataclass
class LoopConfig:
    """How long to train and how often to save.

    Attributes:
      epochs: epochs to reach (a resumed run continues up to this count).
      steps_per_epoch: global batches per epoch.
      checkpoint_every_steps: save every this many steps (0: at epoch ends only).
      jit_compile: compile the replica step with XLA.
      verbose: 0 silent, 1 progress bar, 2 one line per epoch.
    """

    epochs: int
    steps_per_epoch: int
    checkpoint_every_steps: int = 0
    jit_compile: bool = False
    verbose: int = 1


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


class _SigtermFlag:
    """Sets a flag on SIGTERM while the loop runs (the previous handler is put back after)."""

    def __init__(self):
        self.raised = False
        self._previous = None

    def __enter__(self):
        try:
            self._previous = signal.signal(signal.SIGTERM, self._handle)
        except ValueError:  # not the main thread: no pre-emption handling
            self._previous = None
        return self

    def _handle(self, signum, frame):
        self.raised = True
        logging.warning("SIGTERM received: saving a checkpoint after this step.")

    def __exit__(self, *exc):
        if self._previous is not None:
            signal.signal(signal.SIGTERM, self._previous)


def make_train_function(model, strategy, jit_compile=False):
    """One global step: ``model.train_step`` on every replica, then the running loss means.

    Also sums a stop flag over every replica of every worker, so all workers see a
    SIGTERM that reached one of them at the same step.
    """
    replica_step = tf.function(model.train_step, jit_compile=True) if jit_compile else model.train_step

    @tf.function
    def train_function(iterator, stop):
        strategy.run(replica_step, args=(next(iterator),))
        stops = strategy.run(tf.identity, args=(stop,))
        logs = {name: tracker.result() for name, tracker in model.trackers.items()}
        return logs, strategy.reduce(tf.distribute.ReduceOp.SUM, stops, axis=None)

    return train_function


def first_non_finite(values, order):
    """The first term (in ``order``, the total last) whose value is NaN or Inf, or None."""
    for name in sorted(values, key=lambda n: (n == "loss", order.index(n) if n in order else len(order))):
        if not np.isfinite(values[name]):
            return name
    return None


def run(model, strategy, epoch_dataset, config, step, manager, history, on_epoch_end=None):
    """Trains from ``step`` (a restored tf.Variable) to ``epochs × steps_per_epoch``.

    Args:
      model: a compiled RatingModel built under ``strategy``.
      epoch_dataset: f(epoch, skip, input_context) → the dataset of that epoch with
        ``skip`` batches dropped, batched per replica and repeated.
      config: a LoopConfig.
      step: tf.Variable int64, the global step (in the checkpoint).
      manager: the CheckpointManager to save through (every worker saves; the chief's
        goes to the run folder).
      history: a HistoryLog.
      on_epoch_end: f(epoch, logs) → extra logs (validation), called after each epoch.

    Returns:
      The per-epoch logs, a dict of lists (like Keras' History.history).

    Raises:
      NonFiniteLoss: a loss term was NaN or Inf (nothing saved at that step).
      Preempted: SIGTERM; a checkpoint of the current step was saved.
    """
    spe = config.steps_per_epoch
    train_function = make_train_function(model, strategy, config.jit_compile)
    order = list(model.LOSS_TERMS)
    epoch_logs = {}
    with _SigtermFlag() as sigterm:
        while int(step) < config.epochs * spe:
            epoch, position = divmod(int(step), spe)
            for tracker in model.metrics:
                tracker.reset_state()
            dataset = strategy.distribute_datasets_from_function(
                lambda context, e=epoch, p=position: epoch_dataset(e, p, context)
            )
            iterator = iter(dataset)
            if config.verbose:
                print(f"Epoch {epoch + 1}/{config.epochs}")
            progbar = keras.utils.Progbar(spe, verbose=config.verbose, stateful_metrics=order)
            previous = {name: 0.0 for name in order}
            for count in range(1, spe - position + 1):
                logs, stops = train_function(iterator, tf.constant(int(sigterm.raised), tf.int32))
                means = {name: float(value) for name, value in logs.items()}
                bad = first_non_finite(means, order)
                if bad is not None:
                    last = manager.latest_checkpoint or "none (no checkpoint was saved)"
                    raise NonFiniteLoss(
                        f"The loss term '{bad}' is {means[bad]} at step {int(step) + 1} (epoch {epoch + 1}, "
                        f"batch {position + count}): training stopped. The last good checkpoint is {last}."
                    )
                step.assign_add(1)
                # Running means over the epoch → this step's batch values.
                values = {name: count * means[name] - (count - 1) * previous[name] for name in order}
                previous = means
                history.append({"step": int(step), "epoch": epoch + 1, **values})
                progbar.update(position + count, [(name, means[name]) for name in order])
                if int(stops) > 0:
                    manager.save(checkpoint_number=int(step))
                    raise Preempted(f"SIGTERM: saved the checkpoint of step {int(step)}; rerun the command to resume.")
                at_epoch_end = count == spe - position
                if at_epoch_end or (config.checkpoint_every_steps and int(step) % config.checkpoint_every_steps == 0):
                    manager.save(checkpoint_number=int(step))
            logs = dict(previous)
            if on_epoch_end is not None:
                logs.update(on_epoch_end(epoch, logs) or {})
            if config.verbose:  # the epoch's means and validation figures, one line
                print(" - ".join(f"{k}: {v:.4f}" for k, v in logs.items() if isinstance(v, float)))
            for key, value in logs.items():
                epoch_logs.setdefault(key, []).append(value)
    return epoch_logs
