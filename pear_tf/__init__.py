"""pear_tf: PEAR (Photographic Embedding for Aesthetic Rating) in TensorFlow/Keras."""

__version__ = "0.1.0"
