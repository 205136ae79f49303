"""Data: the shared preprocessing, the embedded synthetic set, the tf.data pipeline."""
