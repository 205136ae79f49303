"""One call that opens any model predict and Beam score with: a SavedModel, or a .tflite file (LiteRT)."""

from pear_tf.data.host_decode import MAX_PIXELS
from pear_tf.inference.precision import PrecisionError
from pear_tf.inference.saved_model import SavedModelScorer
from pear_tf.inference.sizing import available_cores
from pear_tf.inference.storage import is_tflite
from pear_tf.inference.tflite_bulk import TFLiteBulkScorer


def open_scorer(model, precision=None, threads=0, max_pixels=MAX_PIXELS):
    """SavedModelScorer or TFLiteBulkScorer of ``model``: both have score_bytes, score_files and metadata.

    Args:
      precision: a SavedModel's (None: as exported; float32, bfloat16, auto: inference/precision.py).
        A .tflite file computes in what it was converted to: asking it for one raises PrecisionError.
      threads: LiteRT's XNNPACK threads (0: every core this process may use). A SavedModel's thread
        pools are TensorFlow's, set before it starts (inference/sizing.py).
    """
    if is_tflite(model):
        if precision is not None:
            raise PrecisionError(
                f"--precision={precision} applies to SavedModels; {model} computes in the precision it was "
                "converted to (int8, float16 or float32): drop --precision."
            )
        return TFLiteBulkScorer(model, num_threads=threads or available_cores(), max_pixels=max_pixels)
    return SavedModelScorer(model, max_pixels, precision)
