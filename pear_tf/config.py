"""Small typed configs for the model; built from flags by the CLIs, never from FLAGS here."""

import dataclasses
import json

from pear_tf import attributes


@dataclasses.dataclass(frozen=True)
class ModelConfig:
    """What fixes PEAR's architecture (DESIGN.md §1).

    Attributes:
      backbone: "resnet50" (the paper), "mobilenet_v3_large", "mobilenet_v3_small" or
        "efficientnet_b0" (phone-sized), a modern encoder (ConvNeXt, EfficientNetV2,
        DINOv2, SigLIP, CLIP: pear_tf.model.backbone.BACKBONES), or "tiny" (a small CNN
        for tests and the demo); every other part is shared.
      backbone_weights: None, "imagenet", the path of a local weights file, or (keras-hub
        encoders) a local keras-hub preset directory.
      backbone_config: the encoder's architecture when it is not the named one's published
        shape: the keras-hub tower's arguments, or ConvNeXt's depths and widths,
        EfficientNetV2's width and depth coefficients. Filled from a preset directory
        (backbone.resolve_backbone_config), so a model rebuilt from this config without
        weights has the same variables; tests use it for tiny encoders. None: published.
      image_size: side of the square encoder input (224 in the paper).
      bin_values: the score of each bin of the rating distribution; d = their number
        (AVA 1..10, d=10; AADB 0..5, d=6).
      num_attributes: k, photographic attributes in z.
      content_dim: j, deep content features in s.
      recon_size: side of the reconstructed image (256 in the paper); a power of two
        times 8, since the decoder starts from an 8x8 grid and doubles per layer.
      temperature: of the RelaxedBernoulli sampler for z.
      objective: "pear" (Eq. 2: latents, reconstruction, prior), or a Table 1 baseline
        sharing the backbone: "ce", "nima" or "uiaa" (one Dense layer to the bins).
    """

    backbone: str = "resnet50"
    backbone_weights: str | None = None
    backbone_config: dict | None = None
    image_size: int = 224
    bin_values: tuple = attributes.AVA_SCALE.bin_values
    num_attributes: int = attributes.NUM_ATTRIBUTES
    content_dim: int = 100
    recon_size: int = 256
    temperature: float = 1.0
    objective: str = "pear"

    @property
    def num_bins(self):
        return len(self.bin_values)

    def to_json(self):
        return json.dumps(self.to_json_dict(), indent=2, sort_keys=True)

    def to_json_dict(self):
        """The fields as JSON types (bin_values a list): what ``from_json_dict`` reads back."""
        return {**dataclasses.asdict(self), "bin_values": list(self.bin_values)}

    @classmethod
    def from_json(cls, text):
        return cls.from_json_dict(json.loads(text))

    @classmethod
    def from_json_dict(cls, fields):
        """From the dict of ``to_json`` (as a SavedModel's metadata holds it)."""
        return cls(**{**fields, "bin_values": tuple(fields["bin_values"])})
