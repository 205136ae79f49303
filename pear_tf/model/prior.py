"""The prior network p(z|x): the backbone architecture + Dense → 11 attribute probabilities.

Pre-trained on AADB's attributes (``python -m pear_tf.train_prior``), it supplies p(z|x)
to PEAR where a data set has no attribute labels (AVA), so attribute knowledge reaches
the latent z through KL(q(z|x) ‖ p(z|x)).
"""

import keras
import tensorflow as tf

from pear_tf import losses
from pear_tf.model.backbone import build_backbone


def build_prior_network(config):
    """A keras.Model images [B, S, S, 3] (RGB 0..255) → attribute probabilities [B, k]."""
    inputs = keras.Input((config.image_size, config.image_size, 3), name="images")
    backbone = build_backbone(config.backbone, config.image_size, config.backbone_weights, model_name="prior_backbone")
    probs = keras.layers.Dense(config.num_attributes, activation="sigmoid", name="attribute_probs")(backbone(inputs))
    return keras.Model(inputs, probs, name="prior_network")


def masked_attribute_bce(attributes, attribute_mask, probs):
    """Binary cross-entropy of predicted probabilities against observed (soft) attributes.

    Summed over the observed attributes of each example; [B]. Unobserved ones add nothing.
    """
    p = tf.clip_by_value(probs, losses.PROB_EPS, 1.0 - losses.PROB_EPS)
    bce = -(attributes * tf.math.log(p) + (1.0 - attributes) * tf.math.log(1.0 - p))
    return tf.reduce_sum(tf.cast(attribute_mask, bce.dtype) * bce, axis=-1)


class PriorTrainer(keras.Model):
    """Pre-trains the prior network on observed attributes (masked BCE), global-batch averaged.

    Args:
      prior_network: from build_prior_network.
    """

    def __init__(self, prior_network, **kwargs):
        super().__init__(**kwargs)
        self.prior_network = prior_network
        self.loss_tracker = keras.metrics.Mean(name="loss")

    def call(self, images, training=False):
        return self.prior_network(images, training=training)

    def _loss(self, data, training):
        probs = self(data["image"], training=training)
        return masked_attribute_bce(data["attributes"], data["attribute_mask"], probs)

    def train_step(self, data):
        with tf.GradientTape() as tape:
            per_example = self._loss(data, training=True)
            loss = tf.nn.compute_average_loss(per_example)
        variables = self.prior_network.trainable_variables
        self.optimizer.apply(tape.gradient(loss, variables), variables)
        self.loss_tracker.update_state(per_example)
        return {"loss": self.loss_tracker.result()}

    def test_step(self, data):
        self.loss_tracker.update_state(self._loss(data, training=False))
        return {"loss": self.loss_tracker.result()}

    def predict_step(self, data):
        return self(data["image"] if isinstance(data, dict) else data, training=False)

    @property
    def metrics(self):
        return [self.loss_tracker]
