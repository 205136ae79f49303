"""Training PEAR, its baselines and the prior network: the run, the loop, checkpoints, validation."""
