"""Score images with a PEAR .tflite model, as an app on a phone would.

    python -m pear_tf.tflite_score --model=pear_int8.tflite photo.jpg ...

Runs ``ai_edge_litert``'s Interpreter on the documented preprocessing: decode to RGB,
resize to round(S·256/224) square (bilinear, antialiased), centre-crop S×S, float32 0..255.
"""

import numpy as np
from absl import app, flags

from pear_tf.attributes import ATTRIBUTE_NAMES


class TFLiteScorer:
    """A .tflite PEAR model: ``score(image)`` for one preprocessed [S, S, 3] image."""

    def __init__(self, path, num_threads=None):
        from ai_edge_litert.interpreter import Interpreter

        self.interpreter = Interpreter(model_path=path, num_threads=num_threads)
        self.runner = self.interpreter.get_signature_runner()
        details = self.runner.get_input_details()
        self.input_name = next(iter(details))
        self.image_size = int(details[self.input_name]["shape"][1])

    def score(self, image):
        outputs = self.runner(**{self.input_name: np.asarray(image, np.float32)[np.newaxis]})
        return {key: np.asarray(value)[0] for key, value in outputs.items()}


def load_image(path, image_size):
    """The documented preprocessing, via pear_tf's one preprocessing function."""
    from pear_tf.data.preprocessing import decode_image, preprocess

    with open(path, "rb") as f:
        return preprocess(decode_image(f.read()), image_size).numpy()


def main(argv):
    scorer = TFLiteScorer(flags.FLAGS.model)
    for path in argv[1:]:
        try:
            outputs = scorer.score(load_image(path, scorer.image_size))
        except Exception as e:  # noqa: BLE001 - one bad file must not stop the rest
            print(f"{path}: ERROR {type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}")
            continue
        distribution = " ".join(f"{p:.2f}" for p in outputs["distribution"])
        print(f"{path}\n  score {float(outputs['score']):.3f}\n  distribution  {distribution}")
        if "attributes" in outputs:  # a Table 1 baseline has none
            print("  attributes")
            print("\n".join(f"    {n:<17} {v:.2f}" for n, v in zip(ATTRIBUTE_NAMES, outputs["attributes"])))


if __name__ == "__main__":
    flags.DEFINE_string("model", None, "The .tflite file.")
    flags.mark_flag_as_required("model")
    app.run(main)
