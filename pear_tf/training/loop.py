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
- a per-step loss history (``history.jsonl``, see checkpointing) that a resumed run continues.
"""

import dataclasses
import signal

import keras
import numpy as np
import tensorflow as tf
from absl import logging


# A key on_epoch_end may return (True) to end training after this epoch (early stopping).
STOP_TRAINING = "stop_training"


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
    """One global step: ``model.update`` on every replica; returns this batch's loss terms.

    Each replica returns its terms averaged over the global batch, so their sum is the
    batch's mean. Also sums a stop flag over every replica of every worker, so all
    workers see a SIGTERM that reached one of them at the same step.
    """
    replica_step = tf.function(model.update, jit_compile=True) if jit_compile else model.update

    @tf.function
    def train_function(iterator, stop):
        per_replica = strategy.run(replica_step, args=(next(iterator),))
        values = {name: strategy.reduce(tf.distribute.ReduceOp.SUM, value, axis=None)
                  for name, value in per_replica.items()}  # fmt: skip
        stops = strategy.run(tf.identity, args=(stop,))
        return values, strategy.reduce(tf.distribute.ReduceOp.SUM, stops, axis=None)

    return train_function


def first_non_finite(values, order):
    """The first term (in ``order``, the total last) whose value is NaN or Inf, or None."""
    for name in sorted(values, key=lambda n: (n == "loss", order.index(n) if n in order else len(order))):
        if not np.isfinite(values[name]):
            return name
    return None


def run(model, strategy, epoch_dataset, config, step, manager, history, on_epoch_end=None, on_step_end=None):
    """Trains from ``step`` (a restored tf.Variable) to ``epochs × steps_per_epoch``.

    Args:
      model: a compiled RatingModel built under ``strategy``.
      epoch_dataset: f(epoch, skip, input_context) → the dataset of that epoch with
        ``skip`` batches dropped, batched per replica and repeated.
      config: a LoopConfig.
      step: tf.Variable int64, the global step (in the checkpoint).
      manager: the CheckpointManager to save through (every worker saves; the chief's
        goes to the run folder).
      history: a checkpointing.HistoryLog.
      on_epoch_end: f(epoch, logs) → extra logs (validation), called after each epoch; with
        ``STOP_TRAINING: True`` among them, training ends after this epoch.
      on_step_end: f(step, values), called after each step with that batch's loss terms.

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
            dataset = strategy.distribute_datasets_from_function(
                lambda context, e=epoch, p=position: epoch_dataset(e, p, context)
            )
            if config.verbose:
                print(f"Epoch {epoch + 1}/{config.epochs}")
            epoch_run = _Epoch(train_function, iter(dataset), order, step, manager, history, config)
            logs = epoch_run.train(epoch, position, sigterm, on_step_end)
            if on_epoch_end is not None:
                logs.update(on_epoch_end(epoch, logs) or {})
            stop = logs.pop(STOP_TRAINING, False)
            if config.verbose:  # the epoch's means and validation figures, one line
                print(" - ".join(f"{k}: {v:.4f}" for k, v in logs.items() if isinstance(v, float)))
            for key, value in logs.items():
                epoch_logs.setdefault(key, []).append(value)
            if stop:
                print(f"Early stopping after epoch {epoch + 1}.")
                break
    return epoch_logs


class _Epoch:
    """The steps of one epoch (from ``position``, after a resume) with their checks and saves."""

    def __init__(self, train_function, iterator, order, step, manager, history, config):
        self.train_function, self.iterator, self.order = train_function, iterator, order
        self.step, self.manager, self.history, self.config = step, manager, history, config

    def train(self, epoch, position, sigterm, on_step_end):
        """Returns the epoch's mean loss terms over the batches trained here."""
        spe = self.config.steps_per_epoch
        # Not stateful: the bar shows each term's mean over the epoch so far.
        progbar = keras.utils.Progbar(spe, verbose=self.config.verbose)
        totals = dict.fromkeys(self.order, 0.0)
        for count in range(1, spe - position + 1):
            logs, stops = self.train_function(self.iterator, tf.constant(int(sigterm.raised), tf.int32))
            values = {name: float(value) for name, value in logs.items()}
            self._check_finite(values, epoch, position + count)
            self.step.assign_add(1)
            step = int(self.step)
            totals = {name: totals[name] + values[name] for name in self.order}
            self.history.append({"step": step, "epoch": epoch + 1, **values})
            if on_step_end is not None:
                on_step_end(step, values)
            progbar.update(position + count, [(name, values[name]) for name in self.order])
            if int(stops) > 0:
                self.manager.save(checkpoint_number=step)
                raise Preempted(f"SIGTERM: saved the checkpoint of step {step}; rerun the command to resume.")
            every = self.config.checkpoint_every_steps
            if count == spe - position or (every and step % every == 0):
                self.manager.save(checkpoint_number=step)
        return {name: totals[name] / (spe - position) for name in self.order}

    def _check_finite(self, values, epoch, batch):
        bad = first_non_finite(values, self.order)
        if bad is not None:
            last = self.manager.latest_checkpoint or "none (no checkpoint was saved)"
            raise NonFiniteLoss(
                f"The loss term '{bad}' is {values[bad]} at step {int(self.step) + 1} (epoch {epoch + 1}, "
                f"batch {batch}): training stopped. The last good checkpoint is {last}."
            )
