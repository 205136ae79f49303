"""What the commands share: start-up, absl flags and their mapping onto configs, and how errors end.

Only commands (``python -m pear_tf.<command>``) import this module, first among pear_tf's
modules: importing it loads TensorFlow with its native start-up noise filtered out (see
pear_tf/startup.py). Commands call ``define_*``, then ``key_flags_to_command()``, then
absl's app runner on ``guard(main)`` with ``parse_flags``; libraries take the configs
built here and never read FLAGS. A user's mistake (a bad flag, a pear_tf.errors.UserError
such as a data layout, model folder or ratings file that cannot be used) ends the command
with its message and exit status 2; any other exception is a bug and keeps its traceback.
"""

import os
import sys

from absl import flags

from pear_tf import startup
# Re-exported: the commands call cli.guard and cli.parse_flags; the console scripts live in command_line.
from pear_tf.command_line import (  # noqa: F401
    COMMANDS, HELP_HINT, USER_ERROR_STATUS, beam_score, evaluate, evaluate_personal, exit_with_message, explain,
    export, guard, parse_flags, personalize, predict, serve, table1, tflite_score, train, train_prior,
)

startup.import_tensorflow_quietly()

from pear_tf.config import ModelConfig  # noqa: E402
from pear_tf.data.splits import DATASETS, DataConfig  # noqa: E402
from pear_tf.data.synthetic import FLAVOURS  # noqa: E402
from pear_tf.losses import BASELINE_LOSSES  # noqa: E402
from pear_tf.model.backbone import BACKBONES, native_image_size  # noqa: E402
from pear_tf.model.rating_model import TRAINABLE  # noqa: E402
from pear_tf.training.config import PriorConfig, TrainConfig  # noqa: E402
from pear_tf.training.distribution import STRATEGIES  # noqa: E402

FLAGS = flags.FLAGS


def key_flags_to_command():
    """Makes the command's ``--help`` list the flags defined here and --flagfile (call before app.run)."""
    flags.disclaim_key_flags()  # the key flags declared below belong to the calling command
    flags.adopt_module_key_flags(sys.modules[__name__])
    flags.declare_key_flag("flagfile")


def define_model_flags():
    flags.DEFINE_enum(
        "backbone",
        "resnet50",
        BACKBONES,
        "Image encoder: resnet50 (the paper's), mobilenet_v3_large, mobilenet_v3_small, efficientnet_b0 (phones), "
        "convnext_tiny|small|base, efficientnetv2_s|m, dinov2_small|base, siglip_base, clip_vit_b16 (modern "
        "encoders; the last four need pip install 'pear_tf[encoders]'), or tiny (tests, demo).",
    )
    flags.DEFINE_string(
        "backbone_weights",
        None,
        "Backbone weights: unset (random), 'imagenet' (keras.applications networks), a local weights file of it, "
        "or (DINOv2, SigLIP, CLIP) a local keras-hub preset directory.",
    )
    flags.DEFINE_integer(
        "image_size",
        None,
        "Side of the encoder input (default: the size the backbone's weights were trained at, 224 but "
        "EfficientNetV2-S 384, -M 480); images are resized to size·256/224 first.",
    )
    flags.DEFINE_integer("recon_size", 256, "Side of the reconstructed image: 8·2^n, 16..256.")


def define_data_flags():
    flags.DEFINE_enum("dataset", "synthetic", DATASETS, "Data set to train and evaluate on.")
    flags.DEFINE_string(
        "data_dir", None, "The unpacked original data set (ava, aadb), a ratings CSV (custom), or a TFDS data_dir."
    )
    flags.DEFINE_boolean("tfds", False, "Read the TFDS build of --dataset from --data_dir (pear_tf.data.build).")
    flags.DEFINE_float("validation_fraction", 0.05, "Share of AVA's train list held out for validation.")
    flags.DEFINE_list("custom_bins", [str(v) for v in range(1, 11)], "Bins of a custom CSV's score column.")
    flags.DEFINE_enum("synthetic_flavour", "aadb", sorted(FLAVOURS), "Synthetic set: AADB-like or AVA-like.")
    flags.DEFINE_list("synthetic_sizes", ["4800", "300", "600"], "Synthetic train,validation,test sizes.")
    flags.DEFINE_integer("seed", 0, "Seed of data generation, shuffling, augmentation and initialisation.")
    flags.DEFINE_enum(
        "data_format",
        "files",
        ["files", "resized"],
        "files: decode the original images every epoch; resized: read the decoded-image cache that "
        "python -m pear_tf.data.build --format=resized wrote into --cache_dir (fast enough for a GPU).",
    )
    flags.DEFINE_string("cache_dir", None, "The resized cache's folder (--data_format=resized).")
    flags.DEFINE_string(
        "test_workers", None, "FLICKR-AES: a CSV (header ID) of test workers kept out of training (default: the 37)."
    )
    flags.DEFINE_string(
        "data_service_address",
        None,
        "grpc://host:port of a tf.data service dispatcher (python -m pear_tf.data.service) that runs the "
        "training pipeline's preprocessing on its workers.",
    )


def define_train_flags():
    define_model_flags()
    define_data_flags()
    flags.DEFINE_string("model_dir", None, "Run folder: checkpoints, logs, eval_metrics.json. Default runs/<dataset>.")
    flags.DEFINE_string("export_dir", None, "Model base folder for SavedModel versions. Default savedmodels/<dataset>.")
    flags.DEFINE_enum(
        "export",
        "best",
        ["best", "last", "none"],
        "After training, export (and test) the epoch with the best validation SRCC, the last one, or nothing.",
    )
    flags.DEFINE_integer("batch_size", 128, "Global batch size (split across replicas).")
    flags.DEFINE_integer("epochs", 10, "Epochs to train (a resumed run continues to this count).")
    flags.DEFINE_enum(
        "loss",
        "pear",
        ["pear", *BASELINE_LOSSES],
        "Objective: pear (Eq. 2), or a Table 1 baseline on the same backbone: ce (cross-entropy), "
        "nima (EMD r=2), uiaa (cross-entropy against a Gaussian-reshaped target).",
    )
    flags.DEFINE_float("lambda_recon", 0.1, "λ: weight of the reconstruction MSE; KL_z is weighted 1+λ.")
    flags.DEFINE_float("beta", 0.1, "β: weight of KL_s.")
    flags.DEFINE_float("backbone_lr", 1e-4, "Adam learning rate of the backbone.")
    flags.DEFINE_float("head_lr", 1e-3, "Adam learning rate of everything but the backbone.")
    flags.DEFINE_integer("mc_samples", 16, "Latent samples behind the exported score_std (0: none).")
    flags.DEFINE_enum(
        "export_precision", "float32", ["float32", "bfloat16", "auto"],
        "What the exported SavedModel computes in: float32, bfloat16 (checked against float32 on real images "
        "first), or auto (bfloat16 when this machine's CPU has it natively). See pear_tf.export --precision.",
    )  # fmt: skip
    flags.DEFINE_string(
        "prior_checkpoint", None, "A pre-trained prior (pear_tf.train_prior): its model_dir or a checkpoint path."
    )
    flags.DEFINE_boolean(
        "finetune_prior", True, "Fine-tune the prior on observed attributes (else frozen, outputs cached per image)."
    )
    flags.DEFINE_boolean(
        "attribute_supervision",
        True,
        "Use the data set's observed attributes as p(z|x); --noattribute_supervision is the no-prior "
        "ablation on AADB (p = 0.5 unless --prior_checkpoint gives a prior).",
    )
    flags.DEFINE_enum(
        "strategy",
        "auto",
        STRATEGIES,
        "auto: MirroredStrategy when several GPUs are visible; multi_worker: MultiWorkerMirroredStrategy "
        "from TF_CONFIG (every worker runs the same command); tpu: a TPU found by TPUClusterResolver.",
    )
    flags.DEFINE_integer(
        "checkpoint_every_steps",
        500,
        "Save a checkpoint every this many steps (and at every epoch end); 0: epochs only.",
    )
    flags.DEFINE_boolean(
        "mixed_precision", False, "bfloat16 compute in the backbone; the latents and heads stay float32."
    )
    flags.DEFINE_boolean("jit_compile", False, "Compile the train step with XLA.")
    flags.DEFINE_enum("verbose", "auto", ["auto", "0", "1", "2"], "Output: 1 progress bar, 2 a line per epoch.")
    define_fine_tuning_flags()


def define_fine_tuning_flags():
    flags.DEFINE_string(
        "init_from",
        None,
        "Warm start: a trained run's model_dir or a SavedModel (base or version folder); every matching part "
        "is loaded, heads whose bins differ start fresh.",
    )
    flags.DEFINE_enum("trainable", "all", TRAINABLE, "What trains: all, latents_and_heads (backbone frozen), heads.")
    flags.DEFINE_integer(
        "early_stopping_patience", 0, "Stop after this many epochs without a better validation SRCC (0: never)."
    )
    define_frozen_encoder_flags()


def define_frozen_encoder_flags():
    flags.DEFINE_integer(
        "frozen_epochs",
        0,
        "Epochs on a feature cache first: the encoder, frozen, encodes the training set once (--feature_views "
        "views an image); the latents and heads train on the cache. --epochs image epochs follow.",
    )
    flags.DEFINE_integer("feature_views", 4, "Stored views an image in the feature cache: centre, mirror, random crops.")
    flags.DEFINE_string("feature_cache_dir", None, "The feature cache's folder. Default <model_dir>/feature_cache.")
    flags.DEFINE_integer(
        "unfreeze_blocks",
        0,
        "Image epochs with --trainable=all train only the encoder's last N blocks (and what follows them), at "
        "--backbone_lr; 0: the whole encoder.",
    )


def model_config_from_flags():
    return ModelConfig(
        backbone=FLAGS.backbone,
        backbone_weights=FLAGS.backbone_weights,
        image_size=FLAGS.image_size or native_image_size(FLAGS.backbone),
        recon_size=FLAGS.recon_size,
        objective=getattr(FLAGS, "loss", "pear"),
    )


def data_config_from_flags():
    return DataConfig(
        dataset=FLAGS.dataset,
        data_dir=FLAGS.data_dir,
        tfds=FLAGS.tfds,
        synthetic_flavour=FLAGS.synthetic_flavour,
        synthetic_sizes=tuple(int(n) for n in FLAGS.synthetic_sizes),
        validation_fraction=FLAGS.validation_fraction,
        custom_bins=tuple(float(b) for b in FLAGS.custom_bins),
        seed=FLAGS.seed,
        data_format=FLAGS.data_format,
        cache_dir=FLAGS.cache_dir,
        data_service_address=FLAGS.data_service_address,
        test_workers=FLAGS.test_workers,
    )


def train_config_from_flags():
    return TrainConfig(
        model=model_config_from_flags(),
        data=data_config_from_flags(),
        model_dir=FLAGS.model_dir or os.path.join("runs", FLAGS.dataset),
        export_dir=(FLAGS.export_dir or os.path.join("savedmodels", FLAGS.dataset)) if FLAGS.export != "none" else None,
        batch_size=FLAGS.batch_size,
        epochs=FLAGS.epochs,
        lambda_recon=FLAGS.lambda_recon,
        beta=FLAGS.beta,
        backbone_lr=FLAGS.backbone_lr,
        head_lr=FLAGS.head_lr,
        mc_samples=FLAGS.mc_samples,
        prior_checkpoint=FLAGS.prior_checkpoint,
        finetune_prior=FLAGS.finetune_prior,
        attribute_supervision=FLAGS.attribute_supervision,
        strategy=FLAGS.strategy,
        checkpoint_every_steps=FLAGS.checkpoint_every_steps,
        mixed_precision=FLAGS.mixed_precision,
        jit_compile=FLAGS.jit_compile,
        seed=FLAGS.seed,
        verbose=FLAGS.verbose if FLAGS.verbose == "auto" else int(FLAGS.verbose),
        init_from=FLAGS.init_from,
        trainable=FLAGS.trainable,
        early_stopping_patience=FLAGS.early_stopping_patience,
        export_checkpoint="last" if FLAGS.export == "none" else FLAGS.export,
        export_precision=FLAGS.export_precision,
        frozen_epochs=FLAGS.frozen_epochs,
        feature_views=FLAGS.feature_views,
        feature_cache_dir=FLAGS.feature_cache_dir,
        unfreeze_blocks=FLAGS.unfreeze_blocks,
    )


def define_prior_flags():
    define_model_flags()
    define_data_flags()
    flags.DEFINE_string(
        "model_dir", None, "Run folder: checkpoints, logs, prior_metrics.json. Default runs/prior_<dataset>."
    )
    flags.DEFINE_integer("batch_size", 128, "Global batch size.")
    flags.DEFINE_integer("epochs", 20, "Epochs to train.")
    flags.DEFINE_float("backbone_lr", 1e-4, "Adam learning rate of the prior network (the paper's 1e-4).")
    flags.DEFINE_enum(
        "verbose", "auto", ["auto", "0", "1", "2"], "Keras fit output: 1 progress bar, 2 a line per epoch."
    )


def prior_config_from_flags():
    return PriorConfig(
        model=model_config_from_flags(),
        data=data_config_from_flags(),
        model_dir=FLAGS.model_dir or os.path.join("runs", f"prior_{FLAGS.dataset}"),
        batch_size=FLAGS.batch_size,
        epochs=FLAGS.epochs,
        learning_rate=FLAGS.backbone_lr,
        seed=FLAGS.seed,
        verbose=FLAGS.verbose if FLAGS.verbose == "auto" else int(FLAGS.verbose),
    )


def write_resolved_flags(model_dir, filename="flags.txt"):
    """Writes every pear_tf flag with its value, as a flagfile that replays the run."""
    os.makedirs(model_dir, exist_ok=True)
    lines = [flag.serialize() for flag in FLAGS.get_flags_for_module(__name__)]
    path = os.path.join(model_dir, filename)
    with open(path, "w") as f:
        f.write("\n".join(line for line in lines if line) + "\n")
    return path
