"""PEAR's two decoders from [z, s]: the aesthetic distribution and the image."""

import math

import keras

from pear_tf import errors

# Channels of the paper's five transposed convolutions after the 8x8x128 grid.
RECONSTRUCTION_CHANNELS = (64, 32, 16, 8, 3)


@keras.saving.register_keras_serializable(package="pear_tf")
class AestheticHead(keras.layers.Layer):
    """Dense k+j → d: the logits of the rater score distribution (softmax is the caller's)."""

    def __init__(self, num_bins, **kwargs):
        super().__init__(**kwargs)
        self.num_bins = num_bins
        # Sub-layers take this layer's dtype policy, which Keras does not pass down.
        self.dense = keras.layers.Dense(num_bins, name="aesthetic_logits", dtype=self.dtype_policy)

    def build(self, input_shape):
        self.dense.build(input_shape)

    def call(self, latents):
        return self.dense(latents)

    def get_config(self):
        return {**super().get_config(), "num_bins": self.num_bins}


@keras.saving.register_keras_serializable(package="pear_tf")
class ReconstructionHead(keras.layers.Layer):
    """Dense → 8x8x128 → transposed convolutions (kernel 4, stride 2) → RGB in [0, 1].

    At the paper's 256 px there are five layers with 64, 32, 16, 8, 3 channels; a
    smaller ``recon_size`` (the demo's) keeps the first channels and the final RGB layer.
    BatchNorm+ReLU follow each layer but the last, which is a sigmoid.
    """

    def __init__(self, recon_size=256, **kwargs):
        super().__init__(**kwargs)
        num_layers = math.log2(recon_size / 8)
        if recon_size < 16 or num_layers != int(num_layers) or num_layers > len(RECONSTRUCTION_CHANNELS):
            raise errors.BadValue(f"recon_size must be 8·2^n between 16 and 256, got {recon_size}.")
        self.recon_size = recon_size
        channels = RECONSTRUCTION_CHANNELS[: int(num_layers) - 1] + (3,)
        # Sub-layers take this layer's dtype policy, which Keras does not pass down.
        self.project = keras.layers.Dense(8 * 8 * 128, name="project", dtype=self.dtype_policy)
        self.reshape = keras.layers.Reshape((8, 8, 128), dtype=self.dtype_policy)
        # One attribute per sub-layer, not a list: tf.train.Checkpoint does not track Keras
        # layers held in a Python list, so model-only checkpoints (the best epoch, export,
        # warm start) would miss them.
        self.num_deconvs = len(channels)
        for i, filters in enumerate(channels):
            last = i == len(channels) - 1
            setattr(self, f"deconv{i}", keras.layers.Conv2DTranspose(
                filters,
                4,
                strides=2,
                padding="same",
                activation="sigmoid" if last else None,
                name=f"deconv{i}",
                dtype=self.dtype_policy,
            ))  # fmt: skip
            if not last:
                setattr(self, f"bn{i}", keras.layers.BatchNormalization(
                    synchronized=True, name=f"bn{i}", dtype=self.dtype_policy
                ))  # fmt: skip

    @property
    def deconvs(self):
        return [getattr(self, f"deconv{i}") for i in range(self.num_deconvs)]

    @property
    def norms(self):
        return [getattr(self, f"bn{i}") for i in range(self.num_deconvs - 1)]

    def build(self, input_shape):
        self.project.build(input_shape)
        shape = (input_shape[0], 8, 8, 128)
        for i, deconv in enumerate(self.deconvs):
            deconv.build(shape)
            shape = deconv.compute_output_shape(shape)
            if i < len(self.norms):
                self.norms[i].build(shape)

    def call(self, latents, training=False):
        x = self.reshape(self.project(latents))
        for i, deconv in enumerate(self.deconvs):
            x = deconv(x)
            if i < len(self.norms):
                x = keras.activations.relu(self.norms[i](x, training=training))
        return x

    def get_config(self):
        return {**super().get_config(), "recon_size": self.recon_size}
