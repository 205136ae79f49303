"""Pre-training the prior network and handing it to PEAR (paper §2.3, §3.4).

``train_prior(config)`` (a PriorConfig) is what ``python -m pear_tf.train_prior`` runs. ``load_prior``
restores a prior from a run's model_dir or a checkpoint path, for ``--prior_checkpoint``.
``cache_prior_outputs`` evaluates a frozen prior once per image, so PEAR training costs
little more than the CE baseline.
"""

import dataclasses
import functools
import json
import os

import keras
import numpy as np
import tensorflow as tf
from absl import logging

from pear_tf import errors, metrics
from pear_tf.attributes import ATTRIBUTE_NAMES
from pear_tf.config import ModelConfig
from pear_tf.data import pipeline, sources
from pear_tf.data.images import SkipLog
from pear_tf.model.backbone import resolve_backbone_config
from pear_tf.model.prior import PriorTrainer, build_prior_network

CONFIG_FILE = "prior_config.json"


def _checkpoint_path(prior_checkpoint):
    """(checkpoint prefix, run folder) of a prior run's model_dir or checkpoint path."""
    if os.path.isdir(prior_checkpoint):
        latest = tf.train.latest_checkpoint(os.path.join(prior_checkpoint, "checkpoints"))
        if latest is None:
            raise errors.NotFound(f"--prior_checkpoint={prior_checkpoint!r} holds no checkpoints/ of a prior run.")
        return latest, prior_checkpoint
    if not tf.io.gfile.exists(prior_checkpoint + ".index"):
        raise errors.NotFound(
            f"--prior_checkpoint={prior_checkpoint!r} is neither a prior run's model_dir nor a checkpoint path "
            "(<model_dir>/checkpoints/ckpt-N)."
        )
    return prior_checkpoint, os.path.dirname(os.path.dirname(os.path.abspath(prior_checkpoint)))


def load_prior(prior_checkpoint, image_size=None):
    """Restores a pre-trained prior network; returns (network, its ModelConfig)."""
    path, run_dir = _checkpoint_path(prior_checkpoint)
    with open(os.path.join(run_dir, CONFIG_FILE)) as f:
        config = ModelConfig.from_json(f.read())
    if image_size is not None and config.image_size != image_size:
        raise errors.BadValue(
            f"The prior in {run_dir} takes {config.image_size} px images, PEAR {image_size} px: "
            "train both with the same --image_size."
        )
    network = build_prior_network(dataclasses.replace(config, backbone_weights=None))
    tf.train.Checkpoint(prior=network).restore(path).expect_partial().assert_existing_objects_matched()
    logging.info("Loaded the prior network from %s.", path)
    return network, config


def prior_predictor(network):
    """The prior in inference mode as one tf.function: trace it once and reuse it across splits."""
    return tf.function(lambda images: network(images, training=False))


def cache_prior_outputs(network, split, image_size, batch_size, predict=None):
    """Adds ``prior`` [N, k] to a split of arrays: the frozen prior on each image's eval view.

    Images that cannot be read get 0.5 (they are skipped in training anyway). ``predict``
    is a prior_predictor to reuse; a new one is traced if None.
    """
    indexed = {**split, "index": np.arange(pipeline.split_size(split))}
    prior = np.full((len(indexed["index"]), len(ATTRIBUTE_NAMES)), 0.5, np.float32)
    predict = predict or prior_predictor(network)
    for batch in pipeline.make_dataset(indexed, image_size, batch_size, skip_log=SkipLog()):
        prior[batch["index"].numpy()] = predict(batch["image"]).numpy()
    return {**split, "prior": prior}


def predict_attributes(network, dataset):
    """(predicted, true, mask) attribute arrays over a pipeline dataset."""
    predict = prior_predictor(network)
    batches = [(predict(b["image"]).numpy(), b["attributes"].numpy(), b["attribute_mask"].numpy()) for b in dataset]
    return tuple(np.concatenate(column) for column in zip(*batches))


def train_prior(config):
    """Pre-trains the prior on the observed attributes of ``config.data``; returns test metrics."""
    os.makedirs(config.model_dir, exist_ok=True)
    keras.utils.set_random_seed(config.seed)
    splits = sources.load_splits(config.data, config.model.image_size)
    with open(os.path.join(config.model_dir, CONFIG_FILE), "w") as f:
        f.write(resolve_backbone_config(config.model).to_json())
    skip_log = SkipLog(splits.dropped)

    def make(split, training=False):
        return pipeline.make_dataset(split, config.model.image_size, config.batch_size, training, config.seed, skip_log)

    network = build_prior_network(config.model)
    trainer = PriorTrainer(network)
    # One learning rate for the whole network: it is the step's "backbone", with no heads.
    trainer.compile(keras.optimizers.Adam(config.learning_rate), keras.optimizers.Adam(config.learning_rate),
                    jit_compile=False)  # fmt: skip
    trainer.build_optimizers()
    checkpoint = tf.train.Checkpoint(prior=network)
    manager = tf.train.CheckpointManager(checkpoint, os.path.join(config.model_dir, "checkpoints"), max_to_keep=2)
    trainer.fit(
        make(splits.train, training=True),
        validation_data=make(splits.validation),
        epochs=config.epochs,
        verbose=config.verbose,
        shuffle=False,
        callbacks=[
            keras.callbacks.TensorBoard(os.path.join(config.model_dir, "logs"), write_graph=False),
            keras.callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: manager.save(checkpoint_number=epoch + 1)),
        ],
    )
    predicted, true, mask = predict_attributes(network, make(splits.test))
    result = metrics.attribute_agreement(predicted, true, mask, ATTRIBUTE_NAMES)
    skip_log.write(os.path.join(config.model_dir, "skipped_images.txt"))
    with open(os.path.join(config.model_dir, "prior_metrics.json"), "w") as f:
        json.dump(result, f, indent=2, sort_keys=True)
    print(f"Prior on the test split: mean accuracy {result['mean_accuracy']:.4f}, mean SRCC {result['mean_srcc']:.4f}")
    for name, values in result["per_attribute"].items():
        print(f"  {name:<17} accuracy {values['accuracy']:.3f}  SRCC {values['srcc']:.3f}")
    print(f"Saved the prior to {manager.latest_checkpoint}")
    return result


def attach_prior(config, splits, strategy):
    """Loads --prior_checkpoint: inline (fine-tuned where attributes are observed) or cached.

    Returns (the prior network to build into PEAR or None, the splits, with cached
    ``prior`` outputs when the prior is frozen and the splits are arrays).
    """
    if not config.prior_checkpoint:
        return None, splits
    if config.model.objective != "pear":
        raise errors.BadValue(f"--prior_checkpoint is for --loss=pear; the {config.model.objective} baseline has no z.")
    with strategy.scope():
        network, _ = load_prior(config.prior_checkpoint, config.model.image_size)
    observed = isinstance(splits.train, dict) and bool(np.asarray(splits.train["attribute_mask"]).any())
    if config.finetune_prior and (observed or not isinstance(splits.train, dict)):
        print("Prior network: inline, fine-tuned on the observed attributes.")
        return network, splits
    if not isinstance(splits.train, dict):
        print("Prior network: inline, frozen.")
        return network, splits
    print("Prior network: frozen; its outputs are cached per image.")
    cache = functools.partial(
        cache_prior_outputs,
        network,
        image_size=config.model.image_size,
        batch_size=config.batch_size,
        predict=prior_predictor(network),
    )
    return None, dataclasses.replace(
        splits,
        train=cache(split=splits.train),
        validation=cache(split=splits.validation),
        test=cache(split=splits.test),
    )
