"""The latent layer of PEAR: photographic attributes z and content features s.

q(z|x) is a Bernoulli per attribute, sampled through its RelaxedBernoulli relaxation
(temperature 1: z = sigmoid(logit + g), g logistic noise) so gradients flow through the
sample; q(s|x) is a diagonal Normal, sampled as s = μ + σ·ε. Both distributions are
built from tensors inside this layer and never cross a layer boundary.
"""

import keras
import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp
from scipy import special

tfd = tfp.distributions


def _stateless_seed(seed):
    """Keras seeds are int64 pairs; TFP's stateless samplers take int32 pairs."""
    if seed is None:
        return None
    return tf.cast(tf.math.floormod(seed, 2**31 - 1), tf.int32)


def sample_latents(z_logits, mu, log_var, temperature=1.0, seed=None):
    """Draws reparameterised samples z ~ RelaxedBernoulli(logits), s ~ N(μ, σ²).

    Args:
      z_logits: [..., k] logits of q(z|x).
      mu, log_var: [..., j] mean and log variance of q(s|x).
      temperature: RelaxedBernoulli temperature.
      seed: None (stateful random ops) or a [2] integer stateless seed.

    Returns:
      (z, s), with the shapes of z_logits and mu.
    """
    seed = _stateless_seed(seed)
    z_seed, s_seed = (None, None) if seed is None else tf.unstack(tf.random.experimental.stateless_split(seed, 2))
    z = tfd.RelaxedBernoulli(temperature, logits=z_logits).sample(seed=z_seed)
    s = tfd.Normal(loc=mu, scale=tf.exp(0.5 * log_var)).sample(seed=s_seed)
    return z, s


# Seed of the fixed scoring noise: a constant, so every process, path and batch draws the same.
SCORING_NOISE_SEED = 27


def scoring_noise(samples, num_attributes, content_dim, seed=SCORING_NOISE_SEED):
    """Common random numbers for Monte-Carlo scoring: (logistic g [M, k], standard normal ε [M, j]).

    The same noise for every image, every call and every path (it becomes constants of the
    exported graph, so TFLite needs no random op): an image's sampled outputs depend on the
    image alone. Latin hypercube: in every dimension the M draws take one value from each of
    M equal-probability strata, in an order shuffled per dimension, so 16 samples spread like
    many more.
    """
    rng = np.random.default_rng(seed)

    def stratified(dims):
        strata = np.stack([rng.permutation(samples) for _ in range(dims)], axis=1)
        return (strata + rng.uniform(size=(samples, dims))) / samples

    u_z, u_s = stratified(num_attributes), stratified(content_dim)
    return special.logit(u_z).astype(np.float32), special.ndtri(u_s).astype(np.float32)


def latents_from_noise(z_logits, mu, log_var, logistic, normal, temperature=1.0):
    """z = σ((logit + g)/T) (RelaxedBernoulli's reparameterisation) and s = μ + σ·ε, for given noise.

    ``logistic`` [M, k] and ``normal`` [M, j] broadcast against [B, k] / [B, j] inputs taken to
    [M, 1, k] / [M, 1, j]: the result is [M, B, k] and [M, B, j].
    """
    z = tf.sigmoid((z_logits[tf.newaxis] + logistic[:, tf.newaxis]) / temperature)
    s = mu[tf.newaxis] + tf.exp(0.5 * log_var)[tf.newaxis] * normal[:, tf.newaxis]
    return z, s


@keras.saving.register_keras_serializable(package="pear_tf")
class PhotographicLatents(keras.layers.Layer):
    """Encodes backbone features into q(z|x) and q(s|x) and draws z and s.

    Args:
      num_attributes: k, attributes in z (11).
      content_dim: j, content features in s (100).
      temperature: RelaxedBernoulli temperature (1 in the paper).
      seed: seed of the sampling noise during training.

    Call returns a dict: ``z_logits`` [B, k], ``mu`` and ``log_var`` [B, j], and the
    latents ``z`` [B, k], ``s`` [B, j]: samples when ``sample`` is true (default: when
    training), else the deterministic means σ(logits) and μ.
    """

    def __init__(self, num_attributes=11, content_dim=100, temperature=1.0, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.num_attributes = num_attributes
        self.content_dim = content_dim
        self.temperature = temperature
        self.seed = seed
        # Sub-layers take this layer's dtype policy (Keras does not pass it down): float32
        # here stays float32 under mixed precision.
        self.photographic_encoder = keras.layers.Dense(
            num_attributes, name="photographic_encoder", dtype=self.dtype_policy
        )
        self.mu_encoder = keras.layers.Dense(content_dim, name="mu_encoder", dtype=self.dtype_policy)
        # Predicts log σ² rather than σ: unconstrained and stable.
        self.log_var_encoder = keras.layers.Dense(content_dim, name="log_var_encoder", dtype=self.dtype_policy)
        self.seed_generator = keras.random.SeedGenerator(seed, name="latent_seed")

    def build(self, input_shape):
        for encoder in (self.photographic_encoder, self.mu_encoder, self.log_var_encoder):
            encoder.build(input_shape)

    def call(self, features, training=False, sample=None):
        sample = training if sample is None else sample
        z_logits = self.photographic_encoder(features)
        mu = self.mu_encoder(features)
        log_var = self.log_var_encoder(features)
        if sample:
            z, s = sample_latents(z_logits, mu, log_var, self.temperature, self.seed_generator.next())
        else:
            z, s = tf.sigmoid(z_logits), mu
        return {"z_logits": z_logits, "mu": mu, "log_var": log_var, "z": z, "s": s}

    def get_config(self):
        config = super().get_config()
        config.update(
            num_attributes=self.num_attributes,
            content_dim=self.content_dim,
            temperature=self.temperature,
            seed=self.seed,
        )
        return config
