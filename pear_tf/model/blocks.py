"""An encoder's blocks, in order, so that fine-tuning can train the last N alone (--unfreeze_blocks).

A block is a transformer layer (DINOv2, SigLIP, CLIP), a ConvNeXt block
(``stage_S_block_B``), an EfficientNet/MobileNetV3 inverted-residual block (``block6o``,
``expanded_conv_N``), a ResNet50 bottleneck block (``conv5_block3``) or a tiny conv block.
Layers before the first block are the stem; layers between blocks (ConvNeXt's
downsampling) belong to the block after them; layers after the last block (final norms,
pooling, SigLIP's attention-pooling head) are the tail, trained whenever any block is.
"""

import re

import keras

from pear_tf.errors import SettingsError

# The name of a block in a keras.applications layer name (the first group), per family.
_BLOCK_NAMES = (
    re.compile(r"^(.*_stage_\d+_block_\d+)_"),  # ConvNeXt
    re.compile(r"^(conv\d+_block\d+)_"),  # ResNet50
    re.compile(r"^(block\d+[a-z]+)_"),  # EfficientNet B0, V2
    re.compile(r"^(expanded_conv(?:_\d+)?)_"),  # MobileNetV3
    re.compile(r"^(?:conv|bn|relu)(\d+)$"),  # tiny
)


def _is_tower(layer):
    """A keras-hub image tower (its blocks are attributes, not functional layers)."""
    return hasattr(layer, "encoder_layers") or (hasattr(layer, "encoder") and hasattr(layer, "embeddings"))


def _leaf_layers(model):
    """The layers of a backbone, nested functional models flattened, keras-hub towers kept whole."""
    layers = []
    for layer in model.layers:
        if isinstance(layer, keras.Model) and not _is_tower(layer):
            layers.extend(_leaf_layers(layer))
        else:
            layers.append(layer)
    return layers


def _tower_parts(tower):
    """(stem, blocks, tail) of a keras-hub image tower."""
    if hasattr(tower, "encoder"):  # DINOv2: one encoder layer holding its blocks
        return [tower.embeddings], [[block] for block in tower.encoder.layers], [tower.layernorm]
    stem = [tower.embedding] + ([tower.pre_layer_norm] if hasattr(tower, "pre_layer_norm") else [])
    tail = [getattr(tower, name) for name in ("post_layer_norm", "layer_norm", "head") if hasattr(tower, name)]
    return stem, [[block] for block in tower.encoder_layers], tail


def encoder_parts(backbone):
    """(stem, blocks, tail): lists of layers; ``blocks`` is a list of blocks, each a list of layers."""
    stem, blocks, current, pending = [], [], None, []
    for layer in _leaf_layers(backbone):
        if _is_tower(layer):
            tower_stem, tower_blocks, tower_tail = _tower_parts(layer)
            stem, blocks, pending = stem + pending + tower_stem, blocks + tower_blocks, tower_tail
            continue
        name = next((m.group(1) for m in (p.match(layer.name) for p in _BLOCK_NAMES) if m), None)
        if name is None:
            pending.append(layer)
        elif name == current:
            blocks[-1].append(layer)
        else:
            if not blocks:
                stem, pending = stem + pending, []
            blocks.append(pending + [layer])
            current, pending = name, []
    return stem, blocks, pending


def unfreeze_last_blocks(backbone, count):
    """Makes the last ``count`` blocks and the tail trainable, everything else of the backbone frozen.

    Returns the number of blocks the backbone has. BatchNorm layers stay frozen, in the
    thawed blocks too (Keras runs a frozen BatchNorm in inference mode): fine-tuning then
    changes no normalisation statistic, so the features move only as the weights do (the
    heads trained on the cached features do not see them jump to batch statistics).
    """
    stem, blocks, tail = encoder_parts(backbone)
    if not 0 < count <= len(blocks):
        raise SettingsError(f"--unfreeze_blocks={count}: {backbone.name} has {len(blocks)} blocks (1..{len(blocks)}).")
    backbone.trainable = True
    thawed = {id(layer) for block in blocks[len(blocks) - count :] for layer in block} | {id(layer) for layer in tail}
    for layer in stem + [layer for block in blocks for layer in block] + tail:
        if id(layer) not in thawed or isinstance(layer, keras.layers.BatchNormalization):
            layer.trainable = False
    return len(blocks)
