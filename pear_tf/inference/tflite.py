"""A .tflite PEAR model run by LiteRT's Interpreter, on the documented preprocessing.

The preprocessing an app must match: decode to upright RGB (the EXIF orientation applied,
sRGB, transparency on grey 128), resize to round(S·256/224) square
(bilinear, antialiased), centre-crop S×S; then float32 0..255, or the uint8 values
themselves for a file exported with ``--tflite_input=uint8``.

Every file pear_tf exports carries its own metadata (bins, attribute names, image size
and preprocessing, model name and version, training data) as JSON in the flatbuffer's
``metadata`` table under the name ``pear_metadata``: ``metadata.read_tflite_metadata`` reads it
with LiteRT's own flatbuffer schema, no side file.
"""

import os
import time

import numpy as np

from pear_tf import errors
from pear_tf.data import host_decode
from pear_tf.data.preprocessing import preprocess, resize_size
from pear_tf.inference.metadata import read_tflite_metadata


def as_input(image, input_type):
    """A preprocessed image (float 0..255) as the model's input dtype: float32, or uint8 rounded."""
    if input_type == "uint8" or input_type is np.uint8:
        return np.clip(np.round(np.asarray(image, np.float32)), 0, 255).astype(np.uint8)
    return np.asarray(image, np.float32)


class TFLiteScorer:
    """A .tflite PEAR model: ``score(image)`` for one preprocessed [S, S, 3] image.

    Attributes:
      metadata: the file's ``pear_metadata`` dict, or None for a file written before it.
      image_size: side of the input; input_type: "float32" or "uint8".
    """

    def __init__(self, path, num_threads=None):
        from ai_edge_litert.interpreter import Interpreter  # the [tflite] extra

        if not os.path.isfile(path):
            raise errors.NotFound(f"--model={path!r}: no such file (python -m pear_tf.export --tflite writes one).")
        try:
            self.interpreter = Interpreter(model_path=path, num_threads=num_threads)
        except ValueError as e:  # LiteRT's error for a file that is not a model
            raise errors.BadValue(f"--model={path!r} is not a .tflite model: {e}") from None
        self.runner = self.interpreter.get_signature_runner()
        details = self.runner.get_input_details()
        self.input_name = next(iter(details))
        self.image_size = int(details[self.input_name]["shape"][1])
        self.input_type = "uint8" if details[self.input_name]["dtype"] == np.uint8 else "float32"
        self.metadata = read_tflite_metadata(path)

    def score(self, image):
        """Outputs for one image [S, S, 3] (float 0..255; rounded to uint8 for a uint8 model)."""
        outputs = self.runner(**{self.input_name: as_input(image, self.input_type)[np.newaxis]})
        return {key: np.asarray(value)[0] for key, value in outputs.items()}


def invoke_seconds(path, image, repeats=20, num_threads=None):
    """Median seconds of one ``invoke()`` on ``image`` (already the input dtype), after a warm-up.

    The interpreter's inference alone, without the Python call's copies: what TFLite's
    benchmark_model and an app's native call measure.
    """
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_path=path, num_threads=num_threads)
    interpreter.allocate_tensors()
    interpreter.set_tensor(interpreter.get_input_details()[0]["index"], np.asarray(image)[np.newaxis])
    interpreter.invoke()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        interpreter.invoke()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def interleaved_invoke_ms(files, rounds=5, repeats=10, threads=(1, 2)):
    """Median ``invoke()`` ms of several files, side by side: {(key, threads): ms}.

    ``files`` maps a key to (path, input image in the file's dtype). Each round times every
    file once per thread count, so that a noisy machine slows all of them alike.
    """
    times = {(key, count): [] for key in files for count in threads}
    for _ in range(rounds):
        for key, (path, image) in files.items():
            for count in threads:
                times[(key, count)].append(invoke_seconds(path, image, repeats, count))
    return {key: 1000 * float(np.median(values)) for key, values in times.items()}


def xnnpack_partitions(path, num_threads=None):
    """How many partitions of a .tflite file LiteRT's default XNNPACK delegate runs.

    Between partitions, the ops XNNPACK did not take run on LiteRT's own kernels. One
    partition is the fast path; a full-int8 model split into many runs slower than its
    float file (issue 16: each int8 HARD_SWISH split MobileNetV3 once more).
    """
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_path=path, num_threads=num_threads)
    interpreter.allocate_tensors()
    # The only listing of the delegated graph that LiteRT's Python API has.
    return sum(op["op_name"] == "DELEGATE" for op in interpreter._get_ops_details())


def load_image(path, image_size):
    """A file through the one decode and the one preprocessing: float32 [S, S, 3].

    Raises host_decode.ImageError when the file cannot be used, OSError when it cannot be read.
    """
    return preprocess(host_decode.decode_file(path, resize_size(image_size)), image_size).numpy()
