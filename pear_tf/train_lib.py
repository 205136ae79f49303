"""Training PEAR end to end: strategy, data, fit with checkpoints, evaluation, export.

``train_and_evaluate(config)`` is what ``python -m pear_tf.train`` runs; it reads no
flags, so notebooks and tests call it directly with a TrainConfig.
"""

import dataclasses
import json
import os

import keras
import tensorflow as tf
from absl import logging

from pear_tf import callbacks as pear_callbacks
from pear_tf import export_lib
from pear_tf.config import ModelConfig
from pear_tf.data import pipeline, sources
from pear_tf.evaluate_lib import evaluate_model
from pear_tf.model import PEAR

STRATEGIES = ("auto", "one_device", "mirrored")


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """Everything a training run needs (flags map onto these fields one to one).

    ``model.bin_values`` is replaced by the data set's scale.
    """

    model: ModelConfig = ModelConfig()
    dataset: str = "synthetic"
    synthetic_flavour: str = "aadb"
    synthetic_sizes: tuple = (4800, 300, 600)
    model_dir: str = "runs/pear"
    export_dir: str | None = "savedmodels/pear"
    batch_size: int = 128
    epochs: int = 10
    lambda_recon: float = 0.1
    beta: float = 0.1
    backbone_lr: float = 1e-4
    head_lr: float = 1e-3
    mc_samples: int = 16
    strategy: str = "auto"
    seed: int = 0
    verbose: str | int = "auto"


def make_strategy(name):
    """auto: MirroredStrategy over the GPUs when there are several, else the default strategy."""
    gpus = tf.config.list_logical_devices("GPU")
    if name == "mirrored" or (name == "auto" and len(gpus) > 1):
        return tf.distribute.MirroredStrategy()
    if name == "one_device":
        return tf.distribute.OneDeviceStrategy("/gpu:0" if gpus else "/cpu:0")
    if name == "auto":
        return tf.distribute.get_strategy()
    raise ValueError(f"--strategy={name!r} is not one of {STRATEGIES}.")


def build_model(config, model_config, strategy):
    """PEAR with both optimizers, every variable created (so checkpoints restore fully)."""
    with strategy.scope():
        model = PEAR(model_config, lambda_recon=config.lambda_recon, beta=config.beta, seed=config.seed)
        model.build_all()
        model.compile(
            keras.optimizers.Adam(config.backbone_lr), keras.optimizers.Adam(config.head_lr), jit_compile=False
        )
        model.build_optimizers()
    return model


def train_and_evaluate(config):
    """Trains on the train split, evaluates on the test split, exports a SavedModel.

    Resumes from the latest checkpoint in ``config.model_dir`` when there is one.

    Returns:
      A dict: ``metrics`` (the test metrics also written to eval_metrics.json),
      ``export_path`` (the new version folder, or None), ``history``.
    """
    os.makedirs(config.model_dir, exist_ok=True)
    keras.utils.set_random_seed(config.seed)
    strategy = make_strategy(config.strategy)
    logging.info("Strategy %s with %d replica(s).", type(strategy).__name__, strategy.num_replicas_in_sync)

    splits = sources.load_splits(
        config.dataset, config.model.image_size, config.seed, config.synthetic_flavour, config.synthetic_sizes
    )
    _write_skipped(config.model_dir, splits.skipped)
    model_config = dataclasses.replace(config.model, bin_values=splits.scale.bin_values)
    with open(os.path.join(config.model_dir, "model_config.json"), "w") as f:
        f.write(model_config.to_json())

    size = model_config.image_size
    train_ds = pipeline.dataset_from_arrays(splits.train, size, config.batch_size, training=True, seed=config.seed)
    val_ds = pipeline.dataset_from_arrays(splits.validation, size, config.batch_size)
    test_ds = pipeline.dataset_from_arrays(splits.test, size, config.batch_size)

    model = build_model(config, model_config, strategy)
    epoch = tf.Variable(0, dtype=tf.int64, trainable=False, name="epoch")
    checkpoint = tf.train.Checkpoint(
        model=model, backbone_optimizer=model.backbone_optimizer, head_optimizer=model.optimizer, epoch=epoch
    )
    manager = tf.train.CheckpointManager(checkpoint, os.path.join(config.model_dir, "checkpoints"), max_to_keep=3)
    if manager.latest_checkpoint:
        checkpoint.restore(manager.latest_checkpoint).assert_existing_objects_matched()
        logging.info("Resumed from %s (epoch %d).", manager.latest_checkpoint, int(epoch))
        print(f"Resumed from epoch {int(epoch)} ({manager.latest_checkpoint})")

    log_dir = os.path.join(config.model_dir, "logs")
    history = model.fit(
        train_ds,
        validation_data=val_ds,
        epochs=config.epochs,
        initial_epoch=int(epoch),
        verbose=config.verbose,
        shuffle=False,  # the dataset shuffles itself
        callbacks=[
            pear_callbacks.PearSummaries(os.path.join(log_dir, "pear"), config.model_dir, val_ds, splits.scale),
            keras.callbacks.TensorBoard(log_dir, write_graph=False),
            pear_callbacks.EpochCheckpoint(manager, epoch),
        ],
    )

    metrics, _ = evaluate_model(model, test_ds, splits.scale)
    with open(os.path.join(config.model_dir, "eval_metrics.json"), "w") as f:
        json.dump(metrics, f, indent=2, sort_keys=True)
    pear_callbacks.write_eval_summaries(os.path.join(log_dir, "pear"), metrics, int(epoch))
    print("Test metrics: " + ", ".join(f"{k}={v:.4f}" for k, v in metrics.items() if k != "num_images"))

    export_path = None
    if config.export_dir:
        metadata = export_lib.export_metadata(
            model, config.dataset, {"metrics": metrics, "train_config": _describe(config), "epochs_trained": int(epoch)}
        )
        export_path = export_lib.export_saved_model(model, config.export_dir, metadata, config.mc_samples)
        print(f"Exported SavedModel to {export_path}")
    return {"metrics": metrics, "export_path": export_path, "history": history.history}


def _describe(config):
    return json.loads(json.dumps(dataclasses.asdict(config), default=str))


def _write_skipped(model_dir, skipped):
    with open(os.path.join(model_dir, "skipped_images.txt"), "w") as f:
        f.writelines(f"{path}\n" for path in skipped)
    logging.info("%d image(s) could not be read and were skipped.", len(skipped))
