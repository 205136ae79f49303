"""Score image files or folders with an exported SavedModel.

    python -m pear_tf.predict --model=savedmodels/demo photo.jpg more_photos/

prints, per image, the score (± its Monte-Carlo std), the rating distribution and the
11 attributes; ``--output=scores.jsonl`` (or .csv) writes them, sorted by score. An
unreadable file is reported as an error row, never a crash.
"""

import csv
import json
import os
import sys

import numpy as np
import tensorflow as tf
from absl import app, flags

from pear_tf.attributes import ATTRIBUTE_NAMES
from pear_tf.export_lib import METADATA_FILE
from pear_tf.versions import latest_version_dir

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".gif")


class Scorer:
    """The ``serving_default`` signature of a SavedModel (its latest version)."""

    def __init__(self, model_path):
        self.path = latest_version_dir(model_path)
        self.signature = tf.saved_model.load(self.path).signatures["serving_default"]
        with open(os.path.join(self.path, "assets", METADATA_FILE)) as f:
            self.metadata = json.load(f)

    def score_file(self, path):
        """One row: path, score, score_std, distribution, attributes; or path and error."""
        try:
            with open(path, "rb") as f:
                data = f.read()
            outputs = self.signature(image_bytes=tf.constant([data]))
        except OSError as e:
            return {"path": path, "error": f"could not read: {e.strerror}"}
        except tf.errors.InvalidArgumentError as e:
            return {"path": path, "error": f"could not decode: {op_error_summary(e.message)}"}
        row = {key: np.asarray(value)[0].tolist() for key, value in outputs.items()}
        return {"path": path, **row}


def op_error_summary(message):
    """The cause line of a TF op error, without the graph-execution preamble and node names."""
    noise = ("Graph execution error", "Detected at node", "<stack traces", "[[", "File ")
    lines = [line.strip() for line in message.splitlines()]
    causes = [line for line in lines if line and not line.startswith(noise)]
    return causes[0] if causes else message.strip()


def expand_paths(paths):
    """Files as given; folders walked recursively for image files, sorted."""
    for path in paths:
        if os.path.isdir(path):
            for root, _, names in sorted(os.walk(path)):
                for name in sorted(names):
                    if name.lower().endswith(IMAGE_SUFFIXES):
                        yield os.path.join(root, name)
        else:
            yield path


def format_row(row, bin_values):
    if "error" in row:
        return f"{row['path']}: ERROR {row['error']}"
    distribution = " ".join(f"{b:g}:{p:.2f}" for b, p in zip(bin_values, row["distribution"]))
    attributes = "\n".join(f"    {name:<17} {value:.2f}" for name, value in zip(ATTRIBUTE_NAMES, row["attributes"]))
    return (
        f"{row['path']}\n  score {row['score']:.3f} ± {row['score_std']:.3f}\n"
        f"  distribution  {distribution}\n  attributes\n{attributes}"
    )


def write_rows(rows, output):
    rows = sorted(rows, key=lambda r: -r.get("score", float("-inf")))
    with open(output, "w", newline="") as f:
        if output.endswith(".csv"):
            writer = csv.writer(f)
            writer.writerow(["path", "score", "score_std", "distribution", *ATTRIBUTE_NAMES, "error"])
            for r in rows:
                if "error" in r:
                    writer.writerow([r["path"], "", "", "", *[""] * len(ATTRIBUTE_NAMES), r["error"]])
                else:
                    dist = " ".join(f"{p:.4f}" for p in r["distribution"])
                    writer.writerow([r["path"], r["score"], r["score_std"], dist, *r["attributes"], ""])
        else:
            f.writelines(json.dumps(r) + "\n" for r in rows)


def main(argv):
    paths = list(expand_paths(argv[1:]))
    if not paths:
        sys.exit("Give image files or folders to score, e.g. python -m pear_tf.predict --model=savedmodels/demo a.jpg")
    scorer = Scorer(flags.FLAGS.model)
    rows = []
    for path in paths:
        rows.append(scorer.score_file(path))
        print(format_row(rows[-1], scorer.metadata["bin_values"]))
    if flags.FLAGS.output:
        write_rows(rows, flags.FLAGS.output)
        print(f"Wrote {len(rows)} rows to {flags.FLAGS.output}")


if __name__ == "__main__":
    flags.DEFINE_string("model", "savedmodels/demo", "A SavedModel folder or a model base folder of versions.")
    flags.DEFINE_string("output", None, "Optional .jsonl or .csv file for the scores, sorted by score.")
    app.run(main)
