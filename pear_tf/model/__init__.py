"""PEAR's model, one part of the paper's Fig. 2 per module."""

from pear_tf.model.pear import PEAR

__all__ = ["PEAR"]
