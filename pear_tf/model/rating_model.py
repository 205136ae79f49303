"""What PEAR and the Table 1 baselines share: a backbone at its own learning rate.

A RatingModel owns its training step. Subclasses define ``loss_terms`` (per-example
terms, one of them ``loss``) and ``LOSS_TERMS``; the step averages ``loss`` over the
*global* batch, so the same step is right on one device, under MirroredStrategy and
across workers, and applies one Adam to the backbone and another to the rest.
"""

import keras
import tensorflow as tf

from pear_tf import errors
from pear_tf.model.blocks import unfreeze_last_blocks

# What fine-tuning trains (--trainable): everything, or the parts after the backbone.
TRAINABLE = ("all", "latents_and_heads", "heads")


def model_input(data):
    """A batch's model input: cached backbone ``features`` [B, F] if it has them, else ``image``."""
    return data["features"] if "features" in data else data["image"]


def encode(backbone, inputs, training=False):
    """The backbone's features of images [B, S, S, 3]; features [B, F] (a feature cache) pass through."""
    if len(inputs.shape) == 2:
        return tf.cast(inputs, tf.float32)
    return backbone(inputs, training=training)


class RatingModel(keras.Model):
    """Base class: two optimizers, the shared train/test step and loss trackers.

    Subclasses set ``self.backbone`` and ``self.config`` and implement ``loss_terms``,
    ``score`` and ``scoring_layers``.
    """

    LOSS_TERMS = ("loss",)

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.trackers = {name: keras.metrics.Mean(name=name) for name in self.LOSS_TERMS}

    def compile(self, backbone_optimizer, head_optimizer, **kwargs):
        """Compiles with one optimizer for the backbone and one for everything else."""
        super().compile(optimizer=head_optimizer, **kwargs)
        self.backbone_optimizer = backbone_optimizer

    # Keras's native format (model.save("x.keras"), keras.models.load_model): variables come from
    # build_all (every head, not one call's input shapes), and compile takes two optimizers.
    def get_build_config(self):
        return {"build_all": True} if self.built else None

    def build_from_config(self, config):
        if config:
            self.build_all()

    def get_compile_config(self):
        config = super().get_compile_config()
        if config:
            config["backbone_optimizer"] = keras.saving.serialize_keras_object(self.backbone_optimizer)
        return config

    def compile_from_config(self, config):
        config = keras.saving.deserialize_keras_object(config)
        self.compile(config.pop("backbone_optimizer"), config.pop("optimizer"), **config)
        if self.built:
            self.build_optimizers()  # their slots exist before the file's values are loaded into them

    def build_all(self):
        """Creates every variable by calling the model once."""
        raise NotImplementedError

    def build_optimizers(self, backbone_variables=None):
        """Creates the optimizers' slots now, so a checkpoint can restore them before step 1.

        ``backbone_variables``: what the backbone's optimizer will train (default: what
        is trainable now); a feature-cache run builds it for the variables its later
        image epochs unfreeze, so its checkpoints have one structure throughout.
        """
        self.backbone_optimizer.build(self.backbone_variables() if backbone_variables is None else backbone_variables)
        self.optimizer.build(self.head_variables())

    def set_trainable(self, trainable, unfreeze_blocks=0):
        """Freezes the backbone (``latents_and_heads``) or the backbone and the latents (``heads``).

        With ``trainable="all"``, ``unfreeze_blocks`` N > 0 trains only the backbone's last N
        blocks (and the norms and pooling after them; see pear_tf.model.blocks).
        Call before building the optimizers: they take the trainable variables left. A frozen
        backbone also keeps its BatchNorm statistics (Keras runs frozen BatchNorm in
        inference mode), as fine-tuning on a few hundred photos wants.
        """
        if trainable not in TRAINABLE:
            raise errors.BadValue(f"--trainable={trainable!r} is not one of {TRAINABLE}.")
        self.backbone.trainable = trainable == "all"
        if trainable == "all" and unfreeze_blocks:
            unfreeze_last_blocks(self.backbone, unfreeze_blocks)
        if getattr(self, "latents", None) is not None:  # the baselines have none
            self.latents.trainable = trainable != "heads"

    def backbone_variables(self):
        """Variables trained at the backbone's learning rate."""
        return self.backbone.trainable_variables

    def head_variables(self):
        """Trainable variables not trained at the backbone's rate."""
        excluded = {id(v) for v in self.backbone_variables()} | {id(v) for v in self.frozen_variables()}
        return [v for v in self.trainable_variables if id(v) not in excluded]

    def frozen_variables(self):
        """Variables that neither optimizer may touch (none by default)."""
        return []

    def random_state(self):
        """Variables of the model's random streams, to checkpoint (none by default).

        With them a resumed run draws exactly the noise the uninterrupted run would have.
        """
        return {}

    def loss_terms(self, data, training=False):
        raise NotImplementedError

    def update(self, data):
        """One optimisation step on this replica's batch: the train step of every trainer.

        Returns every loss term averaged over the *global* batch, so summing the
        replicas' values (``strategy.reduce(SUM, ...)``) gives the batch's mean.
        """
        with tf.GradientTape() as tape:
            terms = self.loss_terms(data, training=True)
            # Averaged over the global batch: gradients are summed across replicas.
            loss = tf.nn.compute_average_loss(terms["loss"])
        backbone_vars = self.backbone_variables()
        head_vars = self.head_variables()
        grads = tape.gradient(loss, backbone_vars + head_vars)
        # Either side may be empty: the prior network trains as one "backbone"; a frozen
        # backbone (--trainable) leaves only heads.
        if backbone_vars:
            self.backbone_optimizer.apply(grads[: len(backbone_vars)], backbone_vars)
        if head_vars:
            self.optimizer.apply(grads[len(backbone_vars) :], head_vars)
        return {name: tf.nn.compute_average_loss(terms[name]) for name in self.LOSS_TERMS}

    def train_step(self, data):
        """Keras ``fit``'s step: ``update``, then the epoch's running means."""
        values = self.update(data)
        for name, tracker in self.trackers.items():
            tracker.update_state(values[name])
        return {name: tracker.result() for name, tracker in self.trackers.items()}

    def test_step(self, data):
        terms = self.loss_terms(data, training=False)
        for name, tracker in self.trackers.items():
            tracker.update_state(terms[name])
        return {name: tracker.result() for name, tracker in self.trackers.items()}

    @property
    def metrics(self):
        return list(self.trackers.values())

    def predict_step(self, data):
        images = model_input(data) if isinstance(data, dict) else data
        return self.score(images)
