"""Score image files, folders or list files with an exported SavedModel.

    python -m pear_tf.predict --model=savedmodels/demo photo.jpg more_photos/ --output=scores.csv
    python -m pear_tf.predict --model=savedmodels/demo --list=paths.txt --output=scores.jsonl

Folders are walked recursively. Without ``--output``, each image's score (± its
Monte-Carlo std), rating distribution and 11 attributes are printed; with it, a
progress bar runs and the rows go to a .csv or .jsonl file, sorted by ``--sort``. An
unreadable file becomes an error row, never a crash.
"""

import csv
import json
import os
import sys

import numpy as np
import tensorflow as tf
import tqdm
from absl import app, flags

from pear_tf.attributes import ATTRIBUTE_NAMES
from pear_tf.errors import op_error_summary
from pear_tf.versions import METADATA_FILE, latest_version_dir

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".gif")


class Scorer:
    """The ``serving_default`` signature of a SavedModel (its latest version)."""

    def __init__(self, model_path):
        self.path = latest_version_dir(model_path)
        self.signature = tf.saved_model.load(self.path).signatures["serving_default"]
        with open(os.path.join(self.path, "assets", METADATA_FILE)) as f:
            self.metadata = json.load(f)

    def score_files(self, paths, batch_size=16):
        """Rows for many files, scored in batches; a batch with a bad file is redone file by file."""
        rows = []
        for start in range(0, len(paths), batch_size):
            chunk = paths[start : start + batch_size]
            try:
                data = []
                for path in chunk:
                    with open(path, "rb") as f:
                        data.append(f.read())
                outputs = {k: np.asarray(v) for k, v in self.signature(image_bytes=tf.constant(data)).items()}
            except (OSError, tf.errors.InvalidArgumentError):
                rows.extend(self.score_file(path) for path in chunk)
                continue
            rows.extend({"path": p, **{k: v[i].tolist() for k, v in outputs.items()}} for i, p in enumerate(chunk))
        return rows

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


def read_list(path):
    """Paths from a list file, one per line (blank lines and # comments skipped)."""
    with open(path) as f:
        return [line.strip() for line in f if line.strip() and not line.lstrip().startswith("#")]


def format_row(row, bin_values):
    if "error" in row:
        return f"{row['path']}: ERROR {row['error']}"
    distribution = " ".join(f"{b:g}:{p:.2f}" for b, p in zip(bin_values, row["distribution"]))
    text = f"{row['path']}\n  score {row['score']:.3f} ± {row['score_std']:.3f}\n  distribution  {distribution}"
    if "attributes" not in row:  # a Table 1 baseline has no attribute latent
        return text
    attributes = "\n".join(f"    {name:<17} {value:.2f}" for name, value in zip(ATTRIBUTE_NAMES, row["attributes"]))
    return f"{text}\n  attributes\n{attributes}"


def sort_rows(rows, order):
    """score: best first, errors last; path: alphabetical; none: as given."""
    if order == "score":
        return sorted(rows, key=lambda r: -r.get("score", float("-inf")))
    if order == "path":
        return sorted(rows, key=lambda r: r["path"])
    return list(rows)


def write_rows(rows, output):
    with open(output, "w", newline="") as f:
        if output.endswith(".csv"):
            writer = csv.writer(f)
            writer.writerow(["path", "score", "score_std", "distribution", *ATTRIBUTE_NAMES, "error"])
            for r in rows:
                if "error" in r:
                    writer.writerow([r["path"], "", "", "", *[""] * len(ATTRIBUTE_NAMES), r["error"]])
                else:
                    dist = " ".join(f"{p:.4f}" for p in r["distribution"])
                    attributes = r.get("attributes", [""] * len(ATTRIBUTE_NAMES))  # empty for a baseline
                    writer.writerow([r["path"], r["score"], r["score_std"], dist, *attributes, ""])
        else:
            f.writelines(json.dumps(r) + "\n" for r in rows)


def main(argv):
    cfg = flags.FLAGS
    paths = list(expand_paths(argv[1:] + (read_list(cfg.list) if cfg.list else [])))
    if not paths:
        sys.exit(
            "Give image files, folders or --list to score, "
            "e.g. python -m pear_tf.predict --model=savedmodels/demo a.jpg"
        )
    scorer = Scorer(cfg.model)
    rows = []
    chunks = range(0, len(paths), cfg.batch_size)
    for start in tqdm.tqdm(chunks, unit="batch", disable=not cfg.output or None, desc="Scoring"):
        rows.extend(scorer.score_files(paths[start : start + cfg.batch_size], cfg.batch_size))
    rows = sort_rows(rows, cfg.sort)
    if cfg.output:
        write_rows(rows, cfg.output)
        errors = sum("error" in r for r in rows)
        print(f"Wrote {len(rows)} rows ({errors} unreadable) to {cfg.output}")
    else:
        for row in rows:
            print(format_row(row, scorer.metadata["bin_values"]))


if __name__ == "__main__":
    flags.DEFINE_string("model", "savedmodels/demo", "A SavedModel folder or a model base folder of versions.")
    flags.DEFINE_string("output", None, "A .jsonl or .csv file for the rows (else they are printed).")
    flags.DEFINE_string("list", None, "A file of image paths, one per line.")
    flags.DEFINE_enum("sort", "score", ["score", "path", "none"], "Row order: best score first, by path, or as given.")
    flags.DEFINE_integer("batch_size", 16, "Images per model call.")
    app.run(main)
