"""Scoring with an exported model: what predict, explain, tflite_score, evaluate, Beam and serving share.

Nothing here imports training code: a SavedModel or a .tflite file, the TF Serving
folder layout and the export's metadata asset are all it needs.
"""
