"""PEAR: backbone → latents (z, s) → aesthetic distribution and reconstruction.

The model owns its training step: the weighted ELBO of Eq. 2, averaged over the
global batch so the same step is right on one device, under MirroredStrategy and
across workers. The backbone and the rest train with separate Adam optimizers
(lr 1e-4 and 1e-3 in the paper).
"""

import keras
import tensorflow as tf

from pear_tf import losses
from pear_tf.config import ModelConfig
from pear_tf.model.backbone import build_backbone
from pear_tf.model.heads import AestheticHead, ReconstructionHead
from pear_tf.model.latents import PhotographicLatents, sample_latents
from pear_tf.model.prior import masked_attribute_bce

LOSS_TERMS = ("loss", "ce", "recon", "kl_z", "kl_s", "prior")
# p(z|x) for attributes that are neither observed nor supplied by a prior network.
UNINFORMATIVE_PRIOR = 0.5


class PEAR(keras.Model):
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
        config = config or ModelConfig()
        self.config = config
        self.lambda_recon = lambda_recon
        self.beta = beta
        self.prior_network = prior_network
        self.finetune_prior = finetune_prior and prior_network is not None
        if prior_network is not None:
            prior_network.trainable = self.finetune_prior
        self.backbone = build_backbone(config.backbone, config.image_size, config.backbone_weights)
        self.latents = PhotographicLatents(
            config.num_attributes, config.content_dim, config.temperature, seed=seed, name="latents"
        )
        self.aesthetic_head = AestheticHead(config.num_bins, name="aesthetic_head")
        self.reconstruction_head = ReconstructionHead(config.recon_size, name="reconstruction_head")
        self.bin_values = tf.constant(config.bin_values, tf.float32)
        self.trackers = {name: keras.metrics.Mean(name=name) for name in LOSS_TERMS}
        # Training samples the latents (the paper); tests that compare steps exactly turn it off.
        self.sample_in_training = True

    def build_all(self):
        """Creates every variable (heads included) by calling the model once."""
        size = self.config.image_size
        self(tf.zeros([1, size, size, 3]), training=False, reconstruct=True)

    def compile(self, backbone_optimizer, head_optimizer, **kwargs):
        """Compiles with one Adam for the backbone and one for everything else."""
        super().compile(optimizer=head_optimizer, **kwargs)
        self.backbone_optimizer = backbone_optimizer

    def build_optimizers(self):
        """Creates the optimizers' slots now, so a checkpoint can restore them before step 1."""
        self.backbone_optimizer.build(self.backbone_variables())
        self.optimizer.build(self.head_variables())

    def backbone_variables(self):
        """Variables at the backbone's learning rate: the backbone and a fine-tuned prior."""
        prior = self.prior_network.trainable_variables if self.finetune_prior else []
        return self.backbone.trainable_variables + prior

    def head_variables(self):
        """Trainable variables outside the backbone and the prior network."""
        excluded = {id(v) for v in self.backbone.trainable_variables}
        if self.prior_network is not None:
            excluded |= {id(v) for v in self.prior_network.variables}
        return [v for v in self.trainable_variables if id(v) not in excluded]

    def call(self, images, training=False, sample=None, reconstruct=False):
        """Runs PEAR on RGB images in 0..255, [B, S, S, 3].

        Returns a dict: ``logits`` and ``distribution`` [B, d]; the latent tensors of
        PhotographicLatents; ``reconstruction`` [B, R, R, 3] when ``reconstruct``.
        Latents are sampled when ``sample`` (default: when training), else the means.
        """
        features = self.backbone(images, training=training)
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
        """Per-example terms of Eq. 2 for a batch dict (image, distribution, attributes, attribute_mask)."""
        images = data["image"]
        outputs = self(images, training=training, sample=sample, reconstruct=True)
        size = self.config.recon_size
        # The target is the encoder's own input view, resized to the decoder's size.
        target = tf.clip_by_value(tf.image.resize(images / 255.0, [size, size]), 0.0, 1.0)
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
            terms["prior"] = masked_attribute_bce(data["attributes"], data["attribute_mask"], prior)
            terms["loss"] = terms["loss"] + terms["prior"]
        else:
            terms["prior"] = tf.zeros_like(terms["loss"])
        return terms

    def train_step(self, data):
        with tf.GradientTape() as tape:
            terms = self.loss_terms(data, training=True, sample=self.sample_in_training)
            # Averaged over the global batch: gradients are summed across replicas.
            loss = tf.nn.compute_average_loss(terms["loss"])
        backbone_vars = self.backbone_variables()
        head_vars = self.head_variables()
        grads = tape.gradient(loss, backbone_vars + head_vars)
        self.backbone_optimizer.apply(grads[: len(backbone_vars)], backbone_vars)
        self.optimizer.apply(grads[len(backbone_vars) :], head_vars)
        return self._track(terms)

    def test_step(self, data):
        # Deterministic latents: validation losses are comparable from epoch to epoch.
        return self._track(self.loss_terms(data, training=False, sample=False))

    def _track(self, terms):
        for name, tracker in self.trackers.items():
            tracker.update_state(terms[name])
        return {name: tracker.result() for name, tracker in self.trackers.items()}

    @property
    def metrics(self):
        return list(self.trackers.values())

    def score(self, images, mc_samples=0, with_content=False):
        """Scores images for evaluation and serving.

        Args:
          images: [B, S, S, 3] RGB in 0..255, preprocessed.
          mc_samples: latent samples for ``score_std``; 0 gives a std of 0.
          with_content: also return ``content``, the mean μ of the content latent s.

        Returns:
          A dict: ``score`` [B] the mean of the predicted distribution over the bin
          values, ``score_std`` [B], ``distribution`` [B, d], ``attributes`` [B, k] in [0, 1].
        """
        outputs = self(images, training=False, sample=False)
        distribution = outputs["distribution"]
        result = {
            "score": tf.linalg.matvec(distribution, self.bin_values),
            "score_std": tf.zeros_like(distribution[:, 0]),
            "distribution": distribution,
            "attributes": tf.sigmoid(outputs["z_logits"]),
        }
        if with_content:
            result["content"] = outputs["mu"]
        if mc_samples:
            repeat = lambda t: tf.repeat(t[tf.newaxis], mc_samples, axis=0)  # noqa: E731
            z, s = sample_latents(
                repeat(outputs["z_logits"]), repeat(outputs["mu"]), repeat(outputs["log_var"]), self.config.temperature
            )
            sampled = tf.nn.softmax(self.aesthetic_head(tf.concat([z, s], axis=-1)), axis=-1)
            result["score_std"] = tf.math.reduce_std(tf.linalg.matvec(sampled, self.bin_values), axis=0)
        return result

    def predict_step(self, data):
        images = data["image"] if isinstance(data, dict) else data
        return self.score(images)
