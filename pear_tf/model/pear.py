"""PEAR: backbone → latents (z, s) → aesthetic distribution and reconstruction.

The model owns its training step: the weighted ELBO of Eq. 2, averaged over the
global batch so the same step is right on one device, under MirroredStrategy and
across workers. The backbone and the rest train with separate Adam optimizers
(lr 1e-4 and 1e-3 in the paper).
"""

import dataclasses

import keras
import tensorflow as tf

from pear_tf import losses
from pear_tf.config import ModelConfig
from pear_tf.model import stages
from pear_tf.model.backbone import build_backbone, resolve_backbone_config
from pear_tf.model.heads import AestheticHead, ReconstructionHead
from pear_tf.model.latents import PhotographicLatents, latents_from_noise, scoring_noise
from pear_tf.model.rating_model import RatingModel, encode, model_input

# p(z|x) for attributes that are neither observed nor supplied by a prior network.
UNINFORMATIVE_PRIOR = 0.5


def reconstruction_target(data, size):
    """The encoder's own input view resized to the decoder's size, in [0, 1]; a feature cache stores it."""
    if "recon_target" in data:
        return data["recon_target"]
    return tf.clip_by_value(tf.image.resize(data["image"] / 255.0, [size, size]), 0.0, 1.0)


@keras.saving.register_keras_serializable(package="pear_tf")
class PEAR(RatingModel):
    """The PEAR model.

    Args:
      config: a ModelConfig (backbone, sizes, bins); the paper's ResNet50 setting if None.
      lambda_recon: λ of Eq. 2 (reconstruction weight; KL_z is weighted 1+λ).
      beta: β of Eq. 2 (KL_s weight).
      prior_network: optional model images → [B, k] attribute probabilities, used for
        p(z|x) where an attribute is not observed; without one p is 0.5 there (unless
        the batch carries cached ``prior`` outputs).
      finetune_prior: train the prior network on the observed attributes (masked BCE,
        the ``prior`` term, with the backbone's optimizer). KL_z never trains the prior:
        p(z|x) enters it through stop_gradient, so the prior cannot collapse onto q.
      seed: seed of the latent sampling noise.

    Example:
      model = PEAR(ModelConfig(backbone="tiny", image_size=64, recon_size=32))
      model.build_all()
      model.compile(keras.optimizers.Adam(1e-4), keras.optimizers.Adam(1e-3))
      model.fit(dataset_of_dicts, epochs=1)
    """

    LOSS_TERMS = ("loss", "ce", "recon", "kl_z", "kl_s", "prior")

    def __init__(
        self,
        config=None,
        lambda_recon=0.1,
        beta=0.1,
        prior_network=None,
        finetune_prior=False,
        seed=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        config = resolve_backbone_config(config or ModelConfig())
        self.config = config
        self.lambda_recon = lambda_recon
        self.beta = beta
        self.prior_network = prior_network
        self.finetune_prior = finetune_prior and prior_network is not None
        if prior_network is not None:
            prior_network.trainable = self.finetune_prior
        self.backbone = build_backbone(
            config.backbone, config.image_size, config.backbone_weights, architecture=config.backbone_config
        )
        self.latents = PhotographicLatents(
            config.num_attributes, config.content_dim, config.temperature, seed=seed, name="latents", dtype="float32"
        )
        # float32 under mixed precision too: the distributions and the KLs need the range.
        self.aesthetic_head = AestheticHead(config.num_bins, name="aesthetic_head", dtype="float32")
        self.reconstruction_head = ReconstructionHead(config.recon_size, name="reconstruction_head", dtype="float32")
        self.bin_values = tf.constant(config.bin_values, tf.float32)
        # Training samples the latents (the paper); tests that compare steps exactly turn it off.
        self.sample_in_training = True

    def get_config(self):
        """Everything ``__init__`` takes, the ModelConfig as its JSON dict and the prior network as Keras config."""
        prior = self.prior_network
        return {
            **super().get_config(),
            "config": self.config.to_json_dict(),
            "lambda_recon": self.lambda_recon,
            "beta": self.beta,
            "prior_network": keras.saving.serialize_keras_object(prior) if prior is not None else None,
            "finetune_prior": self.finetune_prior,
            "seed": self.latents.seed,
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        # Every weight comes from the saved file: the backbone's weights source is not read again.
        model_config = dataclasses.replace(ModelConfig.from_json_dict(config.pop("config")), backbone_weights=None)
        prior = config.pop("prior_network", None)
        prior = keras.saving.deserialize_keras_object(prior) if prior is not None else None
        return cls(model_config, prior_network=prior, **config)

    def build_all(self):
        """Creates every variable (heads included) by calling the model once."""
        size = self.config.image_size
        self(tf.zeros([1, size, size, 3]), training=False, reconstruct=True)

    def backbone_variables(self):
        """Variables at the backbone's learning rate: the backbone and a fine-tuned prior."""
        prior = self.prior_network.trainable_variables if self.finetune_prior else []
        return self.backbone.trainable_variables + prior

    def random_state(self):
        return {"latent_seed": self.latents.seed_generator.state}

    def frozen_variables(self):
        """A prior network that is not fine-tuned is frozen (also its BatchNorm statistics)."""
        return self.prior_network.variables if self.prior_network is not None and not self.finetune_prior else []

    def call(self, images, training=False, sample=None, reconstruct=False):
        """Runs PEAR on RGB images in 0..255, [B, S, S, 3], or on the backbone's features [B, F].

        Features (rank 2) are what a feature cache stores (pear_tf.training.feature_cache):
        the rest of the model runs on them unchanged, the backbone is skipped.

        Returns a dict: ``logits`` and ``distribution`` [B, d]; the latent tensors of
        PhotographicLatents; ``reconstruction`` [B, R, R, 3] when ``reconstruct``.
        Latents are sampled when ``sample`` (default: when training), else the means.
        """
        features = encode(self.backbone, images, training)
        outputs = self.latents(features, training=training, sample=sample)
        latent = tf.concat([outputs["z"], outputs["s"]], axis=-1)
        outputs["logits"] = self.aesthetic_head(latent)
        outputs["distribution"] = tf.nn.softmax(outputs["logits"], axis=-1)
        if reconstruct:
            outputs["reconstruction"] = self.reconstruction_head(latent, training=training)
        return outputs

    def prior_probs(self, data):
        """The prior's attribute probabilities: cached in the batch, the prior network's, or 0.5."""
        if "prior" in data:
            return data["prior"]
        if self.prior_network is None:
            return tf.constant(UNINFORMATIVE_PRIOR)
        # Inference-mode BatchNorm: AVA-like batches without attributes must not shift its statistics.
        return self.prior_network(data["image"], training=False)

    def loss_terms(self, data, training=False, sample=None):
        """Per-example terms of Eq. 2 for a batch dict (image, distribution, attributes, attribute_mask).

        Latents are sampled in training (unless ``sample_in_training`` is off) and are
        the deterministic means otherwise, so validation losses compare across epochs.
        """
        if sample is None:
            sample = training and self.sample_in_training
        outputs = self(model_input(data), training=training, sample=sample, reconstruct=True)
        target = reconstruction_target(data, self.config.recon_size)
        prior = self.prior_probs(data)
        p_z = losses.prior_probabilities(data["attributes"], data["attribute_mask"], tf.stop_gradient(prior))
        terms = losses.pear_loss(
            data["distribution"],
            outputs["logits"],
            outputs["reconstruction"],
            target,
            outputs["z_logits"],
            p_z,
            outputs["mu"],
            outputs["log_var"],
            lambda_recon=self.lambda_recon,
            beta=self.beta,
        )
        if self.finetune_prior:
            terms["prior"] = losses.masked_attribute_bce(data["attributes"], data["attribute_mask"], prior)
            terms["loss"] = terms["loss"] + terms["prior"]
        else:
            terms["prior"] = tf.zeros_like(terms["loss"])
        return terms

    def score(self, images, mc_samples=0, with_content=False, with_internals=False):
        """Scores images for evaluation and serving; the same image gives the same outputs, always.

        Args:
          images: [B, S, S, 3] RGB in 0..255, preprocessed (or the backbone's features [B, F];
            then no ``stage_statistics``: with_internals needs images).
          mc_samples: latent samples for ``score_std``; 0 gives a std of 0. The samples
            use fixed noise (latents.scoring_noise), never a random stream, so nothing
            depends on what was scored before or beside an image.
          with_content: also return ``content``, the mean μ of the content latent s.
          with_internals: also return ``stage_statistics`` (model/stages.py: the backbone's
            maps summarised at every resolution) and, with ``mc_samples``,
            ``score_samples`` [B, M] (the mean score of each latent sample): what
            pear_tf.calibration fits and applies.

        Returns:
          A dict: ``score`` [B] the mean of the predicted distribution over the bin
          values, ``score_std`` [B], ``distribution`` [B, d], ``attributes`` [B, k] in [0, 1].
        """
        if with_internals:
            features, statistics = stages.features_and_statistics(self.backbone, images)
        else:
            features = encode(self.backbone, images)
        outputs = self.latents(features, training=False, sample=False)
        distribution = tf.nn.softmax(self.aesthetic_head(tf.concat([outputs["z"], outputs["s"]], axis=-1)), axis=-1)
        result = {
            "score": tf.linalg.matvec(distribution, self.bin_values),
            "score_std": tf.zeros_like(distribution[:, 0]),
            "distribution": distribution,
            "attributes": tf.sigmoid(outputs["z_logits"]),
        }
        if with_content:
            result["content"] = outputs["mu"]
        if with_internals:
            result["stage_statistics"] = statistics
        if mc_samples:
            logistic, normal = scoring_noise(mc_samples, self.config.num_attributes, self.config.content_dim)
            z, s = latents_from_noise(outputs["z_logits"], outputs["mu"], outputs["log_var"], tf.constant(logistic),
                                      tf.constant(normal), self.config.temperature)  # fmt: skip
            sampled = tf.nn.softmax(self.aesthetic_head(tf.concat([z, s], axis=-1)), axis=-1)
            samples = tf.transpose(tf.linalg.matvec(sampled, self.bin_values))  # [B, M]
            # SUB, MUL, MEAN, SQRT rather than reduce_std's SQUARED_DIFFERENCE, which LiteRT's 16x8 runs cannot run.
            centred = samples - tf.reduce_mean(samples, axis=-1, keepdims=True)
            result["score_std"] = tf.sqrt(tf.reduce_mean(centred * centred, axis=-1))
            if with_internals:
                result["score_samples"] = samples
        return result

    def scoring_layers(self):
        """The layers behind ``score``: what a SavedModel keeps."""
        return (self.backbone, self.latents, self.aesthetic_head)
