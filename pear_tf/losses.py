"""The terms of PEAR's objective (DESIGN.md §2, the paper's Eq. 2), as pure functions.

Every function returns one value per example: under a distribution strategy the
caller averages over the *global* batch with ``tf.nn.compute_average_loss``.
"""

import tensorflow as tf

# Keeps log p finite where an observed attribute is exactly 0 or 1.
PROB_EPS = 1e-6


def cross_entropy(target_distribution, logits):
    """−Σᵢ yᵢ log ŷᵢ of the normalised rater distribution against softmax(logits)."""
    return -tf.reduce_sum(target_distribution * tf.nn.log_softmax(logits, axis=-1), axis=-1)


def reconstruction_mse(reconstruction, target):
    """Mean squared error over pixels and channels, both images in [0, 1]."""
    return tf.reduce_mean(tf.square(reconstruction - target), axis=[1, 2, 3])


def bernoulli_kl(q_logits, p_probs):
    """KL(Bern(q) ‖ Bern(p)) summed over attributes; q given as logits for stability."""
    p = tf.clip_by_value(p_probs, PROB_EPS, 1.0 - PROB_EPS)
    q = tf.sigmoid(q_logits)
    log_q, log_not_q = tf.math.log_sigmoid(q_logits), tf.math.log_sigmoid(-q_logits)
    kl = q * (log_q - tf.math.log(p)) + (1.0 - q) * (log_not_q - tf.math.log(1.0 - p))
    return tf.reduce_sum(kl, axis=-1)


def gaussian_kl(mu, log_var):
    """KL(N(μ, σ²) ‖ N(0, 1)) = −½ Σⱼ (1 + log σ² − μ² − σ²)."""
    return -0.5 * tf.reduce_sum(1.0 + log_var - tf.square(mu) - tf.exp(log_var), axis=-1)


def prior_probabilities(attributes, attribute_mask, prior_probs):
    """p(z|x) per attribute and example: observed where the mask is 1, else the prior's.

    Args:
      attributes: [B, k] observed attributes in [0, 1] (any value where unobserved).
      attribute_mask: [B, k], 1 where the attribute is observed.
      prior_probs: [B, k] the prior network's output, or a scalar (0.5 without a prior).
    """
    mask = tf.cast(attribute_mask, attributes.dtype)
    return mask * attributes + (1.0 - mask) * prior_probs


def pear_loss(
    target_distribution,
    logits,
    reconstruction,
    reconstruction_target,
    z_logits,
    prior_probs,
    mu,
    log_var,
    lambda_recon=0.1,
    beta=0.1,
):
    """L = CE + λ·MSE + (1+λ)·KL_z + β·KL_s per example (Eq. 2).

    Returns:
      A dict of [B] tensors: ``loss`` (the weighted total) and its unweighted terms
      ``ce``, ``recon``, ``kl_z``, ``kl_s``.
    """
    terms = {
        "ce": cross_entropy(target_distribution, logits),
        "recon": reconstruction_mse(reconstruction, reconstruction_target),
        "kl_z": bernoulli_kl(z_logits, prior_probs),
        "kl_s": gaussian_kl(mu, log_var),
    }
    terms["loss"] = (
        terms["ce"] + lambda_recon * terms["recon"] + (1.0 + lambda_recon) * terms["kl_z"] + beta * terms["kl_s"]
    )
    return terms
