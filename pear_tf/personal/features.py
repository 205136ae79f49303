"""Per-image features of the generic model, computed once: its score, 11 attribute probabilities, content.

The adaptation (pear_tf.personal.adapt), the population (pear_tf.personal.population)
and the protocol (pear_tf.personal.protocol) work on these alone, so fitting a person,
or a thousand trials, costs no further forward pass.
"""

import numpy as np

from pear_tf.errors import BadValue
from pear_tf.inference.rows import score_paths


def image_features(scorer, paths, batch_size=32, progress=False):
    """The generic model's features of image files through its serving signature.

    Args:
      scorer: a pear_tf.inference.saved_model.SavedModelScorer of the generic model.
      paths: image files.
      batch_size: images per model call.
      progress: show a progress bar (for thousands of photos).

    Returns:
      (features, errors): features is a dict with ``path`` [n], ``score`` [n], ``attributes``
      [n, 11] and ``content`` [n, C] (None for a model exported before pear_tf exported
      content) for the files that could be scored; errors lists (path, reason) for the rest.
    """
    outputs = scorer.metadata.get("outputs", [])
    if "attributes" not in outputs:
        raise BadValue(
            f"{scorer.path} has no 'attributes' output (a {scorer.metadata.get('objective')!r} baseline): "
            "personalisation needs a PEAR model."
        )
    rows = score_paths(scorer, list(paths), batch_size, progress)
    good = [r for r in rows if "error" not in r]
    errors = [(r["path"], r["error"]) for r in rows if "error" in r]
    features = {
        "path": np.array([r["path"] for r in good]),
        "score": np.array([r["score"] for r in good], np.float64),
        "attributes": np.array([r["attributes"] for r in good], np.float64).reshape(len(good), -1),
        "content": None,
    }
    if "content" in outputs:
        features["content"] = np.array([r["content"] for r in good], np.float64).reshape(len(good), -1)
    return features, errors


def select(features, index):
    """The features of the photos at ``index`` (paths included when present)."""
    return {key: None if value is None else value[index] for key, value in features.items()}
