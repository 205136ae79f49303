"""Your own rated photos: a CSV of image paths with scores or vote counts.

Columns (a header row is required):
- ``path``: the image file, absolute or relative to the CSV's folder.
- either ``score``, a mean score on the scale given by ``--custom_bins`` (default 1..10),
  or vote counts ``votes_<bin>`` for every bin (e.g. ``votes_1`` … ``votes_5``; the bins
  are then read from the header).
- optional: any of the 11 attribute names (``Light``, ``DoF``, …) in [0, 1]; an empty
  cell means unobserved.
- optional ``split``: train, validation or test. Without it the rows are split
  80/10/10 by ``--seed``.

``--data_dir`` is the CSV file, or a folder holding ``ratings.csv``.
"""

import csv
import os

import numpy as np

from pear_tf import errors
from pear_tf.attributes import ATTRIBUTE_NAMES, RatingScale
from pear_tf.data import labels
from pear_tf.data.layout import DataLayoutError

DEFAULT_FILE = "ratings.csv"
SPLIT_NAMES = ("train", "validation", "test")


def csv_path(data_dir):
    path = os.path.join(data_dir, DEFAULT_FILE) if data_dir and os.path.isdir(data_dir) else data_dir
    if not path or not os.path.isfile(path):
        raise DataLayoutError(
            f"--data_dir={data_dir!r}: expected a ratings CSV (or a folder holding {DEFAULT_FILE}) with a 'path' "
            "column and a 'score' column or 'votes_<bin>' columns; see pear_tf/data/custom.py."
        )
    return path


def read_custom(data_dir, bins=tuple(range(1, 11)), seed=0):
    """Reads a ratings CSV into (train, validation, test) splits and its RatingScale."""
    path = csv_path(data_dir)
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            reader = csv.DictReader(f)
            header = reader.fieldnames or []
            rows = list(reader)
    except UnicodeDecodeError:
        raise errors.BadValue(f"--data_dir={data_dir!r}: {path} is not a text CSV (UTF-8).") from None
    vote_columns = [c for c in header if c.startswith("votes_")]
    if "path" not in header or not (vote_columns or "score" in header):
        raise errors.BadValue(
            f"{path}: the header needs 'path' and either 'score' or 'votes_<bin>' columns; got {header}."
        )
    if not rows:
        raise errors.BadValue(f"{path}: no rows.")
    if vote_columns:
        vote_columns.sort(key=lambda c: float(c[len("votes_") :]))
        bins = tuple(float(c[len("votes_") :]) for c in vote_columns)
        distribution = labels.normalise_votes([[float(r[c] or 0) for c in vote_columns] for r in rows])
    else:
        bins = tuple(float(b) for b in bins)
        distribution = labels.score_to_distribution([float(r["score"]) for r in rows], bins)
    scale = RatingScale("custom", bins, (bins[0] + bins[-1]) / 2.0)
    folder = os.path.dirname(os.path.abspath(path))
    paths = np.array([os.path.join(folder, r["path"]) for r in rows])
    present = [a for a in ATTRIBUTE_NAMES if a in header]
    cells = [[(r.get(a) or "").strip() if a in present else "" for a in ATTRIBUTE_NAMES] for r in rows]
    mask = np.array([[float(c != "") for c in row] for row in cells], np.float32)
    attributes = np.array([[float(c) if c else 0.0 for c in row] for row in cells], np.float32)

    if "split" in header:
        names = np.array([r["split"].strip().lower() for r in rows])
        unknown = sorted(set(names) - set(SPLIT_NAMES))
        if unknown:
            raise errors.BadValue(f"{path}: split values must be {SPLIT_NAMES}; found {unknown}.")
    else:
        fraction = np.random.default_rng(seed).permutation(len(rows)) / len(rows)
        names = np.where(fraction < 0.8, "train", np.where(fraction < 0.9, "validation", "test"))
    has_votes = ~np.isnan(distribution).any(axis=1)
    dropped = [(p, "no votes") for p in paths[~has_votes]]

    def split(name):
        index = np.flatnonzero((names == name) & has_votes)
        return {
            "path": paths[index],
            "id": np.array([rows[i]["path"] for i in index]),
            "distribution": distribution[index],
            "attributes": np.clip(attributes[index], 0.0, 1.0),
            "attribute_mask": mask[index],
        }

    return tuple(split(n) for n in SPLIT_NAMES), dropped, scale
