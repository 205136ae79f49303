"""The configs of a training run and of a prior pre-training run (flags map onto their fields)."""

import dataclasses

from pear_tf.config import ModelConfig
from pear_tf.data.splits import DataConfig


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """Everything a training run needs. Defaults are the paper's (DESIGN.md §2).

    ``model.bin_values`` is replaced by the data set's scale; ``model.objective``
    picks PEAR or a baseline (the ``--loss`` flag). ``init_from`` warm-starts from a
    run folder or a SavedModel (training.warm_start); ``trainable`` is one of
    model.rating_model.TRAINABLE; ``early_stopping_patience`` epochs without a better
    validation SRCC end the run (0: never); ``export_checkpoint`` is "best" (the epoch
    with the best validation SRCC is tested and exported) or "last".

    Frozen-encoder training (docs/encoders.md): ``frozen_epochs`` epochs on a feature cache
    (``feature_views`` stored views an image, in ``feature_cache_dir``, default
    ``<model_dir>/feature_cache``) train the latents and heads with the encoder frozen;
    then ``epochs`` epochs on images train what ``trainable`` says, with
    ``unfreeze_blocks`` N > 0 only the encoder's last N blocks (at ``backbone_lr``).
    """

    model: ModelConfig = ModelConfig()
    data: DataConfig = DataConfig()
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
    # Fine-tuning: start from a trained model, train part of it, keep the best epoch.
    init_from: str | None = None
    trainable: str = "all"
    early_stopping_patience: int = 0
    export_checkpoint: str = "best"
    # What the export computes in: float32, bfloat16 or auto (pear_tf/exporting/bfloat16.py).
    export_precision: str = "float32"
    # Frozen-encoder training on a feature cache, then an optional partial unfreeze.
    frozen_epochs: int = 0
    feature_views: int = 4
    feature_cache_dir: str | None = None
    unfreeze_blocks: int = 0


@dataclasses.dataclass(frozen=True)
class PriorConfig:
    """A prior pre-training run: the backbone architecture + Dense → 11 attributes, on AADB."""

    model: ModelConfig = ModelConfig()
    data: DataConfig = DataConfig(dataset="aadb")
    model_dir: str = "runs/prior_aadb"
    batch_size: int = 128
    epochs: int = 20
    learning_rate: float = 1e-4
    seed: int = 0
    verbose: str | int = "auto"
