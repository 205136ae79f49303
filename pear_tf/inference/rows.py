"""Scoring many files into rows, and the rows as text, CSV or JSON lines."""

import csv
import json
import os

import tqdm

from pear_tf import errors
from pear_tf.attributes import ATTRIBUTE_NAMES

# Outputs of calibrated exports (pear_tf/calibration); older SavedModels lack them. CSV columns after ``error``.
CALIBRATED_COLUMNS = ("calibrated_score", "ood_score", "is_photo_like")


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
    text = f"{row['path']}\n  {score_line(row)}\n  distribution  {distribution}"
    if "attributes" not in row:  # a Table 1 baseline has no attribute latent
        return text
    attributes = "\n".join(f"    {name:<17} {value:.2f}" for name, value in zip(ATTRIBUTE_NAMES, row["attributes"]))
    return f"{text}\n  attributes\n{attributes}"


def score_line(row):
    """``score 5.412  calibrated 6.83 ± 0.91  photo-like`` (what the model has; older models: score ± std)."""
    if "calibrated_score" not in row:
        return f"score {row['score']:.3f} ± {row['score_std']:.3f}"
    text = f"score {row['score']:.3f}  calibrated {row['calibrated_score']:.2f} ± {row['score_std']:.2f}"
    if "is_photo_like" in row:
        text += "  photo-like" if row["is_photo_like"] else f"  NOT PHOTO-LIKE (ood_score {row['ood_score']:.1f})"
    return text


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
    rows = list(rows)
    with open(output, "w", newline="") as f:
        if output.endswith(".csv"):
            writer = csv.writer(f)
            # Only the calibrated outputs the model has: an older model's CSV is as it always was.
            extra = [key for key in CALIBRATED_COLUMNS if any(key in r for r in rows)]
            writer.writerow(["path", "score", "score_std", "distribution", *ATTRIBUTE_NAMES, "error", *extra])
            for r in rows:
                calibrated = [r.get(key, "") for key in extra]  # empty in an error row
                if "error" in r:
                    writer.writerow([r["path"], "", "", "", *[""] * len(ATTRIBUTE_NAMES), r["error"], *calibrated])
                else:
                    dist = " ".join(f"{p:.4f}" for p in r["distribution"])
                    attributes = r.get("attributes", [""] * len(ATTRIBUTE_NAMES))  # empty for a baseline
                    writer.writerow([r["path"], r["score"], r["score_std"], dist, *attributes, "", *calibrated])
        else:
            f.writelines(json.dumps(r) + "\n" for r in rows)
