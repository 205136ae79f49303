"""Scoring many files into rows, and the rows as text, CSV or JSON lines."""

import csv
import json
import os

import tqdm

from pear_tf import errors
from pear_tf.attributes import ATTRIBUTE_NAMES


def score_paths(scorer, paths, batch_size=16, progress=False):
    """Rows of every path (an unreadable file gives a row with ``error``), with a progress bar if asked."""
    rows = []
    chunks = range(0, len(paths), batch_size)
    for start in tqdm.tqdm(chunks, unit="batch", disable=not progress or None, desc="Scoring"):
        rows.extend(scorer.score_files(paths[start : start + batch_size], batch_size))
    return rows


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


def prepare_output(output):
    """Creates ``output``'s folder, before any scoring; errors.BadValue when it cannot be written there."""
    folder = os.path.dirname(os.path.abspath(output))
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError as e:
        raise errors.BadValue(f"--output={output!r}: cannot create its folder ({e.strerror}).") from None
    if os.path.isdir(output) or not os.access(folder, os.W_OK):
        raise errors.BadValue(f"--output={output!r} cannot be written: give a .csv or .jsonl file in your folder.")


def write_rows(rows, output):
    """Writes rows to a .csv (one column per attribute) or, for any other name, JSON lines."""
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
