"""PEAR's model, one part of the paper's Fig. 2 per module, and the Table 1 baselines."""

from pear_tf.model.baseline import DistributionBaseline
from pear_tf.model.pear import PEAR

__all__ = ["PEAR", "DistributionBaseline", "build_rating_model"]


def build_rating_model(config, **pear_kwargs):
    """PEAR when ``config.objective`` is "pear" (with ``pear_kwargs``), else the baseline."""
    if config.objective == "pear":
        return PEAR(config, **pear_kwargs)
    return DistributionBaseline(config, loss=config.objective)
