"""Tiny members of each modern encoder family, for the tests (keras-hub's own test sizes)."""

import io

import numpy as np

# ModelConfig.backbone_config of a tiny network per family: 32 px inputs, 4×4 patches of 8 px.
TINY_ENCODERS = {
    "convnext_tiny": {"depths": [1, 1, 1, 1], "projection_dims": [8, 16, 24, 32]},
    "efficientnetv2_s": {"width_coefficient": 0.25, "depth_coefficient": 0.1},
    "dinov2_small": {"patch_size": 8, "hidden_dim": 16, "num_layers": 2, "num_heads": 2, "intermediate_dim": 32,
                     "position_embedding_shape": [32, 32, 3]},
    "siglip_base": {"patch_size": 8, "hidden_dim": 16, "num_layers": 2, "num_heads": 2, "intermediate_dim": 32,
                    "intermediate_activation": "gelu_approximate"},
    "clip_vit_b16": {"patch_size": 8, "hidden_dim": 16, "num_layers": 2, "num_heads": 2, "intermediate_dim": 32,
                     "intermediate_activation": "quick_gelu"},
}  # fmt: skip
SIZE = 32


def photographs(size=96):
    """Two real photographs (scikit-learn's china.jpg and flower.jpg), centre squares resized, as JPEG bytes."""
    from PIL import Image
    from sklearn.datasets import load_sample_images

    encoded = []
    for array in load_sample_images().images:
        side = min(array.shape[:2])
        top, left = (array.shape[0] - side) // 2, (array.shape[1] - side) // 2
        image = Image.fromarray(array[top : top + side, left : left + side]).resize((size, size))
        buffer = io.BytesIO()
        image.save(buffer, format="JPEG", quality=92)
        encoded.append(buffer.getvalue())
    return encoded


def random_images(count=2, size=SIZE, seed=0):
    return np.random.default_rng(seed).uniform(0, 255, (count, size, size, 3)).astype(np.float32)
