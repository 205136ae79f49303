"""The terms of PEAR's objective (DESIGN.md §2, the paper's Eq. 2), as pure functions.

Every function returns one value per example: under a distribution strategy the
caller averages over the *global* batch with ``tf.nn.compute_average_loss``.
"""

import tensorflow as tf

from pear_tf import errors

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


# Baselines of the paper's Table 1, sharing PEAR's backbone: a distribution from one
# Dense layer, trained with one of these losses per example.


def emd_loss(target_distribution, logits, r=2):
    """NIMA's loss: EMD_r between the rater distribution and softmax(logits), per example.

    ((1/d) Σₖ |CDF_y(k) − CDF_ŷ(k)|^r)^(1/r), the metric of DESIGN.md §3 (NIMA trains
    with r=2). The root is taken with a small offset so its gradient stays finite when
    the two distributions agree exactly.
    """
    predicted = tf.nn.softmax(logits, axis=-1)
    cdf_gap = tf.cumsum(target_distribution, axis=-1) - tf.cumsum(predicted, axis=-1)
    return tf.pow(tf.reduce_mean(tf.pow(tf.abs(cdf_gap), r), axis=-1) + 1e-12, 1.0 / r)


# The smallest std of a Gaussian-reshaped target, in bins: a rater distribution with
# all votes in one bin would otherwise give a degenerate (zero-width) Gaussian.
MIN_TARGET_STD = 0.5


def gaussian_target(target_distribution, bin_values):
    """UIAA's reshaped label: N(mean, std²) of the rater scores, discretised on the bins.

    Mean and std are those of the rater distribution over ``bin_values``; the std is
    floored at MIN_TARGET_STD bin widths; the density at each bin value is normalised
    to sum to 1.
    """
    values = tf.constant(bin_values, target_distribution.dtype)
    mean = tf.linalg.matvec(target_distribution, values)[:, tf.newaxis]
    variance = tf.linalg.matvec(target_distribution, tf.square(values))[:, tf.newaxis] - tf.square(mean)
    width = (values[-1] - values[0]) / (len(bin_values) - 1)
    std = tf.maximum(tf.sqrt(tf.maximum(variance, 0.0)), MIN_TARGET_STD * width)
    log_density = -0.5 * tf.square((values - mean) / std)
    return tf.nn.softmax(log_density, axis=-1)


def baseline_loss(name, target_distribution, logits, bin_values):
    """Per-example loss of a Table 1 baseline: ``ce``, ``nima`` (EMD r=2) or ``uiaa``."""
    if name == "ce":
        return cross_entropy(target_distribution, logits)
    if name == "nima":
        return emd_loss(target_distribution, logits, r=2)
    if name == "uiaa":
        return cross_entropy(gaussian_target(target_distribution, bin_values), logits)
    raise errors.BadValue(f"Unknown baseline loss {name!r}: expected one of {BASELINE_LOSSES}.")


BASELINE_LOSSES = ("ce", "nima", "uiaa")


def masked_attribute_bce(attributes, attribute_mask, probs):
    """Binary cross-entropy of predicted probabilities against observed (soft) attributes.

    Summed over the observed attributes of each example; [B]. Unobserved ones add nothing.
    """
    p = tf.clip_by_value(probs, PROB_EPS, 1.0 - PROB_EPS)
    bce = -(attributes * tf.math.log(p) + (1.0 - attributes) * tf.math.log(1.0 - p))
    return tf.reduce_sum(tf.cast(attribute_mask, bce.dtype) * bce, axis=-1)
