"""Scores people can act on: the raters' scale, an uncertainty that predicts error, an out-of-distribution flag.

Fitted after training on what a user has (the validation split's ratings, the training split's
photos) and applied inside the exported graph, so every path gives the same numbers:
monotone.py (the score → raters' scale map), uncertainty.py (which spread becomes
``score_std``), density.py (the photo-likeness of the backbone's
stage statistics), fit.py (running the
model over the splits), graph.py (the maps as TFLite-builtin TensorFlow ops).
"""
