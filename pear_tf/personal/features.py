"""Per-image features of the generic model, computed once: its score and 11 attribute probabilities.

The adaptation (pear_tf.personal.adapt) and the protocol (pear_tf.personal.protocol) work
on these alone, so fitting a person, or a thousand trials, costs no further forward pass.
"""

import numpy as np

from pear_tf.errors import BadValue


def image_features(scorer, paths, batch_size=32):
    """The generic model's features of image files through its serving signature.

    Args:
      scorer: a pear_tf.inference.saved_model.SavedModelScorer of the generic model.
      paths: image files.
      batch_size: images per model call.

    Returns:
      (features, errors): features is a dict with ``path`` [n], ``score`` [n], ``attributes``
      [n, 11] for the files that could be scored; errors lists (path, reason) for the rest.
    """
    if "attributes" not in scorer.metadata.get("outputs", []):
        raise BadValue(
            f"{scorer.path} has no 'attributes' output (a {scorer.metadata.get('objective')!r} baseline): "
            "personalisation needs a PEAR model."
        )
    rows = scorer.score_files(list(paths), batch_size)
    good = [r for r in rows if "error" not in r]
    errors = [(r["path"], r["error"]) for r in rows if "error" in r]
    features = {
        "path": np.array([r["path"] for r in good]),
        "score": np.array([r["score"] for r in good], np.float64),
        "attributes": np.array([r["attributes"] for r in good], np.float64).reshape(len(good), -1),
    }
    return features, errors
