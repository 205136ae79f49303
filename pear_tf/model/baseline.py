"""The Table 1 baselines: PEAR's backbone with one Dense layer to the score distribution.

``ce`` trains it with cross-entropy on the rater distribution, ``nima`` with EMD (r=2),
``uiaa`` with cross-entropy against a Gaussian reshaped from the raters' mean and std
(losses.py). Same backbone, input, optimizers and learning rates as PEAR, so the rows
of the table differ only in what the paper changes.
"""

import dataclasses

import keras
import tensorflow as tf

from pear_tf import errors, losses
from pear_tf.config import ModelConfig
from pear_tf.model.backbone import build_backbone, resolve_backbone_config
from pear_tf.model.heads import AestheticHead
from pear_tf.model.rating_model import RatingModel, encode, model_input


@keras.saving.register_keras_serializable(package="pear_tf")
class DistributionBaseline(RatingModel):
    """Backbone → Dense d → softmax, trained with a baseline loss.

    Args:
      config: a ModelConfig (only backbone, weights, image size and bins are used).
      loss: ``ce``, ``nima`` or ``uiaa``.

    Example:
      model = DistributionBaseline(ModelConfig(backbone="tiny", image_size=64), loss="nima")
      model.build_all()
      model.compile(keras.optimizers.Adam(1e-4), keras.optimizers.Adam(1e-3))
    """

    def __init__(self, config=None, loss="ce", **kwargs):
        super().__init__(**kwargs)
        if loss not in losses.BASELINE_LOSSES:
            raise errors.BadValue(f"--loss={loss!r} is not a baseline: expected one of {losses.BASELINE_LOSSES}.")
        self.config = resolve_backbone_config(config or ModelConfig())
        self.loss_name = loss
        self.backbone = build_backbone(self.config.backbone, self.config.image_size, self.config.backbone_weights,
                                       architecture=self.config.backbone_config)  # fmt: skip
        self.aesthetic_head = AestheticHead(self.config.num_bins, name="aesthetic_head", dtype="float32")
        self.bin_values = tf.constant(self.config.bin_values, tf.float32)

    def get_config(self):
        return {**super().get_config(), "config": self.config.to_json_dict(), "loss": self.loss_name}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        # Every weight comes from the saved file: the backbone's weights source is not read again.
        model_config = dataclasses.replace(ModelConfig.from_json_dict(config.pop("config")), backbone_weights=None)
        return cls(model_config, **config)

    def build_all(self):
        size = self.config.image_size
        self(tf.zeros([1, size, size, 3]))

    def call(self, images, training=False):
        logits = self.aesthetic_head(encode(self.backbone, images, training))
        return {"logits": logits, "distribution": tf.nn.softmax(logits, axis=-1)}

    def loss_terms(self, data, training=False):
        logits = self(model_input(data), training=training)["logits"]
        return {"loss": losses.baseline_loss(self.loss_name, data["distribution"], logits, self.config.bin_values)}

    def score(self, images, mc_samples=0, with_content=False):
        """``score``, ``score_std`` (0: the model is deterministic) and ``distribution``.

        No ``attributes``: a baseline has no photographic latent. ``content`` (with
        ``with_content``) is the backbone's feature vector.
        """
        del mc_samples  # nothing to sample
        features = encode(self.backbone, images)
        distribution = tf.nn.softmax(self.aesthetic_head(features), axis=-1)
        result = {
            "score": tf.linalg.matvec(distribution, self.bin_values),
            "score_std": tf.zeros_like(distribution[:, 0]),
            "distribution": distribution,
        }
        if with_content:
            result["content"] = features
        return result

    def scoring_layers(self):
        return (self.backbone, self.aesthetic_head)
