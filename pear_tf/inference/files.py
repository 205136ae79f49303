"""Scoring files with any scorer that has ``score_bytes``: rows, and error rows for the files that fail.

The SavedModel scorer and the LiteRT one share it, so a bad file reads the same on both:
``could not read: …`` (the filesystem), ``could not decode: …`` (the one decode, or the graph).
"""

import tensorflow as tf

from pear_tf.data.host_decode import ImageError
from pear_tf.errors import op_error_summary


def score_files(scorer, paths, batch_size=16):
    """Rows for many files, scored in batches; a batch with a bad file is redone file by file."""
    rows = []
    for start in range(0, len(paths), batch_size):
        chunk = paths[start : start + batch_size]
        try:
            data = []
            for path in chunk:
                with open(path, "rb") as f:
                    data.append(f.read())
            outputs = scorer.score_bytes(data)
        except (OSError, ImageError, tf.errors.InvalidArgumentError):
            rows.extend(score_file(scorer, path) for path in chunk)
            continue
        rows.extend({"path": p, **{k: v[i].tolist() for k, v in outputs.items()}} for i, p in enumerate(chunk))
    return rows


def score_file(scorer, path):
    """One row: path, score, score_std, distribution, attributes; or path and error."""
    try:
        with open(path, "rb") as f:
            data = f.read()
        outputs = scorer.score_bytes([data])
    except OSError as e:
        return {"path": path, "error": f"could not read: {e.strerror}"}
    except ImageError as e:
        return {"path": path, "error": f"could not decode: {e}"}
    except tf.errors.InvalidArgumentError as e:
        return {"path": path, "error": f"could not decode: {op_error_summary(e.message)}"}
    return {"path": path, **{key: value[0].tolist() for key, value in outputs.items()}}
