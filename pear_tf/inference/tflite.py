"""A .tflite PEAR model run by LiteRT's Interpreter, on the documented preprocessing.

The preprocessing an app must match: decode to RGB, resize to round(S·256/224) square
(bilinear, antialiased), centre-crop S×S, float32 0..255.
"""

import numpy as np

from pear_tf.data.preprocessing import decode_image, preprocess


class TFLiteScorer:
    """A .tflite PEAR model: ``score(image)`` for one preprocessed [S, S, 3] image."""

    def __init__(self, path, num_threads=None):
        from ai_edge_litert.interpreter import Interpreter  # the [tflite] extra

        self.interpreter = Interpreter(model_path=path, num_threads=num_threads)
        self.runner = self.interpreter.get_signature_runner()
        details = self.runner.get_input_details()
        self.input_name = next(iter(details))
        self.image_size = int(details[self.input_name]["shape"][1])

    def score(self, image):
        outputs = self.runner(**{self.input_name: np.asarray(image, np.float32)[np.newaxis]})
        return {key: np.asarray(value)[0] for key, value in outputs.items()}


def load_image(path, image_size):
    """A file through the documented preprocessing (pear_tf's one preprocessing function)."""
    with open(path, "rb") as f:
        return preprocess(decode_image(f.read()), image_size).numpy()
