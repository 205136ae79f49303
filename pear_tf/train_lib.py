"""Training PEAR end to end: strategy, data, fit with checkpoints, evaluation, export.

``train_and_evaluate(config)`` is what ``python -m pear_tf.train`` runs; it reads no
flags, so notebooks and tests call it directly with a TrainConfig.
"""

import dataclasses
import functools
import json
import os
import warnings

import keras
import tensorflow as tf
import numpy as np
from absl import logging

from pear_tf import analysis, export_lib, prior_lib
from pear_tf import callbacks as pear_callbacks
from pear_tf.config import ModelConfig
from pear_tf.data import pipeline, sources
from pear_tf.data.images import SkipLog
from pear_tf.evaluate_lib import evaluate_model
from pear_tf.model import PEAR

STRATEGIES = ("auto", "one_device", "mirrored")

# File data sets skip unreadable images, so their size is unknown until read and every
# epoch ends when the files do: expected, not the problem this Keras warning suspects.
warnings.filterwarnings("ignore", message="Your input ran out of data", category=UserWarning)


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """Everything a training run needs (flags map onto these fields one to one).

    ``model.bin_values`` is replaced by the data set's scale.
    """

    model: ModelConfig = ModelConfig()
    data: sources.DataConfig = sources.DataConfig()
    model_dir: str = "runs/pear"
    export_dir: str | None = "savedmodels/pear"
    batch_size: int = 128
    epochs: int = 10
    lambda_recon: float = 0.1
    beta: float = 0.1
    backbone_lr: float = 1e-4
    head_lr: float = 1e-3
    mc_samples: int = 16
    prior_checkpoint: str | None = None
    finetune_prior: bool = True
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


def build_model(config, model_config, strategy, prior_network=None):
    """PEAR with both optimizers, every variable created (so checkpoints restore fully)."""
    with strategy.scope():
        model = PEAR(
            model_config,
            lambda_recon=config.lambda_recon,
            beta=config.beta,
            prior_network=prior_network,
            finetune_prior=config.finetune_prior,
            seed=config.seed,
        )
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

    splits = sources.load_splits(config.data, config.model.image_size)
    skip_log = SkipLog()
    for path, reason in splits.dropped:
        skip_log.add(path, reason)
    skipped_file = os.path.join(config.model_dir, "skipped_images.txt")
    model_config = dataclasses.replace(config.model, bin_values=splits.scale.bin_values)
    with open(os.path.join(config.model_dir, "model_config.json"), "w") as f:
        f.write(model_config.to_json())

    prior_network, splits = _attach_prior(config, splits, strategy)
    size = model_config.image_size
    make = functools.partial(pipeline.make_dataset, image_size=size, batch_size=config.batch_size, skip_log=skip_log)
    train_ds = make(splits.train, training=True, seed=config.seed)
    val_ds, test_ds = make(splits.validation), make(splits.test)
    model = build_model(config, model_config, strategy, prior_network)
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
            pear_callbacks.SkippedImagesWriter(skip_log, skipped_file),
        ],
    )

    metrics, predictions = evaluate_model(model, test_ds, splits.scale, with_content=True)
    print(f"{skip_log.write(skipped_file)} image(s) could not be read and were skipped; listed in {skipped_file}")
    print("Test metrics: " + ", ".join(f"{k}={v:.4f}" for k, v in metrics.items() if k != "num_images"))
    metrics.update(_analyse(predictions, splits, config.model_dir, log_dir))
    with open(os.path.join(config.model_dir, "eval_metrics.json"), "w") as f:
        json.dump(_finite(metrics), f, indent=2, sort_keys=True)
    pear_callbacks.write_eval_summaries(
        os.path.join(log_dir, "pear"), {k: v for k, v in metrics.items() if isinstance(v, float)}, int(epoch)
    )

    export_path = None
    if config.export_dir:
        metadata = export_lib.export_metadata(
            model,
            config.data.dataset,
            {"metrics": _finite(metrics), "train_config": _describe(config), "epochs_trained": int(epoch)},
        )
        export_path = export_lib.export_saved_model(model, config.export_dir, metadata, config.mc_samples)
        print(f"Exported SavedModel to {export_path}")
    return {"metrics": metrics, "export_path": export_path, "history": history.history}


def _attach_prior(config, splits, strategy):
    """Loads --prior_checkpoint: inline (fine-tuned where attributes are observed) or cached.

    Returns (the prior network to build into PEAR or None, the splits, with cached
    ``prior`` outputs when the prior is frozen and the splits are arrays).
    """
    if not config.prior_checkpoint:
        return None, splits
    with strategy.scope():
        network, _ = prior_lib.load_prior(config.prior_checkpoint, config.model.image_size)
    observed = isinstance(splits.train, dict) and bool(np.asarray(splits.train["attribute_mask"]).any())
    if config.finetune_prior and (observed or not isinstance(splits.train, dict)):
        print("Prior network: inline, fine-tuned on the observed attributes.")
        return network, splits
    if not isinstance(splits.train, dict):
        print("Prior network: inline, frozen.")
        return network, splits
    print("Prior network: frozen; its outputs are cached per image.")
    cache = functools.partial(
        prior_lib.cache_prior_outputs,
        network,
        image_size=config.model.image_size,
        batch_size=config.batch_size,
        predict=prior_lib.prior_predictor(network),
    )
    return None, dataclasses.replace(
        splits,
        train=cache(split=splits.train),
        validation=cache(split=splits.validation),
        test=cache(split=splits.test),
    )


def _analyse(predictions, splits, model_dir, log_dir):
    """Attribute analysis (Fig. 3) and the content-latent views; returns metrics to record."""
    truth_mask = (
        np.ones_like(predictions["attribute_mask"]) if splits.attributes_known else predictions["attribute_mask"]
    )
    out = {}
    report = analysis.attribute_report(predictions, splits.scale, truth_mask)
    if report is not None:
        analysis.plot_correlation_matrices(
            report["matrices"]["predicted"],
            report["matrices"]["true"],
            os.path.join(model_dir, "attribute_correlation.png"),
        )
        out = {key: report[key] for key in ("attribute_srcc_mean", "attribute_accuracy_mean", "attribute_corr_diff")}
        out["attributes"] = report["per_attribute"]
        print(
            f"Attributes on the test split: mean SRCC {out['attribute_srcc_mean']:.4f}, "
            f"correlation difference {out['attribute_corr_diff']:.4f}"
        )
    true_means = predictions["true_distribution"] @ np.asarray(splits.scale.bin_values)
    labels = true_means > splits.scale.threshold
    analysis.write_projector(os.path.join(log_dir, "projector"), predictions["content"], labels)
    if len(labels) >= 10:
        analysis.plot_tsne(predictions["content"], labels, os.path.join(model_dir, "content_tsne.png"))
    return out


def _finite(value):
    """NaN (an undefined correlation) → None, so the JSON stays standard."""
    if isinstance(value, dict):
        return {key: _finite(v) for key, v in value.items()}
    return None if isinstance(value, float) and np.isnan(value) else value


def _describe(config):
    return json.loads(json.dumps(dataclasses.asdict(config), default=str))
