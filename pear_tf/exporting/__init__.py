"""Writing a trained model out: SavedModel versions for TF Serving, TFLite for phones."""
