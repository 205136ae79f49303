"""The prior network p(z|x): the backbone architecture + Dense → 11 attribute probabilities.

Pre-trained on AADB's attributes (``python -m pear_tf.train_prior``), it supplies p(z|x)
to PEAR where a data set has no attribute labels (AVA), so attribute knowledge reaches
the latent z through KL(q(z|x) ‖ p(z|x)).
"""

import keras

from pear_tf import losses
from pear_tf.model.backbone import build_backbone
from pear_tf.model.rating_model import RatingModel


def build_prior_network(config):
    """A keras.Model images [B, S, S, 3] (RGB 0..255) → attribute probabilities [B, k]."""
    inputs = keras.Input((config.image_size, config.image_size, 3), name="images")
    backbone = build_backbone(config.backbone, config.image_size, config.backbone_weights, model_name="prior_backbone",
                              architecture=config.backbone_config)  # fmt: skip
    probs = keras.layers.Dense(config.num_attributes, activation="sigmoid", name="attribute_probs")(backbone(inputs))
    return keras.Model(inputs, probs, name="prior_network")


class PriorTrainer(RatingModel):
    """Pre-trains the prior network on observed attributes (masked BCE) with RatingModel's step.

    The whole network trains at one learning rate (the paper's 1e-4 for backbones): it is
    the "backbone" of the step, and there are no head variables.

    Args:
      prior_network: from build_prior_network.
    """

    LOSS_TERMS = ("loss",)

    def __init__(self, prior_network, **kwargs):
        super().__init__(**kwargs)
        self.prior_network = prior_network
        self.backbone = prior_network

    def call(self, images, training=False):
        return self.prior_network(images, training=training)

    def loss_terms(self, data, training=False):
        probs = self(data["image"], training=training)
        return {"loss": losses.masked_attribute_bce(data["attributes"], data["attribute_mask"], probs)}

    def predict_step(self, data):
        return self(data["image"] if isinstance(data, dict) else data, training=False)
