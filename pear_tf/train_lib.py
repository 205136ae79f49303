"""Training PEAR (or a Table 1 baseline) end to end: strategy, data, the loop, evaluation, export.

``train_and_evaluate(config)`` is what ``python -m pear_tf.train`` runs; it reads no
flags, so notebooks and tests call it directly with a TrainConfig.
"""

import dataclasses
import functools
import hashlib
import json
import os
import shutil
import warnings

import keras
import numpy as np
import tensorflow as tf
from absl import logging

from pear_tf import analysis, distribution, export_lib, loop, prior_lib
from pear_tf import metrics as metrics_lib
from pear_tf import callbacks as pear_callbacks
from pear_tf.config import ModelConfig
from pear_tf.data import pipeline, sources
from pear_tf.data.images import SkipLog
from pear_tf.evaluate_lib import evaluate_model
from pear_tf.model import build_rating_model

# File data sets skip unreadable images, so their size is unknown until read and every
# epoch ends when the files do: expected, not the problem this Keras warning suspects.
warnings.filterwarnings("ignore", message="Your input ran out of data", category=UserWarning)


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """Everything a training run needs (flags map onto these fields one to one).

    ``model.bin_values`` is replaced by the data set's scale; ``model.objective``
    picks PEAR or a baseline (the ``--loss`` flag).
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
    attribute_supervision: bool = True
    strategy: str = "auto"
    checkpoint_every_steps: int = 500
    mixed_precision: bool = False
    jit_compile: bool = False
    seed: int = 0
    verbose: str | int = "auto"


def build_model(config, model_config, strategy, prior_network=None):
    """PEAR or a baseline with both optimizers, every variable created (so checkpoints restore fully)."""
    with strategy.scope():
        model = build_rating_model(
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


def weights_digest(model):
    """SHA-256 of every weight: equal on every worker of a synchronous run."""
    digest = hashlib.sha256()
    for variable in model.weights:
        digest.update(np.ascontiguousarray(keras.ops.convert_to_numpy(variable)).tobytes())
    return digest.hexdigest()


def train_and_evaluate(config):
    """Trains on the train split, evaluates on the test split, exports a SavedModel.

    Resumes from the latest checkpoint in ``config.model_dir`` when there is one. Under
    MultiWorkerMirroredStrategy every worker runs this; the chief writes the run folder
    and the export, the others write into a scratch folder that is deleted at the end.

    Returns:
      A dict: ``metrics`` (the test metrics also written to eval_metrics.json),
      ``export_path`` (the new version folder, or None), ``history`` (per-epoch logs),
      ``weights_digest``.

    Raises:
      loop.NonFiniteLoss, loop.Preempted: see pear_tf.loop.
    """
    strategy = distribution.make_strategy(config.strategy)
    chief = distribution.is_chief(strategy)
    resolver = getattr(strategy, "cluster_resolver", None)
    work_dir = config.model_dir if chief else os.path.join(config.model_dir, f".worker_{resolver.task_id}")
    os.makedirs(work_dir, exist_ok=True)
    keras.utils.set_random_seed(config.seed)
    logging.info("Strategy %s with %d replica(s).", type(strategy).__name__, strategy.num_replicas_in_sync)
    try:
        with distribution.global_policy(distribution.precision_policy(config.mixed_precision)):
            return _train_and_evaluate(config, strategy, chief, work_dir)
    finally:
        if not chief:
            shutil.rmtree(work_dir, ignore_errors=True)


def _train_and_evaluate(config, strategy, chief, work_dir):
    splits = sources.load_splits(config.data, config.model.image_size)
    skip_log = SkipLog(splits.dropped)
    skipped_file = os.path.join(work_dir, "skipped_images.txt")
    model_config = dataclasses.replace(config.model, bin_values=splits.scale.bin_values)
    with open(os.path.join(work_dir, "model_config.json"), "w") as f:
        f.write(model_config.to_json())

    if not config.attribute_supervision:
        print("Attribute supervision off: p(z|x) ignores the data set's attributes.")
        splits = dataclasses.replace(splits, train=sources.hide_attributes(splits.train))
    prior_network, splits = _attach_prior(config, splits, strategy)
    size = model_config.image_size
    make = functools.partial(pipeline.make_dataset, image_size=size, skip_log=skip_log)
    val_ds, test_ds = (
        make(splits.validation, batch_size=config.batch_size),
        make(splits.test, batch_size=config.batch_size),
    )

    def epoch_dataset(epoch, skip, context):
        part = pipeline.shard(splits.train, context.num_input_pipelines, context.input_pipeline_id)
        batch = context.get_per_replica_batch_size(config.batch_size)
        seed = pipeline.epoch_seed(config.seed, epoch, context.input_pipeline_id)
        replicas_here = strategy.num_replicas_in_sync // context.num_input_pipelines
        return make(part, batch_size=batch, training=True, seed=seed).repeat().skip(skip * replicas_here)

    model = build_model(config, model_config, strategy, prior_network)
    step = tf.Variable(0, dtype=tf.int64, trainable=False, name="step")
    checkpoint = tf.train.Checkpoint(
        model=model,
        backbone_optimizer=model.backbone_optimizer,
        head_optimizer=model.optimizer,
        step=step,
        **model.random_state(),
    )
    # Every worker restores the chief's checkpoint and saves (the save reads distributed
    # variables collectively); only the chief's lands in the run folder.
    restore = tf.train.latest_checkpoint(os.path.join(config.model_dir, "checkpoints"))
    manager = tf.train.CheckpointManager(checkpoint, os.path.join(work_dir, "checkpoints"), max_to_keep=3)
    spe = pipeline.steps_per_epoch(splits.train, config.batch_size)
    history = loop.HistoryLog(os.path.join(work_dir, "history.jsonl"))
    if restore:
        checkpoint.restore(restore).assert_existing_objects_matched()
        epoch, position = divmod(int(step), spe)
        history.truncate_after(int(step))
        logging.info("Resumed from %s (step %d).", restore, int(step))
        print(f"Resumed from step {int(step)} (epoch {epoch + 1}, batch {position} of {spe}; {restore})")
    else:
        history.truncate_after(0)

    log_dir = os.path.join(work_dir, "logs")
    if chief:  # validation, figures and TensorBoard are the chief's alone
        summaries = pear_callbacks.PearSummaries(os.path.join(log_dir, "pear"), work_dir, val_ds, splits.scale)
        summaries.set_model(model)
        writers = {name: tf.summary.create_file_writer(os.path.join(log_dir, name)) for name in ("train", "validation")}

    def on_epoch_end(epoch, logs):
        skip_log.write(skipped_file)
        if not chief:
            return {}
        extra = {}
        summaries.on_epoch_end(epoch, extra)  # validation losses and metrics, one pass
        for name, values in (("train", logs), ("validation", extra)):
            with writers[name].as_default(step=epoch + 1):
                for key, value in values.items():
                    tf.summary.scalar(f"epoch_{key.removeprefix('val_')}", value)
            writers[name].flush()
        return extra

    loop_config = loop.LoopConfig(
        epochs=config.epochs,
        steps_per_epoch=spe,
        checkpoint_every_steps=config.checkpoint_every_steps,
        jit_compile=config.jit_compile,
        verbose=1 if config.verbose == "auto" else int(config.verbose),
    )
    logs = loop.run(model, strategy, epoch_dataset, loop_config, step, manager, history, on_epoch_end)
    digest = weights_digest(model)
    print(f"Trained {int(step)} steps; weights digest {digest}")

    metrics = {}
    if chief:
        metrics, predictions = evaluate_model(model, test_ds, splits.scale, with_content=True)
        print(f"{skip_log.write(skipped_file)} image(s) could not be read and were skipped; listed in {skipped_file}")
        print("Test metrics: " + ", ".join(f"{k}={v:.4f}" for k, v in metrics.items() if k != "num_images"))
        metrics.update(_analyse(predictions, splits, work_dir, log_dir))
        with open(os.path.join(work_dir, "eval_metrics.json"), "w") as f:
            json.dump(metrics_lib.json_safe(metrics), f, indent=2, sort_keys=True)
        pear_callbacks.write_eval_summaries(
            os.path.join(log_dir, "pear"), {k: v for k, v in metrics.items() if isinstance(v, float)}, int(step)
        )

    export_path = None
    if config.export_dir:
        metadata = export_lib.export_metadata(
            model,
            config.data.dataset,
            {"metrics": metrics_lib.json_safe(metrics), "train_config": _describe(config), "steps_trained": int(step)},
        )
        export_dir = config.export_dir if chief else os.path.join(work_dir, "export")
        export_path = export_lib.export_saved_model(model, export_dir, metadata, config.mc_samples)
        if chief:
            print(f"Exported SavedModel to {export_path}")
        else:
            export_path = None
    return {"metrics": metrics, "export_path": export_path, "history": logs, "weights_digest": digest}


def _attach_prior(config, splits, strategy):
    """Loads --prior_checkpoint: inline (fine-tuned where attributes are observed) or cached.

    Returns (the prior network to build into PEAR or None, the splits, with cached
    ``prior`` outputs when the prior is frozen and the splits are arrays).
    """
    if not config.prior_checkpoint:
        return None, splits
    if config.model.objective != "pear":
        raise ValueError(f"--prior_checkpoint is for --loss=pear; the {config.model.objective} baseline has no z.")
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
    out = {}
    report = analysis.attribute_report(predictions, splits.scale, splits.attributes_known)
    if report is not None:
        analysis.plot_correlation_matrices(
            report["matrices"]["predicted"],
            report["matrices"]["true"],
            os.path.join(model_dir, "attribute_correlation.png"),
        )
        out = analysis.report_metrics(report)
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


def _describe(config):
    return json.loads(json.dumps(dataclasses.asdict(config), default=str))
