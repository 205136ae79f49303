"""A training run end to end: data, model, the loop, evaluation on the test split, export.

``train_and_evaluate(config)`` is what ``python -m pear_tf.train`` runs; it reads no
flags, so notebooks and tests call it directly with a TrainConfig.
"""

import dataclasses
import functools
import json
import os

import keras
from absl import logging

from pear_tf import metrics as metrics_lib
from pear_tf.data import pipeline, sources
from pear_tf.data.images import SkipLog
from pear_tf.data.splits import hide_attributes
from pear_tf.evaluation import analysis
from pear_tf.evaluation.scoring import evaluate_model
from pear_tf.exporting import saved_model
from pear_tf.model import build_rating_model
from pear_tf.model.backbone import resolve_backbone_config
from pear_tf.training import distribution, feature_cache, loop, prior, warm_start
from pear_tf.training.checkpointing import BestCheckpoint, RunCheckpoint
from pear_tf.training.summaries import RunSummaries
from pear_tf.training.validation import Validator


def train_and_evaluate(config):
    """Trains on the train split, evaluates on the test split, exports a SavedModel.

    Resumes from the latest checkpoint in ``config.model_dir`` when there is one. Under
    MultiWorkerMirroredStrategy every worker runs this; the chief writes the run folder
    and the export (see distribution.Worker).

    Returns:
      A dict: ``metrics`` (the test metrics also written to eval_metrics.json),
      ``export_path`` (the new version folder, or None), ``history`` (per-epoch logs),
      ``weights_digest``.

    Raises:
      loop.NonFiniteLoss, loop.Preempted: see pear_tf.training.loop.
    """
    strategy = distribution.make_strategy(config.strategy)
    keras.utils.set_random_seed(config.seed)
    logging.info("Strategy %s with %d replica(s).", type(strategy).__name__, strategy.num_replicas_in_sync)
    policy = distribution.precision_policy(config.mixed_precision)
    with distribution.Worker(strategy, config.model_dir) as worker, distribution.global_policy(policy):
        data = RunData(config, strategy, worker.work_dir)
        model = build_model(config, data.model_config, strategy, data.prior_network)
        checkpoint = RunCheckpoint(model, config.model_dir, worker.work_dir)
        resumed = checkpoint.restore_latest(data.steps_per_epoch)
        if resumed:
            print(resumed)
        elif config.init_from:
            report_warm_start(warm_start.warm_start(model, config.init_from), config.init_from)
        best = BestCheckpoint(model, config.model_dir, worker.work_dir, config.early_stopping_patience)
        summaries = RunSummaries(data.log_dir, worker.work_dir, data.sample_images()) if worker.chief else None
        history = train(config, model, strategy, data, checkpoint, best, summaries)
        if config.export_checkpoint == "best":
            restore_best(best)
        digest = weights_digest(model)
        print(f"Trained {int(checkpoint.step)} steps; weights digest {digest}")
        metrics = test(config, model, data, summaries, int(checkpoint.step)) if worker.chief else {}
        export_path = export(config, model, metrics, worker, int(checkpoint.step), data)
    return {"metrics": metrics, "export_path": export_path, "history": history, "weights_digest": digest}


class RunData:
    """The splits of a run, its pipelines, the prior attached to it and the skipped-image log."""

    def __init__(self, config, strategy, work_dir):
        self.config = config
        self.work_dir = work_dir
        splits = sources.load_splits(config.data, config.model.image_size)
        self.skip_log = SkipLog(splits.dropped)
        self.skipped_file = os.path.join(work_dir, "skipped_images.txt")
        self.log_dir = os.path.join(work_dir, "logs")
        model_config = dataclasses.replace(config.model, bin_values=splits.scale.bin_values)
        self.model_config = resolve_backbone_config(model_config)  # a preset's architecture, recorded
        with open(os.path.join(work_dir, "model_config.json"), "w") as f:
            f.write(self.model_config.to_json())
        if not config.attribute_supervision:
            print("Attribute supervision off: p(z|x) ignores the data set's attributes (training and validation).")
            splits = dataclasses.replace(
                splits, train=hide_attributes(splits.train), validation=hide_attributes(splits.validation)
            )
        self.prior_network, self.splits = prior.attach_prior(config, splits, strategy)
        self.steps_per_epoch = pipeline.steps_per_epoch(self.splits.train, config.batch_size)
        self.make = functools.partial(pipeline.make_dataset, image_size=self.model_config.image_size,
                                      skip_log=self.skip_log)  # fmt: skip
        self.validation = self.make(self.splits.validation, batch_size=config.batch_size)

    def epoch_dataset(self, epoch, skip, context):
        """This worker's part of one epoch, ``skip`` batches in, repeated (see loop.run)."""
        part = pipeline.shard(self.splits.train, context.num_input_pipelines, context.input_pipeline_id)
        batch = context.get_per_replica_batch_size(self.config.batch_size)
        seed = pipeline.epoch_seed(self.config.seed, epoch, context.input_pipeline_id)
        replicas_here = context.num_replicas_in_sync // context.num_input_pipelines
        dataset = self.make(part, batch_size=batch, training=True, seed=seed,
                            data_service_address=self.config.data.data_service_address)  # fmt: skip
        return dataset.repeat().skip(skip * replicas_here)

    def sample_images(self, count=8):
        return next(iter(self.validation.unbatch().batch(count)))["image"]

    def feature_caches(self, model):
        """The frozen encoder's (train, validation) feature caches, encoded on first use."""
        folder = self.config.feature_cache_dir or os.path.join(self.work_dir, "feature_cache")
        batch, seed = self.config.batch_size, self.config.seed
        train = feature_cache.open_or_encode(model, self.splits.train, os.path.join(folder, "train"),
                                             self.config.feature_views, batch, seed, self.skip_log)  # fmt: skip
        validation = feature_cache.open_or_encode(model, self.splits.validation, os.path.join(folder, "validation"),
                                                  1, batch, seed, self.skip_log)  # fmt: skip
        return train, validation.eval_dataset(batch)

    def cached_epoch_dataset(self, cache):
        """epoch_dataset's counterpart on the feature cache: f(epoch, skip, context)."""

        def epoch_dataset(epoch, skip, context):
            batch = context.get_per_replica_batch_size(self.config.batch_size)
            seed = pipeline.epoch_seed(self.config.seed, epoch, context.input_pipeline_id)
            dataset = cache.epoch_dataset(batch, seed, (context.num_input_pipelines, context.input_pipeline_id))
            return dataset.skip(skip * (context.num_replicas_in_sync // context.num_input_pipelines))

        return epoch_dataset


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
        # The image epochs' setting: the optimizers are built for it, also when a feature
        # cache's frozen epochs come first (train() freezes the encoder for those).
        model.set_trainable(config.trainable, config.unfreeze_blocks)
        model.compile(
            keras.optimizers.Adam(config.backbone_lr), keras.optimizers.Adam(config.head_lr), jit_compile=False
        )
        model.build_optimizers()
    return model


def train(config, model, strategy, data, checkpoint, best, summaries):
    """The frozen epochs on the feature cache (if any), then the image epochs; returns the per-epoch logs.

    Every worker validates (the whole split), so all of them take the same early-stopping
    decision and save the best epoch together; summaries are the chief's alone.
    """
    if best.exhausted:
        print(f"Early stopping was reached before (best epoch {best.record['epoch']}): no further training.")
        return {}
    history, frozen = {}, config.frozen_epochs
    if frozen and int(checkpoint.step) < frozen * data.steps_per_epoch:
        feature_cache.check_trainable_on_cache(model)
        cache, validation = data.feature_caches(model)
        model.set_trainable("heads" if config.trainable == "heads" else "latents_and_heads")
        print(f"Frozen encoder: epochs 1-{frozen} train on the feature cache ({cache.views} view(s) an image).")
        history = train_epochs(config, model, strategy, data.cached_epoch_dataset(cache), validation, frozen,
                               (checkpoint, best, summaries, data))  # fmt: skip
        model.set_trainable(config.trainable, config.unfreeze_blocks)
        if best.exhausted:
            return history
    if config.epochs:
        logs = train_epochs(config, model, strategy, data.epoch_dataset, data.validation, frozen + config.epochs,
                            (checkpoint, best, summaries, data))  # fmt: skip
        history = {key: history.get(key, []) + logs.get(key, []) for key in {*history, *logs}}
    return history


def train_epochs(config, model, strategy, epoch_dataset, validation, epochs, run):
    """loop.run up to epoch ``epochs`` with validation on ``validation`` after every epoch."""
    checkpoint, best, summaries, data = run
    validator = Validator(model, validation, data.splits.scale)

    def on_epoch_end(epoch, logs):
        data.skip_log.write(data.skipped_file)
        figures = validator.run()
        if summaries is not None:
            summaries.epoch(int(checkpoint.step), model, logs, figures, validator.predictions)
        return {**figures, loop.STOP_TRAINING: best.update(epoch, int(checkpoint.step), figures["val_srcc"])}

    loop_config = loop.LoopConfig(
        epochs=epochs,
        steps_per_epoch=data.steps_per_epoch,
        checkpoint_every_steps=config.checkpoint_every_steps,
        jit_compile=config.jit_compile,
        verbose=1 if config.verbose == "auto" else int(config.verbose),
    )
    return loop.run(model, strategy, epoch_dataset, loop_config, checkpoint.step, checkpoint.manager,
                    checkpoint.history, on_epoch_end, summaries.step if summaries else None)  # fmt: skip


def test(config, model, data, summaries, step):
    """The test split's metrics and attribute analysis, written to eval_metrics.json and TensorBoard."""
    test_ds = data.make(data.splits.test, batch_size=config.batch_size)
    metrics, predictions = evaluate_model(model, test_ds, data.splits.scale, with_content=True)
    count = data.skip_log.write(data.skipped_file)
    print(f"{count} image(s) could not be read and were skipped; listed in {data.skipped_file}")
    print("Test metrics: " + ", ".join(f"{k}={v:.4f}" for k, v in metrics.items() if k != "num_images"))
    metrics.update(analyse(predictions, data.splits, config.model_dir, data.log_dir))
    with open(os.path.join(config.model_dir, "eval_metrics.json"), "w") as f:
        json.dump(metrics_lib.json_safe(metrics), f, indent=2, sort_keys=True)
    scalars = {k: v for k, v in metrics.items() if isinstance(v, float)}
    summaries.evaluation(step, scalars)
    summaries.hparams(os.path.basename(os.path.normpath(config.model_dir)), hparams(config), scalars)
    return metrics


def export(config, model, metrics, worker, step, data=None):
    """The next SavedModel version in ``config.export_dir`` (the chief's; None elsewhere or without one).

    In ``config.export_precision``; a bfloat16 export is checked on ``data``'s validation images too.
    """
    if not config.export_dir:
        return None
    extra = {"metrics": metrics_lib.json_safe(metrics), "train_config": describe(config), "steps_trained": step,
             "exported_checkpoint": config.export_checkpoint}  # fmt: skip
    metadata = saved_model.export_metadata(model, config.data.dataset, extra)
    # Every worker exports (saving reads distributed variables collectively); the chief's is kept.
    export_dir = config.export_dir if worker.chief else os.path.join(worker.work_dir, "export")
    check = validation_images(data) if data is not None and config.export_precision != "float32" else None
    path = saved_model.export_saved_model(model, export_dir, metadata, config.mc_samples, config.export_precision,
                                          check)  # fmt: skip
    if not worker.chief:
        return None
    print(f"Exported SavedModel to {path}")
    return path


def validation_images(data, count=100):
    """(up to ``count`` preprocessed validation images, what they are): the bfloat16 export check's own."""
    images = [example["image"].numpy() for example in data.validation.unbatch().take(count)]
    return (np.stack(images), "validation images of the run") if images else None


def analyse(predictions, splits, model_dir, log_dir):
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
            f"correlation difference {out['attribute_corr_diff']:.4f} "
            f"(off-diagonal {out['attribute_corr_diff_offdiag']:.4f})"
        )
    labels = metrics_lib.mean_scores(predictions["true_distribution"], splits.scale.bin_values) > splits.scale.threshold
    analysis.write_projector(log_dir, predictions["content"], labels)
    if len(labels) >= 10:
        try:
            analysis.plot_tsne(predictions["content"], labels, os.path.join(model_dir, "content_tsne.png"))
        except ImportError:
            print("content_tsne.png skipped: t-SNE needs scikit-learn (pip install 'pear_tf[analysis]').")
    return out


def report_warm_start(report, init_from):
    """Says what --init_from loaded and what starts fresh (a data set with other bins: the head)."""
    print(f"Warm start from {init_from}: loaded {', '.join(report['copied']) or 'nothing'}.")
    for part, reason in report["fresh"]:
        print(f"  {part} starts fresh: {reason}.")


def restore_best(best):
    """Loads the best validation epoch's weights for the test split and the export."""
    record = best.restore()
    if record is not None:
        print(f"Best epoch {record['epoch']} (step {record['step']}, validation SRCC {record['val_srcc']:.4f}): "
              "tested and exported.")  # fmt: skip


def weights_digest(model):
    """SHA-256 of every weight: equal on every worker of a synchronous run."""
    return feature_cache.weights_digest(model)


def hparams(config):
    """The settings that tell Table 1's rows apart, for the HParams tab."""
    return {
        "dataset": config.data.dataset,
        "loss": config.model.objective,
        "backbone": config.model.backbone,
        "image_size": config.model.image_size,
        "batch_size": config.batch_size,
        "epochs": config.epochs,
        "lambda_recon": config.lambda_recon,
        "beta": config.beta,
        "backbone_lr": config.backbone_lr,
        "head_lr": config.head_lr,
        "prior": bool(config.prior_checkpoint),
        "attribute_supervision": config.attribute_supervision,
        "init_from": config.init_from or "",
        "trainable": config.trainable,
        "frozen_epochs": config.frozen_epochs,
        "unfreeze_blocks": config.unfreeze_blocks,
    }


def describe(config):
    return json.loads(json.dumps(dataclasses.asdict(config), default=str))
